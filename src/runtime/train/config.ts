/**
 * Training configuration: RunnerV3's defaults (NNDL 5.4: SGD, lr 0.005, batch 64, 5 epochs, log and evaluate
 * every 15 steps) plus the extras (momentum, Adam, weight decay, learning-rate schedules), and the pure
 * functions that decide the cadence, so that tests can check them without training anything.
 */

/** Optimizers with PyTorch's update rules: `sgd` (plain), `momentum` (torch.optim.SGD with momentum), `adam`. */
export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

/** The optimizer kinds, in the order the CLI lists them. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'];

/**
 * How the learning rate changes: `constant`; `step` multiplies it by `gamma` every `stepEpochs` epochs
 * (torch's StepLR stepped once per epoch); `cosine` anneals it per step from `lr` at step 0 to `minLr` at the
 * last step (torch's CosineAnnealingLR with T_max = total steps - 1, stepped once per step).
 */
export type LrSchedule =
  | { readonly kind: 'constant' }
  | { readonly kind: 'step'; readonly stepEpochs: number; readonly gamma: number }
  | { readonly kind: 'cosine'; readonly minLr: number };

/** The schedule kinds, in the order the CLI lists them. */
export const SCHEDULE_KINDS: readonly LrSchedule['kind'][] = ['constant', 'step', 'cosine'];

/** Everything that determines a training run's arithmetic (given the data and the network). */
export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  /** The base learning rate. */
  readonly lr: number;
  readonly optimizer: OptimizerKind;
  /** Momentum factor of the `momentum` optimizer (ignored by the others). */
  readonly momentum: number;
  /** L2 penalty added to every trainable parameter's gradient (PyTorch's coupled `weight_decay`). */
  readonly weightDecay: number;
  readonly schedule: LrSchedule;
  /** Seeds the shuffling generator (and, through the caller, the initial weights). */
  readonly seed: number;
  /** Log the training loss when `globalStep % logSteps == 0`; 0 never logs. */
  readonly logSteps: number;
  /** Evaluate on dev when `globalStep % evalSteps == 0` (and at the last step); 0 never evaluates. */
  readonly evalSteps: number;
}

/** Adam's constants: PyTorch's defaults (tfjs's own epsilon default, 1e-7, differs). */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** RunnerV3's settings from NNDL 5.4, with seed 0. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 5,
  batchSize: 64,
  lr: 0.005,
  optimizer: 'sgd',
  momentum: 0.9,
  weightDecay: 0,
  schedule: { kind: 'constant' },
  seed: 0,
  logSteps: 15,
  evalSteps: 15,
};

/** The problems of a config, one sentence each (empty when valid). */
export function validateTrainConfig(config: TrainConfig): string[] {
  const problems: string[] = [];
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v <= 0) problems.push(`${name} must be a positive integer, not ${v}`);
  };
  const nonNegativeInt = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 0) problems.push(`${name} must be a non-negative integer, not ${v}`);
  };
  const finiteNonNegative = (name: string, v: number): void => {
    if (!Number.isFinite(v) || v < 0) problems.push(`${name} must be a finite number >= 0, not ${v}`);
  };
  positiveInt('epochs', config.epochs);
  positiveInt('batch size', config.batchSize);
  if (!Number.isFinite(config.lr) || config.lr <= 0)
    problems.push(`learning rate must be a finite number > 0, not ${config.lr}`);
  if (!Number.isFinite(config.momentum) || config.momentum < 0 || config.momentum >= 1)
    problems.push(`momentum must be in [0, 1), not ${config.momentum}`);
  finiteNonNegative('weight decay', config.weightDecay);
  if (!Number.isSafeInteger(config.seed)) problems.push(`seed must be an integer, not ${config.seed}`);
  nonNegativeInt('log steps', config.logSteps);
  nonNegativeInt('eval steps', config.evalSteps);
  const s = config.schedule;
  if (s.kind === 'step') {
    positiveInt('the schedule step (epochs)', s.stepEpochs);
    if (!Number.isFinite(s.gamma) || s.gamma <= 0)
      problems.push(`the schedule gamma must be a finite number > 0, not ${s.gamma}`);
  } else if (s.kind === 'cosine') {
    if (!Number.isFinite(s.minLr) || s.minLr < 0 || s.minLr > config.lr)
      problems.push(`the minimum learning rate must be in [0, lr], not ${s.minLr}`);
  }
  return problems;
}

/** Steps in one epoch: ceil(examples / batch size); the last batch may be short (RunnerV3 keeps it). */
export function stepsPerEpoch(examples: number, batchSize: number): number {
  return Math.ceil(examples / batchSize);
}

/** RunnerV3: `[Train]` is logged when `global_step % log_steps == 0` (step 0 included). */
export function shouldLog(globalStep: number, logSteps: number): boolean {
  return logSteps > 0 && globalStep % logSteps === 0;
}

/**
 * RunnerV3: evaluate after the optimizer step when `global_step > 0 and (global_step % eval_steps == 0 or
 * global_step == total_steps - 1)`.
 */
export function shouldEvaluate(globalStep: number, evalSteps: number, totalSteps: number): boolean {
  return evalSteps > 0 && globalStep > 0 && (globalStep % evalSteps === 0 || globalStep === totalSteps - 1);
}

/** The learning rate of step `globalStep` (0-based) under `config.schedule`. */
export function learningRateAt(config: TrainConfig, globalStep: number, stepsInEpoch: number): number {
  const s = config.schedule;
  switch (s.kind) {
    case 'constant':
      return config.lr;
    case 'step':
      return config.lr * s.gamma ** Math.floor(Math.floor(globalStep / stepsInEpoch) / s.stepEpochs);
    case 'cosine': {
      const last = config.epochs * stepsInEpoch - 1;
      if (last <= 0) return config.lr;
      return (
        s.minLr + ((config.lr - s.minLr) * (1 + Math.cos((Math.PI * Math.min(globalStep, last)) / last))) / 2
      );
    }
  }
}

/** Where the data of a run came from and how much of it was used. */
export interface DataConfig {
  readonly source: string;
  readonly train: number;
  readonly dev: number;
  readonly test: number;
}

/** Everything a run was started with besides the spec: what `--resume` must find unchanged. */
export interface RunConfig {
  readonly training: TrainConfig;
  readonly data: DataConfig;
}

/**
 * Training configuration: RunnerV3's defaults (NNDL 5.4: SGD, lr 0.005, batch 64, 5 epochs, log and evaluate
 * every 15 steps) plus the extras (momentum, Adam, weight decay, learning-rate schedules), and the pure
 * functions that decide the cadence, so that tests can check them without training anything.
 */

import { DEFAULT_TRAINING, type Cadence } from '../../training-settings.js';

export type { Cadence } from '../../training-settings.js';

/**
 * Optimizers with PyTorch's update rules: `sgd` (plain), `momentum` (torch.optim.SGD with momentum, optionally
 * Nesterov's), `adam`, `adamw` (torch.optim.AdamW: the weight decay shrinks the weights directly, decoupled
 * from the gradient).
 */
export type OptimizerKind = 'sgd' | 'momentum' | 'adam' | 'adamw';

/** The optimizer kinds, in the order the CLI lists them. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam', 'adamw'];

/** Stop when the monitored dev value has not improved by more than `minDelta` for `patience` evaluations. */
export interface EarlyStopping {
  readonly monitor: 'dev_loss' | 'dev_accuracy';
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
}

/** Which dev value picks checkpoints/best, and how many of the best evaluations keep a checkpoint. */
export interface CheckpointPolicy {
  readonly monitor: 'dev_accuracy' | 'dev_loss';
  readonly topK: number;
}

/** Random training-image transforms (all off at 0/false); dev and test images are never augmented. */
export interface Augmentation {
  /** Zero padding per side before a random crop back to the input size (torchvision RandomCrop(size, padding)). */
  readonly cropPadding: number;
  /** Mirror left-right with probability 0.5. */
  readonly hflip: boolean;
  /** Random rotation within +-degrees. */
  readonly rotate: number;
  /** Random shift within +- this fraction of the width and height. */
  readonly translate: number;
  /** Random zoom by a factor in [1 - scale, 1 + scale]. */
  readonly scale: number;
}

/** No augmentation. */
export const NO_AUGMENTATION: Augmentation = {
  cropPadding: 0,
  hflip: false,
  rotate: 0,
  translate: 0,
  scale: 0,
};

/** True when `a` changes images at all. */
export function augments(a: Augmentation): boolean {
  return a.cropPadding > 0 || a.hflip || a.rotate > 0 || a.translate > 0 || a.scale > 0;
}

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
  /** Nesterov momentum for the `momentum` optimizer. */
  readonly nesterov: boolean;
  /**
   * PyTorch's `weight_decay`: an L2 term added to every trainable parameter's gradient, except for `adamw`,
   * which multiplies the weights by (1 - lr * weightDecay) before its update.
   */
  readonly weightDecay: number;
  readonly schedule: LrSchedule;
  /** Linear warmup: the schedule's rate times (step + 1) / W over the first W = round(warmupEpochs * steps per epoch) steps. */
  readonly warmupEpochs: number;
  /** Seeds the shuffling generator and the augmentation (and, through the caller, the initial weights). */
  readonly seed: number;
  /** Log the training loss when `globalStep % logSteps == 0`, or at each epoch's last step; 0 never logs. */
  readonly logSteps: Cadence;
  /** Evaluate on dev when `globalStep % evalSteps == 0` (and at the last step), or at each epoch end; 0 never. */
  readonly evalSteps: Cadence;
  /** Label smoothing of the training loss (PyTorch's CrossEntropyLoss label_smoothing); dev and test losses are plain. */
  readonly labelSmoothing: number;
  /** Stop early, or null to train every epoch. */
  readonly earlyStopping: EarlyStopping | null;
  readonly checkpoint: CheckpointPolicy;
  readonly augment: Augmentation;
  /** `runner`: RunnerV3's [Train]/[Evaluate] lines and the epoch lines; `epochs`: the epoch lines only. */
  readonly logFormat: 'runner' | 'epochs';
}

/** The fields of {@link TrainConfig} added after the first checkpoints were written, with the values those runs had. */
export const LATER_TRAIN_FIELDS = {
  nesterov: false,
  warmupEpochs: 0,
  labelSmoothing: 0,
  earlyStopping: null,
  checkpoint: { monitor: 'dev_accuracy', topK: 1 },
  augment: NO_AUGMENTATION,
  logFormat: 'runner',
} as const satisfies Partial<TrainConfig>;

/** Adam's constants: PyTorch's defaults (tfjs's own epsilon default, 1e-7, differs). */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** RunnerV3's settings from NNDL 5.4, with seed 0. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: DEFAULT_TRAINING.epochs,
  batchSize: DEFAULT_TRAINING.batchSize,
  lr: DEFAULT_TRAINING.lr,
  optimizer: DEFAULT_TRAINING.optimizer,
  momentum: DEFAULT_TRAINING.momentum,
  weightDecay: DEFAULT_TRAINING.weightDecay,
  schedule: { kind: 'constant' },
  seed: DEFAULT_TRAINING.seed,
  logSteps: DEFAULT_TRAINING.logSteps,
  evalSteps: DEFAULT_TRAINING.evalSteps,
  ...LATER_TRAIN_FIELDS,
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
  if (config.logSteps !== 'epoch') nonNegativeInt('log steps', config.logSteps);
  if (config.evalSteps !== 'epoch') nonNegativeInt('eval steps', config.evalSteps);
  if (!Number.isFinite(config.warmupEpochs) || config.warmupEpochs < 0 || config.warmupEpochs > config.epochs)
    problems.push(`warmup epochs must be in [0, epochs], not ${config.warmupEpochs}`);
  if (!Number.isFinite(config.labelSmoothing) || config.labelSmoothing < 0 || config.labelSmoothing >= 1)
    problems.push(`label smoothing must be in [0, 1), not ${config.labelSmoothing}`);
  if (config.earlyStopping) positiveInt('early stopping patience', config.earlyStopping.patience);
  positiveInt('checkpoint top_k', config.checkpoint.topK);
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

/**
 * RunnerV3: `[Train]` is logged when `global_step % log_steps == 0` (step 0 included); with `epoch`, at the last
 * step of each epoch (`perEpoch` steps per epoch).
 */
export function shouldLog(globalStep: number, logSteps: Cadence, perEpoch = 0): boolean {
  if (logSteps === 'epoch') return perEpoch > 0 && (globalStep + 1) % perEpoch === 0;
  return logSteps > 0 && globalStep % logSteps === 0;
}

/**
 * RunnerV3: evaluate after the optimizer step when `global_step > 0 and (global_step % eval_steps == 0 or
 * global_step == total_steps - 1)`; with `epoch`, after the last step of each epoch.
 */
export function shouldEvaluate(
  globalStep: number,
  evalSteps: Cadence,
  totalSteps: number,
  perEpoch = 0,
): boolean {
  if (evalSteps === 'epoch') return perEpoch > 0 && (globalStep + 1) % perEpoch === 0;
  return evalSteps > 0 && globalStep > 0 && (globalStep % evalSteps === 0 || globalStep === totalSteps - 1);
}

/**
 * The learning rate of step `globalStep` (0-based) under `config.schedule`, times the warmup factor
 * (step + 1) / W during the first W warmup steps.
 */
export function learningRateAt(
  config: Pick<TrainConfig, 'schedule' | 'lr' | 'epochs'> & { readonly warmupEpochs?: number },
  globalStep: number,
  stepsInEpoch: number,
): number {
  const warmup = Math.round((config.warmupEpochs ?? 0) * stepsInEpoch);
  const rate = scheduledRate(config, globalStep, stepsInEpoch);
  return globalStep < warmup ? (rate * (globalStep + 1)) / warmup : rate;
}

function scheduledRate(
  config: Pick<TrainConfig, 'schedule' | 'lr' | 'epochs'>,
  globalStep: number,
  stepsInEpoch: number,
): number {
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

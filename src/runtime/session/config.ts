/**
 * A run's settings as a user gives them (flat, one per command-line option) and the rules that turn them into
 * the run's config: defaults, and on resume the saved config for every setting not given again. Pure; no tfjs.
 */
import {
  DEFAULT_TRAIN_CONFIG,
  type LrSchedule,
  type OptimizerKind,
  type RunConfig,
  type TrainConfig,
} from '../train/config.js';

/** The settings of a training run, one per `netspec run` option. */
export interface RunSettings {
  readonly data: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  readonly optimizer: OptimizerKind;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly lrSchedule: LrSchedule['kind'];
  readonly lrStep: number;
  readonly lrGamma: number;
  readonly lrMin: number;
  readonly train: number;
  readonly dev: number;
  readonly test: number;
  readonly logSteps: number;
  readonly evalSteps: number;
}

/** RunnerV3's settings (NNDL 5.4) on the bundled MNIST sample: 1000 training, 200 dev and 200 test images. */
export const DEFAULT_RUN_SETTINGS: RunSettings = {
  data: 'mnist-sample',
  epochs: DEFAULT_TRAIN_CONFIG.epochs,
  batchSize: DEFAULT_TRAIN_CONFIG.batchSize,
  lr: DEFAULT_TRAIN_CONFIG.lr,
  seed: DEFAULT_TRAIN_CONFIG.seed,
  optimizer: DEFAULT_TRAIN_CONFIG.optimizer,
  momentum: DEFAULT_TRAIN_CONFIG.momentum,
  weightDecay: DEFAULT_TRAIN_CONFIG.weightDecay,
  lrSchedule: 'constant',
  lrStep: 2,
  lrGamma: 0.1,
  lrMin: 0,
  train: 1000,
  dev: 200,
  test: 200,
  logSteps: DEFAULT_TRAIN_CONFIG.logSteps,
  evalSteps: DEFAULT_TRAIN_CONFIG.evalSteps,
};

/**
 * The config of a run with `settings`. Without `saved`, the settings as they are. With `saved` (a resumed run's
 * config), a setting counts only when `given` names it (it was stated again); every other one comes from
 * `saved`, so `--resume` alone continues with the options the run started with. The schedule's own settings
 * follow its kind: switching kinds on resume takes the new kind's settings from `settings`.
 */
export function runConfigOf(
  settings: RunSettings,
  given: ReadonlySet<string>,
  saved: RunConfig | undefined,
): RunConfig {
  const t = saved?.training;
  const pick = <K extends keyof RunSettings>(key: K, old: RunSettings[K] | undefined): RunSettings[K] =>
    old === undefined || given.has(key) ? settings[key] : old;
  const kind = pick('lrSchedule', t?.schedule.kind);
  const oldStep = t?.schedule.kind === 'step' ? t.schedule : undefined;
  const oldCosine = t?.schedule.kind === 'cosine' ? t.schedule : undefined;
  const schedule: LrSchedule =
    kind === 'step'
      ? { kind, stepEpochs: pick('lrStep', oldStep?.stepEpochs), gamma: pick('lrGamma', oldStep?.gamma) }
      : kind === 'cosine'
        ? { kind, minLr: pick('lrMin', oldCosine?.minLr) }
        : { kind: 'constant' };
  const training: TrainConfig = {
    epochs: pick('epochs', t?.epochs),
    batchSize: pick('batchSize', t?.batchSize),
    lr: pick('lr', t?.lr),
    optimizer: pick('optimizer', t?.optimizer),
    momentum: pick('momentum', t?.momentum),
    weightDecay: pick('weightDecay', t?.weightDecay),
    schedule,
    seed: pick('seed', t?.seed),
    logSteps: pick('logSteps', t?.logSteps),
    evalSteps: pick('evalSteps', t?.evalSteps),
  };
  const s = saved?.data;
  return {
    training,
    data: {
      source: pick('data', s?.source),
      train: pick('train', s?.train),
      dev: pick('dev', s?.dev),
      test: pick('test', s?.test),
    },
  };
}

/**
 * A run's settings as a user gives them (flat, one per command-line option) and the rules that turn them into
 * the run's config: defaults, and on resume the saved config for every setting not given again. Pure; no tfjs.
 */
import {
  DEFAULT_TRAINING,
  layerSettings,
  type PartialSettings,
  type SettingField,
  type TrainingSettings,
} from '../../training-settings.js';
import type { LrSchedule, RunConfig, TrainConfig } from '../train/config.js';

/** The settings of a training run: the training-settings table's, flat (one per `netspec run` option or key). */
export type RunSettings = TrainingSettings;

/** The defaults: RunnerV3's settings (NNDL 5.4) on the bundled MNIST sample. */
export const DEFAULT_RUN_SETTINGS: RunSettings = DEFAULT_TRAINING;

/** The settings a saved config ran with, for the fields that apply to it (the schedule's own by its kind). */
function settingsOfConfig(saved: RunConfig): PartialSettings {
  const t = saved.training;
  const out: PartialSettings = {
    optimizer: t.optimizer,
    lr: t.lr,
    momentum: t.momentum,
    nesterov: t.nesterov,
    weightDecay: t.weightDecay,
    lrSchedule: t.schedule.kind,
    warmupEpochs: t.warmupEpochs,
    epochs: t.epochs,
    batchSize: t.batchSize,
    seed: t.seed,
    logSteps: t.logSteps,
    evalSteps: t.evalSteps,
    labelSmoothing: t.labelSmoothing,
    logFormat: t.logFormat,
    earlyStopMonitor: t.earlyStopping?.monitor ?? 'none',
    checkpointMonitor: t.checkpoint.monitor,
    checkpointTopK: t.checkpoint.topK,
    augmentCropPadding: t.augment.cropPadding,
    augmentHflip: t.augment.hflip,
    augmentRotate: t.augment.rotate,
    augmentTranslate: t.augment.translate,
    augmentScale: t.augment.scale,
    data: saved.data.source,
    train: saved.data.train,
    dev: saved.data.dev,
    test: saved.data.test,
  };
  if (t.schedule.kind === 'step')
    Object.assign(out, { lrStep: t.schedule.stepEpochs, lrGamma: t.schedule.gamma });
  if (t.schedule.kind === 'cosine') out.lrMin = t.schedule.minLr;
  if (t.earlyStopping)
    Object.assign(out, {
      earlyStopMode: t.earlyStopping.mode,
      earlyStopPatience: t.earlyStopping.patience,
      earlyStopMinDelta: t.earlyStopping.minDelta,
    });
  return out;
}

/** The run config of a full set of settings. */
export function configOfSettings(s: RunSettings): RunConfig {
  const schedule: LrSchedule =
    s.lrSchedule === 'step'
      ? { kind: 'step', stepEpochs: s.lrStep, gamma: s.lrGamma }
      : s.lrSchedule === 'cosine'
        ? { kind: 'cosine', minLr: s.lrMin }
        : { kind: 'constant' };
  const monitor = s.earlyStopMonitor;
  const training: TrainConfig = {
    epochs: s.epochs,
    batchSize: s.batchSize,
    lr: s.lr,
    optimizer: s.optimizer,
    momentum: s.momentum,
    nesterov: s.nesterov,
    weightDecay: s.weightDecay,
    schedule,
    warmupEpochs: s.warmupEpochs,
    seed: s.seed,
    logSteps: s.logSteps,
    evalSteps: s.evalSteps,
    labelSmoothing: s.labelSmoothing,
    earlyStopping:
      monitor === 'none'
        ? null
        : {
            monitor,
            mode: s.earlyStopMode === 'auto' ? (monitor === 'dev_loss' ? 'min' : 'max') : s.earlyStopMode,
            patience: s.earlyStopPatience,
            minDelta: s.earlyStopMinDelta,
          },
    checkpoint: { monitor: s.checkpointMonitor, topK: s.checkpointTopK },
    augment: {
      cropPadding: s.augmentCropPadding,
      hflip: s.augmentHflip,
      rotate: s.augmentRotate,
      translate: s.augmentTranslate,
      scale: s.augmentScale,
    },
    logFormat: s.logFormat,
  };
  return { training, data: { source: s.data, train: s.train, dev: s.dev, test: s.test } };
}

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
  if (!saved) return configOfSettings(settings);
  const restated: PartialSettings = {};
  for (const field of Object.keys(settings) as SettingField[])
    if (given.has(field)) Object.assign(restated, { [field]: settings[field] });
  return configOfSettings(layerSettings(settings, settingsOfConfig(saved), restated));
}

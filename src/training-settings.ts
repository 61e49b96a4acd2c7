/**
 * The training settings: one table that the spec's `training:` section, `--set training.<key>=<value>` and the
 * options of `netspec run` all read, so a setting has one name, one type, one range and one default everywhere.
 * Pure (no tfjs, no I/O): the compiler checks a spec's section against it, the CLI derives its options from it,
 * the runtime's session turns the values into a run's config.
 */

/** A setting's value as a spec or a command line gives it. */
export type SettingValue = number | string | boolean;

/** Log or evaluate every N steps, or once per epoch. */
export type Cadence = number | 'epoch';

/** The training settings, flat, one field per table row (camelCase of the spec key). */
export interface TrainingSettings {
  readonly optimizer: 'sgd' | 'momentum' | 'adam' | 'adamw';
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly lrSchedule: 'constant' | 'step' | 'cosine';
  readonly lrStep: number;
  readonly lrGamma: number;
  readonly lrMin: number;
  readonly warmupEpochs: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly data: string;
  readonly train: number;
  readonly dev: number;
  readonly test: number;
  readonly logSteps: Cadence;
  readonly evalSteps: Cadence;
  readonly seed: number;
  readonly logFormat: 'runner' | 'epochs';
  readonly earlyStopMonitor: 'none' | 'dev_loss' | 'dev_accuracy';
  readonly earlyStopMode: 'auto' | 'min' | 'max';
  readonly earlyStopPatience: number;
  readonly earlyStopMinDelta: number;
  readonly checkpointMonitor: 'dev_accuracy' | 'dev_loss';
  readonly checkpointTopK: number;
  readonly augmentCropPadding: number;
  readonly augmentHflip: boolean;
  readonly augmentRotate: number;
  readonly augmentTranslate: number;
  readonly augmentScale: number;
  readonly labelSmoothing: number;
}

/** The field names of {@link TrainingSettings}. */
export type SettingField = keyof TrainingSettings;

/** What kind of value a setting takes. */
export type SettingKind = 'int' | 'number' | 'bool' | 'choice' | 'string' | 'cadence';

/** One row of the table. */
export interface SettingDef {
  /** The spec key, dotted inside a group: `lr`, `early_stopping.patience`. */
  readonly key: string;
  readonly field: SettingField;
  readonly kind: SettingKind;
  readonly choices?: readonly string[];
  readonly min?: number;
  /** True when the minimum itself is not allowed (`lr > 0`). */
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  readonly exclusiveMax?: boolean;
  /** The `netspec run` option that sets it, when there is one (`--lr`); every setting also takes `--set training.<key>=`. */
  readonly option?: string;
  /** The option's value name in its help (`<rate>`). */
  readonly valueName?: string;
  /** One line for help texts and the docs, with units. */
  readonly description: string;
}

/**
 * RunnerV3's settings (NNDL 5.4: SGD, lr 0.005, batch 64, 5 epochs, log and evaluate every 15 steps) on the
 * bundled MNIST sample (1,000 train, 200 dev, 200 test images): the defaults of a spec without a `training:`
 * section, so the seed's experiment is what a bare spec runs.
 */
export const DEFAULT_TRAINING: TrainingSettings = {
  optimizer: 'sgd',
  lr: 0.005,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 0,
  lrSchedule: 'constant',
  lrStep: 2,
  lrGamma: 0.1,
  lrMin: 0,
  warmupEpochs: 0,
  epochs: 5,
  batchSize: 64,
  data: 'mnist-sample',
  train: 1000,
  dev: 200,
  test: 200,
  logSteps: 15,
  evalSteps: 15,
  seed: 0,
  logFormat: 'runner',
  earlyStopMonitor: 'none',
  earlyStopMode: 'auto',
  earlyStopPatience: 3,
  earlyStopMinDelta: 0,
  checkpointMonitor: 'dev_accuracy',
  checkpointTopK: 1,
  augmentCropPadding: 0,
  augmentHflip: false,
  augmentRotate: 0,
  augmentTranslate: 0,
  augmentScale: 0,
  labelSmoothing: 0,
};

/** The groups of the section (`early_stopping: {patience: 3}`); every other key is a plain value. */
export const SETTING_GROUPS: readonly string[] = ['early_stopping', 'checkpoint', 'augment'];

/** Every setting, in the order the docs and `netspec run --help` list them. */
export const TRAINING_SETTINGS: readonly SettingDef[] = [
  {
    key: 'optimizer',
    field: 'optimizer',
    kind: 'choice',
    choices: ['sgd', 'momentum', 'adam', 'adamw'],
    option: '--optimizer',
    valueName: '<kind>',
    description:
      'optimizer with PyTorch semantics: sgd, momentum (SGD with momentum), adam, adamw (decoupled weight decay)',
  },
  {
    key: 'lr',
    field: 'lr',
    kind: 'number',
    min: 0,
    exclusiveMin: true,
    option: '--lr',
    valueName: '<rate>',
    description: 'base learning rate',
  },
  {
    key: 'momentum',
    field: 'momentum',
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMax: true,
    option: '--momentum',
    valueName: '<m>',
    description: 'momentum factor of the momentum optimizer',
  },
  {
    key: 'nesterov',
    field: 'nesterov',
    kind: 'bool',
    description: "Nesterov momentum (torch.optim.SGD's nesterov=True) for the momentum optimizer",
  },
  {
    key: 'weight_decay',
    field: 'weightDecay',
    kind: 'number',
    min: 0,
    option: '--weight-decay',
    valueName: '<wd>',
    description: "weight decay: an L2 term in the gradients (PyTorch's weight_decay), decoupled for adamw",
  },
  {
    key: 'schedule',
    field: 'lrSchedule',
    kind: 'choice',
    choices: ['constant', 'step', 'cosine'],
    option: '--lr-schedule',
    valueName: '<kind>',
    description: 'learning-rate schedule: constant, step (StepLR per epoch), cosine (per step, to lr_min)',
  },
  {
    key: 'lr_step',
    field: 'lrStep',
    kind: 'int',
    min: 1,
    option: '--lr-step',
    valueName: '<epochs>',
    description: 'step schedule: epochs between decays',
  },
  {
    key: 'lr_gamma',
    field: 'lrGamma',
    kind: 'number',
    min: 0,
    exclusiveMin: true,
    option: '--lr-gamma',
    valueName: '<factor>',
    description: 'step schedule: decay factor',
  },
  {
    key: 'lr_min',
    field: 'lrMin',
    kind: 'number',
    min: 0,
    option: '--lr-min',
    valueName: '<rate>',
    description: 'cosine schedule: final learning rate',
  },
  {
    key: 'warmup_epochs',
    field: 'warmupEpochs',
    kind: 'number',
    min: 0,
    option: '--warmup-epochs',
    valueName: '<epochs>',
    description: 'linear warmup from lr/steps to lr over this many epochs (per step), then the schedule',
  },
  {
    key: 'epochs',
    field: 'epochs',
    kind: 'int',
    min: 1,
    option: '--epochs',
    valueName: '<n>',
    description: 'training epochs',
  },
  {
    key: 'batch_size',
    field: 'batchSize',
    kind: 'int',
    min: 1,
    option: '--batch-size',
    valueName: '<n>',
    description: 'examples per step',
  },
  {
    key: 'data',
    field: 'data',
    kind: 'string',
    option: '--data',
    valueName: '<source>',
    description:
      'data source: mnist-sample | idx:DIR | nndl-json:FILE | folder:DIR | cifar10:DIR | npy:X.npy,Y.npy',
  },
  {
    key: 'train',
    field: 'train',
    kind: 'int',
    min: 1,
    option: '--train',
    valueName: '<n>',
    description: 'training examples',
  },
  {
    key: 'dev',
    field: 'dev',
    kind: 'int',
    min: 1,
    option: '--dev',
    valueName: '<n>',
    description: 'dev (validation) examples',
  },
  {
    key: 'test',
    field: 'test',
    kind: 'int',
    min: 1,
    option: '--test',
    valueName: '<n>',
    description: 'test examples',
  },
  {
    key: 'log_every',
    field: 'logSteps',
    kind: 'cadence',
    min: 0,
    option: '--log-steps',
    valueName: '<n|epoch>',
    description: 'log the training loss every n steps (0: never; epoch: at each epoch end)',
  },
  {
    key: 'eval_every',
    field: 'evalSteps',
    kind: 'cadence',
    min: 0,
    option: '--eval-steps',
    valueName: '<n|epoch>',
    description: 'evaluate on dev every n steps and at the end (0: never; epoch: at each epoch end)',
  },
  {
    key: 'seed',
    field: 'seed',
    kind: 'int',
    option: '--seed',
    valueName: '<n>',
    description: 'seed of the initial weights, the data split, the shuffling and the augmentation',
  },
  {
    key: 'log_format',
    field: 'logFormat',
    kind: 'choice',
    choices: ['runner', 'epochs'],
    description:
      "console and train.log: runner (NNDL RunnerV3's [Train]/[Evaluate] lines, and the epoch lines) or epochs (one line per epoch)",
  },
  {
    key: 'early_stopping.monitor',
    field: 'earlyStopMonitor',
    kind: 'choice',
    choices: ['none', 'dev_loss', 'dev_accuracy'],
    description: 'early stopping: the dev value watched (none: no early stopping)',
  },
  {
    key: 'early_stopping.mode',
    field: 'earlyStopMode',
    kind: 'choice',
    choices: ['auto', 'min', 'max'],
    description: 'early stopping: min or max is better (auto: min for dev_loss, max for dev_accuracy)',
  },
  {
    key: 'early_stopping.patience',
    field: 'earlyStopPatience',
    kind: 'int',
    min: 1,
    description: 'early stopping: dev evaluations without improvement before training stops',
  },
  {
    key: 'early_stopping.min_delta',
    field: 'earlyStopMinDelta',
    kind: 'number',
    min: 0,
    description: 'early stopping: the least change that counts as an improvement',
  },
  {
    key: 'checkpoint.monitor',
    field: 'checkpointMonitor',
    kind: 'choice',
    choices: ['dev_accuracy', 'dev_loss'],
    description: 'checkpoints/best: the dev value that picks the best model (ties keep the earlier one)',
  },
  {
    key: 'checkpoint.top_k',
    field: 'checkpointTopK',
    kind: 'int',
    min: 1,
    description:
      'checkpoints kept by the monitored value: best, and with k > 1 the next k-1 as checkpoints/top-<rank>',
  },
  {
    key: 'augment.crop_padding',
    field: 'augmentCropPadding',
    kind: 'int',
    min: 0,
    description: 'random crop after zero padding by this many pixels per side (RandomCrop(size, padding))',
  },
  {
    key: 'augment.hflip',
    field: 'augmentHflip',
    kind: 'bool',
    description: 'random horizontal flip with probability 0.5 (not for digits)',
  },
  {
    key: 'augment.rotate',
    field: 'augmentRotate',
    kind: 'number',
    min: 0,
    max: 180,
    description: 'random rotation of up to this many degrees either way (RandomAffine degrees)',
  },
  {
    key: 'augment.translate',
    field: 'augmentTranslate',
    kind: 'number',
    min: 0,
    max: 0.5,
    description: 'random shift of up to this fraction of the width and height (RandomAffine translate)',
  },
  {
    key: 'augment.scale',
    field: 'augmentScale',
    kind: 'number',
    min: 0,
    max: 0.5,
    exclusiveMax: true,
    description: 'random zoom by a factor in [1 - s, 1 + s] (RandomAffine scale)',
  },
  {
    key: 'label_smoothing',
    field: 'labelSmoothing',
    kind: 'number',
    min: 0,
    max: 1,
    exclusiveMax: true,
    description: "label smoothing of the cross-entropy (PyTorch's label_smoothing)",
  },
];

/** The row of each spec key (`early_stopping.patience`). */
export const SETTING_BY_KEY: ReadonlyMap<string, SettingDef> = new Map(
  TRAINING_SETTINGS.map((d) => [d.key, d]),
);

/** The row of each field. */
export const SETTING_BY_FIELD: ReadonlyMap<SettingField, SettingDef> = new Map(
  TRAINING_SETTINGS.map((d) => [d.field, d]),
);

/** The expected form of a setting's value, for messages: `an integer >= 1`, `one of sgd, momentum, adam`. */
export function expectedForm(def: SettingDef): string {
  switch (def.kind) {
    case 'bool':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'choice':
      return `one of ${(def.choices ?? []).join(', ')}`;
    case 'cadence':
      return `an integer >= ${def.min ?? 0} or epoch`;
    case 'int':
    case 'number': {
      const what = def.kind === 'int' ? 'an integer' : 'a number';
      const parts: string[] = [];
      if (def.min !== undefined) parts.push(`${def.exclusiveMin ? '>' : '>='} ${def.min}`);
      if (def.max !== undefined) parts.push(`${def.exclusiveMax ? '<' : '<='} ${def.max}`);
      return parts.length ? `${what} ${parts.join(' and ')}` : what;
    }
  }
}

/**
 * Checks a typed value (from YAML or the DSL) against its row: the value, or a problem naming the expected form
 * (`expected an integer >= 1, found 0`).
 */
export function checkSetting(
  def: SettingDef,
  value: SettingValue,
): { ok: true; value: SettingValue } | { ok: false; problem: string } {
  const bad = (): { ok: false; problem: string } => ({
    ok: false,
    problem: `expected ${expectedForm(def)}, found ${typeof value === 'string' ? `'${value}'` : String(value)}`,
  });
  switch (def.kind) {
    case 'bool':
      return typeof value === 'boolean' ? { ok: true, value } : bad();
    case 'string':
      return typeof value === 'string' && value !== '' ? { ok: true, value } : bad();
    case 'choice':
      return typeof value === 'string' && (def.choices ?? []).includes(value) ? { ok: true, value } : bad();
    case 'cadence':
      if (value === 'epoch') return { ok: true, value };
      return typeof value === 'number' && Number.isSafeInteger(value) && inRange(def, value)
        ? { ok: true, value }
        : bad();
    case 'int':
      return typeof value === 'number' && Number.isSafeInteger(value) && inRange(def, value)
        ? { ok: true, value }
        : bad();
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && inRange(def, value)
        ? { ok: true, value }
        : bad();
  }
}

function inRange(def: SettingDef, n: number): boolean {
  if (def.min !== undefined && (def.exclusiveMin ? n <= def.min : n < def.min)) return false;
  if (def.max !== undefined && (def.exclusiveMax ? n >= def.max : n > def.max)) return false;
  return true;
}

/**
 * Parses a setting from text (a command-line value or `--set training.<key>=<text>`) and checks it: numbers for
 * numeric kinds, `true`/`false` for booleans, the text itself otherwise.
 */
export function parseSetting(
  def: SettingDef,
  text: string,
): { ok: true; value: SettingValue } | { ok: false; problem: string } {
  const t = text.trim();
  let value: SettingValue = t;
  if (def.kind === 'bool') {
    if (t === 'true') value = true;
    else if (t === 'false') value = false;
  } else if (def.kind === 'int' || def.kind === 'number' || (def.kind === 'cadence' && t !== 'epoch')) {
    if (t !== '' && Number.isFinite(Number(t))) value = Number(t);
  }
  return checkSetting(def, value);
}

/** Settings given in part (a spec's section, the command line), by field. */
export type PartialSettings = { -readonly [F in SettingField]?: TrainingSettings[F] };

/** `base` with every setting of each layer in turn replacing it (later layers win). */
export function layerSettings(
  base: TrainingSettings,
  ...layers: readonly PartialSettings[]
): TrainingSettings {
  return Object.assign({}, base, ...layers) as TrainingSettings;
}

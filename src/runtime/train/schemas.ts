/**
 * JSON Schemas of what a run records (its config, progress, history, best model), for checking the files that
 * hold them (a checkpoint's checkpoint.json), and a checker whose first problem reads
 * `history.steps[3].loss is "x", expected a number`. Each object schema lists every field of its TypeScript type,
 * so a field added to a type and not to its schema is a compile error.
 */
import { Ajv, type ErrorObject } from 'ajv';
import {
  LATER_TRAIN_FIELDS,
  OPTIMIZER_KINDS,
  type Augmentation,
  type CheckpointPolicy,
  type DataConfig,
  type EarlyStopping,
  type LrSchedule,
  type RunConfig,
  type TrainConfig,
} from './config.js';
import type {
  BestRecord,
  EpochRecord,
  EvaluationRecord,
  StepRecord,
  TrainHistory,
  TrainProgress,
} from './history.js';

/** A JSON Schema as plain data (the subset ajv compiles, plus `nullable` and `discriminator`). */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** An object with exactly the fields of `T`, all required. */
export function objectSchema<T>(properties: { readonly [K in keyof T]-?: JsonSchema }): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

/** `schema` or null (`schema` must have a `type`). */
export function nullable(schema: JsonSchema): JsonSchema {
  return { ...schema, nullable: true };
}

/** An integer >= `min`. */
export const integerFrom = (min: number): JsonSchema => ({ type: 'integer', minimum: min });
const count = integerFrom(0);
const number: JsonSchema = { type: 'number' };
const nonNegative: JsonSchema = { type: 'number', minimum: 0 };
const fraction: JsonSchema = { type: 'number', minimum: 0, maximum: 1 };
/** A mean loss that JSON may hold as null: `JSON.stringify` writes a non-finite dev loss that way. */
const savedLoss = nullable(number);

const SCHEDULES: { readonly [K in LrSchedule['kind']]: JsonSchema } = {
  constant: objectSchema<Extract<LrSchedule, { kind: 'constant' }>>({ kind: { const: 'constant' } }),
  step: objectSchema<Extract<LrSchedule, { kind: 'step' }>>({
    kind: { const: 'step' },
    stepEpochs: integerFrom(1),
    gamma: number,
  }),
  cosine: objectSchema<Extract<LrSchedule, { kind: 'cosine' }>>({ kind: { const: 'cosine' }, minLr: number }),
};

/** A step count or `epoch`. */
const cadence: JsonSchema = { anyOf: [count, { const: 'epoch' }] };

/**
 * {@link TrainConfig}: types and signs here; the ranges that depend on each other are `validateTrainConfig`'s.
 * The fields of LATER_TRAIN_FIELDS may be absent (checkpoints written before they existed).
 */
export const TRAIN_CONFIG_SCHEMA = laterFieldsOptional(
  objectSchema<TrainConfig>({
    epochs: integerFrom(1),
    batchSize: integerFrom(1),
    lr: number,
    optimizer: { enum: OPTIMIZER_KINDS },
    momentum: number,
    weightDecay: number,
    schedule: {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      properties: { kind: { type: 'string' } },
      required: ['kind'],
      oneOf: Object.values(SCHEDULES),
    },
    seed: { type: 'integer' },
    logSteps: cadence,
    evalSteps: cadence,
    nesterov: { type: 'boolean' },
    warmupEpochs: nonNegative,
    labelSmoothing: nonNegative,
    earlyStopping: nullable(
      objectSchema<EarlyStopping>({
        monitor: { enum: ['dev_loss', 'dev_accuracy'] },
        mode: { enum: ['min', 'max'] },
        patience: integerFrom(1),
        minDelta: nonNegative,
      }),
    ),
    checkpoint: objectSchema<CheckpointPolicy>({
      monitor: { enum: ['dev_accuracy', 'dev_loss'] },
      topK: integerFrom(1),
    }),
    augment: objectSchema<Augmentation>({
      cropPadding: count,
      hflip: { type: 'boolean' },
      rotate: nonNegative,
      translate: nonNegative,
      scale: nonNegative,
    }),
    logFormat: { enum: ['runner', 'epochs'] },
  }),
);

function laterFieldsOptional(schema: JsonSchema): JsonSchema {
  return optional(schema, Object.keys(LATER_TRAIN_FIELDS));
}

/** `schema` (an {@link objectSchema}) with `keys` no longer required. */
function optional(schema: JsonSchema, keys: readonly string[]): JsonSchema {
  return { ...schema, required: (schema.required as string[]).filter((k) => !keys.includes(k)) };
}

/** A saved config with the later fields its writer did not know filled in as that writer ran them. */
export function withLaterFields(config: RunConfig): RunConfig {
  return { ...config, training: { ...LATER_TRAIN_FIELDS, ...config.training } };
}

/** {@link RunConfig}. */
export const RUN_CONFIG_SCHEMA = objectSchema<RunConfig>({
  training: TRAIN_CONFIG_SCHEMA,
  data: objectSchema<DataConfig>({ source: { type: 'string' }, train: count, dev: count, test: count }),
});

/** {@link TrainProgress}. */
export const TRAIN_PROGRESS_SCHEMA = optional(
  objectSchema<TrainProgress>({
    globalStep: count,
    epoch: count,
    stepInEpoch: count,
    epochPrng: {
      type: 'array',
      items: { type: 'integer', minimum: 0, maximum: 0xffffffff },
      minItems: 4,
      maxItems: 4,
    },
    bestScore: nonNegative,
    bestStep: nullable(count),
    elapsedMs: nonNegative,
    earlyStop: objectSchema<NonNullable<TrainProgress['earlyStop']>>({ best: nullable(number), wait: count }),
    top: {
      type: 'array',
      items: objectSchema<NonNullable<TrainProgress['top']>[number]>({ step: count, value: number }),
    },
  }),
  ['earlyStop', 'top'],
);

/** {@link TrainHistory}. */
export const TRAIN_HISTORY_SCHEMA = objectSchema<TrainHistory>({
  steps: {
    type: 'array',
    items: objectSchema<StepRecord>({ step: count, epoch: count, loss: number, lr: nonNegative }),
  },
  logged: { type: 'array', items: count },
  evaluations: {
    type: 'array',
    items: objectSchema<EvaluationRecord>({
      step: count,
      epoch: count,
      score: fraction,
      loss: savedLoss,
      improved: { type: 'boolean' },
    }),
  },
  epochs: {
    type: 'array',
    items: optional(
      objectSchema<EpochRecord>({
        epoch: count,
        loss: number,
        accuracy: fraction,
        imagesPerSecond: nonNegative,
        seconds: nonNegative,
      }),
      ['accuracy', 'imagesPerSecond', 'seconds'],
    ),
  },
});

/** {@link BestRecord}. */
export const BEST_RECORD_SCHEMA = objectSchema<BestRecord>({
  step: count,
  epoch: count,
  score: fraction,
  loss: savedLoss,
});

/** The first problem of a value against a schema, as `path is value, expected ...`; undefined when it conforms. */
export type JsonChecker = (data: unknown) => string | undefined;

/** Compiles `schema` (once) into a {@link JsonChecker}. */
export function createJsonChecker(schema: JsonSchema): JsonChecker {
  let validate: ReturnType<Ajv['compile']> | undefined;
  return (data) => {
    validate ??= new Ajv({ allErrors: false, verbose: true, strict: true, discriminator: true }).compile(
      schema,
    );
    if (validate(data)) return undefined;
    const first = (validate.errors ?? []).find((e) => e.keyword !== 'if');
    return first ? describeError(first) : 'does not match its schema';
  };
}

/** `/history/steps/3/loss` → `history.steps[3].loss`. */
function fieldPath(pointer: string, child?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (child !== undefined) parts.push(child);
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/** A value as the messages quote it: scalars as JSON (cut at 40 characters), containers by kind. */
function show(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  integer: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function describeError(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as JsonSchema;
  const at = fieldPath(e.instancePath) || 'the document';
  switch (e.keyword) {
    case 'type': {
      const types = String(params.type).split(',');
      if (parent.nullable === true) types.push('null');
      return `${at} is ${show(e.data)}, expected ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'required':
      return `${fieldPath(e.instancePath, String(params.missingProperty))} is missing`;
    case 'additionalProperties':
      return `${at} has an unknown field ${JSON.stringify(params.additionalProperty)}`;
    case 'const':
      return `${at} is ${show(e.data)}, expected ${JSON.stringify(params.allowedValue)}`;
    case 'enum':
      return `${at} is ${show(e.data)}, expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at} is ${show(e.data)}, expected a number ${String(params.comparison)} ${String(params.limit)}`;
    case 'minItems':
    case 'maxItems': {
      const n = Array.isArray(e.data) ? e.data.length : 0;
      return `${at} has ${n} item${n === 1 ? '' : 's'}, expected ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)}`;
    }
    case 'discriminator': {
      const tag = String(params.tag);
      const kinds = ((parent.oneOf ?? []) as JsonSchema[]).map((s) =>
        JSON.stringify(((s.properties as JsonSchema | undefined)?.[tag] as JsonSchema | undefined)?.const),
      );
      const value = (e.data as Record<string, unknown> | null)?.[tag];
      return `${fieldPath(e.instancePath, tag)} is ${value === undefined ? 'missing' : show(value)}, expected one of ${kinds.join(', ')}`;
    }
    default:
      return `${at} ${e.message ?? 'is not valid'}`;
  }
}

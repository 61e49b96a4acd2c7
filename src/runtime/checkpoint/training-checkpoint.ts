/**
 * Training checkpoints: what a run saves (`checkpoints/last` to resume, `checkpoints/best` for the best dev
 * model) and how it is read back, checked, and compared with the current spec and options.
 *
 * Files: `checkpoint.json` (run config, progress, history, IR hash), `ir.json` (the network trained, so a
 * changed spec can be explained), `weights.safetensors` (PyTorch names and layouts, BN running statistics
 * included; loadable by `safetensors.torch.load_file`), `optimizer.safetensors` (tfjs slot tensors, `last` only),
 * and `manifest.json` over all of them.
 */
import { serializeIr, type IrNetwork } from '../../compiler/ir.js';
import type { StateDict } from '../../compiler/targets/tfjs/index.js';
import type { BestRecord, TrainHistory, TrainProgress } from '../train/history.js';
import type { OptimizerState, SavedTensor } from '../train/optimizer.js';
import type { ResumeFrom } from '../train/trainer.js';
import { OPTIMIZER_KINDS, validateTrainConfig, type RunConfig, type TrainConfig } from '../train/config.js';
import {
  BEST_RECORD_SCHEMA,
  createJsonChecker,
  integerFrom,
  nullable,
  objectSchema,
  RUN_CONFIG_SCHEMA,
  TRAIN_HISTORY_SCHEMA,
  TRAIN_PROGRESS_SCHEMA,
  withLaterFields,
} from '../train/schemas.js';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../weights/safetensors.js';
import { expectedTensors } from '../weights/state-dict-io.js';
import { readFolderVerified, sha256, writeFolderAtomic } from './folder.js';
import { CheckpointError } from '../errors.js';

/** checkpoint.json. */
export interface CheckpointMeta {
  readonly format: 'netspec-checkpoint';
  readonly version: 1;
  /** `last`: full resume state; `best`: the best dev model's weights only. */
  readonly kind: 'last' | 'best';
  readonly network: string;
  /** `sha256:` + SHA-256 of the canonical IR JSON. */
  readonly irHash: string;
  readonly config: RunConfig;
  /** The tfjs backend the run used (results are exactly reproducible only on the same one). */
  readonly backend: string;
  readonly progress: TrainProgress | null;
  readonly history: TrainHistory | null;
  readonly best: BestRecord | null;
  readonly optimizer: { readonly kind: TrainConfig['optimizer']; readonly iterations: number } | null;
}

/** A checkpoint read back and verified. */
export interface LoadedCheckpoint {
  readonly dir: string;
  readonly meta: CheckpointMeta;
  readonly ir: IrNetwork;
  readonly weights: StateDict;
  /** Present in `last` checkpoints. */
  readonly optimizer: OptimizerState | null;
}

/** What to save. `optimizer`, `progress` and `history` are for `last`; `best` for both when known. */
export interface CheckpointContents {
  readonly kind: 'last' | 'best';
  readonly ir: IrNetwork;
  readonly config: RunConfig;
  readonly backend: string;
  readonly weights: StateDict;
  readonly optimizer?: OptimizerState;
  readonly progress?: TrainProgress;
  readonly history?: TrainHistory;
  readonly best?: BestRecord | null;
}

const WEIGHTS = 'weights.safetensors';
const OPTIMIZER = 'optimizer.safetensors';
const META = 'checkpoint.json';
const IR = 'ir.json';

/** The IR's identity: `sha256:` + the SHA-256 of its canonical JSON. */
export function hashIr(ir: IrNetwork): string {
  return `sha256:${sha256(serializeIr(ir))}`;
}

function toTensors(dict: ReadonlyMap<string, SavedTensor>): Map<string, TensorInput> {
  const out = new Map<string, TensorInput>();
  for (const [name, t] of dict) out.set(name, { dtype: 'F32', shape: t.shape, data: t.data });
  return out;
}

/** Serializes `contents` to the files of a checkpoint folder (without the manifest). */
export function checkpointFiles(contents: CheckpointContents): Map<string, Uint8Array> {
  const meta: CheckpointMeta = {
    format: 'netspec-checkpoint',
    version: 1,
    kind: contents.kind,
    network: contents.ir.name,
    irHash: hashIr(contents.ir),
    config: contents.config,
    backend: contents.backend,
    progress: contents.progress ?? null,
    history: contents.history ?? null,
    best: contents.best ?? null,
    optimizer: contents.optimizer
      ? { kind: contents.optimizer.kind, iterations: contents.optimizer.iterations }
      : null,
  };
  const files = new Map<string, Uint8Array>();
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  files.set(META, text(JSON.stringify(meta, null, 2) + '\n'));
  files.set(IR, text(serializeIr(contents.ir)));
  files.set(
    WEIGHTS,
    encodeSafetensors(toTensors(contents.weights), { format: 'pt', network: contents.ir.name }),
  );
  if (contents.optimizer)
    files.set(
      OPTIMIZER,
      encodeSafetensors(toTensors(contents.optimizer.slots), { optimizer: contents.optimizer.kind }),
    );
  return files;
}

/** Writes a checkpoint folder atomically (see folder.ts), replacing an older one at `dir`. */
export function saveCheckpoint(dir: string, contents: CheckpointContents): void {
  writeFolderAtomic(dir, checkpointFiles(contents));
}

function decodeF32(
  bytes: Uint8Array,
  file: string,
  where: string,
  checkFinite: boolean,
): Map<string, SavedTensor> {
  let decoded;
  try {
    decoded = decodeSafetensors(bytes, file);
  } catch (e) {
    // The codec's errors (whatever their class) name the file and the byte; all mean a malformed file here.
    if (e instanceof Error) throw new CheckpointError(`${where}: ${e.message}`);
    throw e;
  }
  const out = new Map<string, SavedTensor>();
  for (const [name, t] of decoded.tensors) {
    if (t.dtype !== 'F32')
      throw new CheckpointError(`${where}: ${file}: tensor '${name}' is ${t.dtype}, expected F32`);
    if (checkFinite) {
      const bad = t.data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new CheckpointError(
          `${where}: ${file}: tensor '${name}' holds ${t.data[bad]} at index ${bad}; refusing non-finite weights`,
        );
    }
    // A copy, so the tensors do not keep the whole file's buffer alive.
    out.set(name, { shape: t.shape, data: new Float32Array(t.data) });
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** checkpoint.json's structure: every field of {@link CheckpointMeta}, each entry of its history, typed and signed. */
const checkMetaSchema = createJsonChecker(
  objectSchema<CheckpointMeta>({
    format: { const: 'netspec-checkpoint' },
    version: { const: 1 },
    kind: { enum: ['last', 'best'] },
    network: { type: 'string' },
    irHash: { type: 'string' },
    config: RUN_CONFIG_SCHEMA,
    backend: { type: 'string' },
    progress: nullable(TRAIN_PROGRESS_SCHEMA),
    history: nullable(TRAIN_HISTORY_SCHEMA),
    best: nullable(BEST_RECORD_SCHEMA),
    optimizer: nullable(
      objectSchema<NonNullable<CheckpointMeta['optimizer']>>({
        kind: { enum: OPTIMIZER_KINDS },
        iterations: integerFrom(0),
      }),
    ),
  }),
);

/**
 * Checks checkpoint.json fully: what it is (format, version), then its structure against the schema (the first
 * problem, by field path: `history.steps[3].loss is "x", expected a number`), the training config's ranges, and
 * that a `last` checkpoint holds what a resume needs.
 */
function checkMeta(raw: unknown, where: string): CheckpointMeta {
  const fail = (what: string): never => {
    throw new CheckpointError(`${where}: ${META}: ${what}`);
  };
  if (!isRecord(raw) || raw.format !== 'netspec-checkpoint') return fail('not netspec checkpoint metadata');
  if (raw.version !== 1) return fail(`version ${show(raw.version)}; this netspec reads version 1`);
  const problem = checkMetaSchema(raw);
  if (problem !== undefined) return fail(problem);
  const saved = raw as unknown as CheckpointMeta;
  const meta: CheckpointMeta = { ...saved, config: withLaterFields(saved.config) };
  const configProblems = validateTrainConfig(meta.config.training);
  if (configProblems.length) return fail(`config.training: ${configProblems.join('; ')}`);
  if (meta.kind === 'last')
    for (const field of ['progress', 'history', 'optimizer'] as const)
      if (meta[field] === null) fail(`${field} is null; a 'last' checkpoint needs it to resume`);
  return meta;
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/**
 * What is wrong with the weights of a checkpoint for the network `ir`: tensors missing, of another shape, or not
 * the network's; one sentence each (at most `limit`, then a count).
 */
export function weightProblems(
  weights: ReadonlyMap<string, SavedTensor>,
  ir: IrNetwork,
  limit = 5,
): string[] {
  const expected = expectedTensors(ir);
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (!t) problems.push(`tensor '${name}' [${shape.join(', ')}] is missing`);
    else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      problems.push(
        `tensor '${name}' has shape [${t.shape.join(', ')}], the network needs [${shape.join(', ')}]`,
      );
  }
  for (const name of weights.keys())
    if (!expected.has(name)) problems.push(`tensor '${name}' is not a parameter of '${ir.name}'`);
  if (problems.length > limit)
    return [...problems.slice(0, limit), `... and ${problems.length - limit} more`];
  return problems;
}

/**
 * Reads and verifies the checkpoint at `dir`: manifest (sizes, hashes, safe paths), metadata (every field), IR
 * (against its hash), weights (all finite, exactly the IR's tensors and shapes), optimizer slots. Throws {@link CheckpointError} with a message naming the file and the problem.
 */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const files = readFolderVerified(dir);
  const need = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (!bytes)
      throw new CheckpointError(
        `${dir}: the manifest does not list ${name}; not a netspec training checkpoint`,
      );
    return bytes;
  };
  const text = (name: string): string => new TextDecoder().decode(need(name));
  let metaRaw: unknown;
  let irRaw: unknown;
  try {
    metaRaw = JSON.parse(text(META));
    irRaw = JSON.parse(text(IR));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${dir}: ${META} or ${IR} is not valid JSON (${(e as Error).message})`);
  }
  const meta = checkMeta(metaRaw, dir);
  if (!isRecord(irRaw) || irRaw.irVersion !== 1 || !Array.isArray(irRaw.nodes))
    throw new CheckpointError(`${dir}: ${IR} is not a netspec IR (version 1)`);
  const ir = irRaw as unknown as IrNetwork;
  if (hashIr(ir) !== meta.irHash)
    throw new CheckpointError(`${dir}: ${IR} does not match the IR hash in ${META}`);
  const weights = decodeF32(need(WEIGHTS), WEIGHTS, dir, true);
  // The IR is verified by its hash; weights that do not fit it are damage, whatever command reads them.
  const problems = weightProblems(weights, ir);
  if (problems.length)
    throw new CheckpointError(`${dir}: ${WEIGHTS} does not fit ${IR}: ${problems.join('; ')}`);
  let optimizer: OptimizerState | null = null;
  if (meta.kind === 'last' && meta.optimizer) {
    const slots = decodeF32(need(OPTIMIZER), OPTIMIZER, dir, true);
    optimizer = { kind: meta.optimizer.kind, iterations: meta.optimizer.iterations, slots };
  }
  return { dir, meta, ir, weights, optimizer };
}

/** Where the trainer resumes from a loaded checkpoint, or undefined when it holds no resume point (a `best` one). */
export function resumePoint(checkpoint: LoadedCheckpoint | undefined): ResumeFrom | undefined {
  if (!checkpoint?.meta.progress || !checkpoint.meta.history || !checkpoint.optimizer) return undefined;
  return {
    weights: checkpoint.weights,
    optimizer: checkpoint.optimizer,
    progress: checkpoint.meta.progress,
    history: checkpoint.meta.history,
  };
}

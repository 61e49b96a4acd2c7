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
import type { RunConfig, TrainConfig } from '../train/config.js';
import { decodeSafetensors, encodeSafetensors, type TensorInput } from '../weights/safetensors.js';
import { CheckpointError, readFolderVerified, sha256, writeFolderAtomic } from './folder.js';

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

function checkMeta(raw: unknown, where: string): CheckpointMeta {
  const fail = (what: string): never => {
    throw new CheckpointError(`${where}: ${META} ${what}`);
  };
  if (!isRecord(raw) || raw.format !== 'netspec-checkpoint')
    return fail('is not netspec checkpoint metadata');
  if (raw.version !== 1) return fail(`has version ${String(raw.version)}; this netspec reads version 1`);
  if (raw.kind !== 'last' && raw.kind !== 'best')
    return fail(`has an unknown kind ${JSON.stringify(raw.kind)}`);
  if (typeof raw.network !== 'string' || typeof raw.irHash !== 'string' || typeof raw.backend !== 'string')
    return fail('lacks the network name, IR hash or backend');
  const config = raw.config;
  if (!isRecord(config) || !isRecord(config.training) || !isRecord(config.data))
    return fail('lacks the run config');
  if (raw.kind === 'last') {
    const p = raw.progress;
    if (!isRecord(p)) return fail('lacks the training progress');
    for (const k of ['globalStep', 'epoch', 'stepInEpoch', 'bestScore', 'elapsedMs'] as const)
      if (typeof p[k] !== 'number' || !Number.isFinite(p[k]) || (p[k] as number) < 0)
        fail(`has a bad progress.${k}: ${JSON.stringify(p[k])}`);
    if (
      !Array.isArray(p.epochPrng) ||
      p.epochPrng.length !== 4 ||
      p.epochPrng.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    )
      fail('has a bad progress.epochPrng');
    const h = raw.history;
    if (
      !isRecord(h) ||
      !Array.isArray(h.steps) ||
      !Array.isArray(h.logged) ||
      !Array.isArray(h.evaluations) ||
      !Array.isArray(h.epochs)
    )
      fail('lacks the training history');
    const o = raw.optimizer;
    if (!isRecord(o) || typeof o.kind !== 'string' || !Number.isSafeInteger(o.iterations))
      fail('lacks the optimizer state');
  }
  return raw as unknown as CheckpointMeta;
}

/**
 * Reads and verifies the checkpoint at `dir`: manifest (sizes, hashes, safe paths), metadata, IR, weights (all
 * finite), optimizer slots. Throws {@link CheckpointError} with a message naming the file and the problem.
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

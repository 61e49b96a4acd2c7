/**
 * Inference: a network with given weights on an input batch, in inference mode (BN running statistics); the
 * inputs `netspec predict` reads (images, .npy, IDX, safetensors) turned into that batch as training data is
 * turned into batches; the checkpoint it reads weights from; and the top classes of the logits.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { activationProblem } from '../../compiler/activation-limit.js';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel, setStateDict, type StateDict } from '../../compiler/targets/tfjs/index.js';
import type { Diagnostic } from '../../diagnostics.js';
import { selectBackend, type BackendName } from '../backends/index.js';
import { checkCheckpointFits, loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.js';
import { classNamesOf } from '../data/index.js';
import { decodeIdxFile, parseIdxImages } from '../data/idx.js';
import { decodeImage, imageFilesIn, imageFormatOf, MAX_IMAGE_FILE_BYTES } from '../data/image-file.js';
import { isNpy, npyImages, parseNpy } from '../data/npy.js';
import { convertChannels, DEFAULT_NORMALIZATION, normalizeImages, resizeImages } from '../data/preprocess.js';
import type { RawImages } from '../data/types.js';
import { DataError } from '../errors.js';
import { resolveCheckpointFolder } from './checkpoint-folder.js';
import { READ_LIMITS, readRegularFile, readRegularText } from '../files/read.js';
import { decodeSafetensors, type DecodedSafetensors } from '../weights/safetensors.js';

export { resolveCheckpointFolder } from './checkpoint-folder.js';

/** The most examples one forward pass of `predict` takes; a larger input runs in batches of this many. */
export const PREDICT_BATCH = 256;

/** An input batch: float32 NCHW values. */
export interface PredictInput {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The logits of a batch. */
export interface Prediction {
  readonly shape: number[];
  readonly data: Float32Array;
}

/**
 * The tensor named `input` of a safetensors file, checked against the network: F32 [N, ...input shape] with
 * N >= 1 (an empty batch is almost always a mistake upstream) and small enough for the activation limit.
 */
export function predictInput(ir: IrNetwork, decoded: DecodedSafetensors, file: string): PredictInput {
  const x = decoded.tensors.get('input');
  if (!x)
    throw new DataError(
      `${file}: no tensor named 'input' (found: ${[...decoded.tensors.keys()].join(', ') || 'none'})`,
      file,
    );
  const want = ir.inputShape;
  if (x.dtype !== 'F32' || x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d))
    throw new DataError(
      `${file}: tensor 'input' is ${x.dtype} [${x.shape.join(', ')}], expected F32 [N, ${want.join(', ')}]`,
      file,
    );
  if (x.shape[0] === 0)
    throw new DataError(
      `${file}: tensor 'input' has shape [${x.shape.join(', ')}]: the batch N must be at least 1`,
      file,
    );
  checkBatch(ir, x.shape[0] ?? 1, file);
  return { shape: x.shape, data: x.data as Float32Array };
}

/** Refuses a batch (of at most {@link PREDICT_BATCH}, as `predict` runs it) that the activation limit does not allow. */
function checkBatch(ir: IrNetwork, count: number, file: string): void {
  const batch = Math.min(count, PREDICT_BATCH);
  const tooLarge = activationProblem(ir, batch);
  if (tooLarge)
    throw new DataError(`${file}: a batch of ${batch} is too large for '${ir.name}': ${tooLarge}`, file);
}

/** An input read for `predict`: the batch, and one name per example for the report (`digit7.png`, `x.npy[3]`). */
export interface NamedInput {
  readonly names: readonly string[];
  readonly input: PredictInput;
}

/**
 * Decoded images as training data becomes the network's input: converted to its channels (RGB to grey by
 * ITU-R 601 luma, grey repeated into RGB), resized to its H x W (Pillow bilinear), scaled to [0, 1] and normalized
 * as the data sources do. Nothing is inverted: MNIST digits are white on black, and a dark digit on a light
 * background stays so.
 */
export function imagesToInput(ir: IrNetwork, images: RawImages, file: string): PredictInput {
  const [channels, height, width] = ir.inputShape;
  if (ir.inputShape.length !== 3 || channels === undefined || height === undefined || width === undefined)
    throw new DataError(
      `${file}: '${ir.name}' takes input [${ir.inputShape.join(', ')}]; images need an input [C, H, W]`,
      file,
    );
  if ((channels !== 1 && channels !== 3) || (images.channels !== 1 && images.channels !== 3))
    if (channels !== images.channels)
      throw new DataError(
        `${file}: the images have ${images.channels} channels and '${ir.name}' takes ${channels}; only grey (1) ` +
          'and RGB (3) are converted',
        file,
      );
  checkBatch(ir, images.count, file);
  const ready = resizeImages(convertChannels(images, channels), height, width);
  const data = normalizeImages(ready, DEFAULT_NORMALIZATION.mean, DEFAULT_NORMALIZATION.std);
  return { shape: [images.count, channels, height, width], data };
}

/**
 * Reads what `predict --input` names: a PNG or JPEG file, a folder of them (sorted by name), a .npy of float32
 * ([0, 1]) or uint8 images ([N, C, H, W], [N, H, W] or [H, W]), an IDX images file (plain or gzipped) (all these
 * preprocessed by {@link imagesToInput}), or a safetensors file whose tensor `input` is the network's input as it
 * is. The kind is recognised by the content (magic bytes), not the name.
 */
export function readPredictInput(ir: IrNetwork, file: string): NamedInput {
  let isFolder = false;
  try {
    isFolder = fs.statSync(file).isDirectory();
  } catch {
    // Not there, or not readable: the read below names why.
  }
  if (isFolder) {
    const files = imageFilesIn(file);
    if (files.length === 0)
      throw new DataError(`${file}: no PNG or JPEG images in this folder (.png, .jpg, .jpeg)`, file);
    // One image at a time, as the folder data source converts and resizes them: they may differ in size.
    const inputs = files.map((f) =>
      imagesToInput(ir, decodeImage(readRegularFile(f, 'image file', MAX_IMAGE_FILE_BYTES), f), f),
    );
    checkBatch(ir, inputs.length, file);
    const [first] = inputs as [PredictInput];
    const data = new Float32Array(inputs.length * first.data.length);
    inputs.forEach((input, i) => data.set(input.data, i * first.data.length));
    return {
      names: files.map((f) => path.basename(f)),
      input: { shape: [inputs.length, ...first.shape.slice(1)], data },
    };
  }
  const bytes = readRegularFile(file, 'input file', READ_LIMITS.tensors);
  const base = path.basename(file);
  const indexed = (n: number): string[] => Array.from({ length: n }, (_, i) => `${base}[${i}]`);
  if (imageFormatOf(bytes) !== undefined)
    return { names: [base], input: imagesToInput(ir, decodeImage(bytes, file), file) };
  if (isNpy(bytes)) {
    const images = npyImages(parseNpy(bytes, file), file, true);
    return { names: indexed(images.count), input: imagesToInput(ir, images, file) };
  }
  const idxMagic = bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08 && bytes[3] === 3;
  if (idxMagic || (bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    const images = parseIdxImages(decodeIdxFile(bytes, file));
    return { names: indexed(images.count), input: imagesToInput(ir, images, file) };
  }
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes, file);
  } catch (e) {
    if (path.extname(file).toLowerCase() === '.safetensors') throw e;
    const start = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataError(
      `${file}: not a PNG or JPEG image, a .npy, an IDX images file or a safetensors file ` +
        `(${bytes.length ? `it starts with the bytes ${start}` : 'it is empty'})`,
      file,
      0,
    );
  }
  const input = predictInput(ir, decoded, file);
  return { names: indexed(input.shape[0] ?? 0), input };
}

/** A checkpoint read for `predict`: verified and checked against the spec's network, and its classes' names. */
export interface PredictCheckpoint {
  readonly checkpoint: LoadedCheckpoint;
  /** The names of the classes in index order, when the run's data had names (folder, cifar10). */
  readonly classNames: readonly string[] | undefined;
}

/** The class names a run's metrics.json records (`data.classNames`), when there are `classes` of them. */
function recordedClassNames(runDir: string, classes: number): readonly string[] | undefined {
  const file = path.join(runDir, 'metrics.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    const metrics = JSON.parse(readRegularText(file, 'metrics file', READ_LIMITS.json)) as {
      data?: { classNames?: unknown };
    };
    const names = metrics.data?.classNames;
    if (Array.isArray(names) && names.length === classes && names.every((n) => typeof n === 'string'))
      return names as string[];
  } catch {
    // An unreadable record only costs the names.
  }
  return undefined;
}

/**
 * Loads the checkpoint `dir` names ({@link resolveCheckpointFolder}), refuses one of another network
 * ({@link checkCheckpointFits}, as evaluate does), and finds its classes' names: those the run's metrics.json
 * records, else those of its data source if it still has them.
 */
export function loadPredictCheckpoint(dir: string, ir: IrNetwork, spec: string): PredictCheckpoint {
  const folder = resolveCheckpointFolder(dir);
  const checkpoint = loadCheckpoint(folder);
  checkCheckpointFits(checkpoint, ir, spec);
  const classes = ir.outputShape.length === 1 ? (ir.outputShape[0] ?? 0) : 0;
  const fromSource = classNamesOf(checkpoint.meta.config.data.source);
  const classNames =
    recordedClassNames(path.join(folder, '..', '..'), classes) ??
    (fromSource?.length === classes ? fromSource : undefined);
  return { checkpoint, classNames };
}

/** One class and its softmax probability. */
export interface ClassScore {
  readonly index: number;
  readonly probability: number;
}

/**
 * The `k` most probable classes of each row of `logits` (`count` rows of `classes`), by softmax computed in double
 * precision from the float32 logits (max subtracted first); ties go to the lower index, NaN last.
 */
export function topClasses(logits: Float32Array, classes: number, k: number): ClassScore[][] {
  const rows: ClassScore[][] = [];
  const count = classes === 0 ? 0 : logits.length / classes;
  for (let r = 0; r < count; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const max = row.reduce((m, v) => (v > m ? v : m), -Infinity);
    const exps = Array.from(row, (v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    const scores = exps.map((e, index) => ({ index, probability: e / sum }));
    scores.sort((a, b) => {
      const pa = Number.isNaN(a.probability) ? -Infinity : a.probability;
      const pb = Number.isNaN(b.probability) ? -Infinity : b.probability;
      return pb - pa || a.index - b.index;
    });
    rows.push(scores.slice(0, Math.min(k, classes)));
  }
  return rows;
}

/**
 * Runs `ir` with `weights` on `input` on `backend`. Weights that do not fit the network come back as
 * diagnostics (nothing is run then).
 */
export async function predict(
  ir: IrNetwork,
  weights: StateDict,
  input: PredictInput,
  backend: BackendName,
): Promise<Prediction | { readonly diagnostics: readonly Diagnostic[] }> {
  await selectBackend(backend);
  const model = buildModel(ir, { seed: 0 });
  try {
    const diagnostics = setStateDict(model, ir, weights);
    if (diagnostics.length) return { diagnostics };
    const [count = 0, ...sample] = input.shape;
    const size = sample.reduce((a, b) => a * b, 1);
    const parts: Float32Array[] = [];
    let shape: number[] = [];
    for (let start = 0; start < count; start += PREDICT_BATCH) {
      const n = Math.min(PREDICT_BATCH, count - start);
      const x = input.data.subarray(start * size, (start + n) * size);
      const logits = tf.tidy(() => model.predict(tf.tensor(x, [n, ...sample], 'float32')) as tf.Tensor);
      try {
        shape = logits.shape;
        parts.push(new Float32Array(await logits.data()));
      } finally {
        logits.dispose();
      }
    }
    const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
    return { shape: [count, ...shape.slice(1)], data };
  } finally {
    model.dispose();
  }
}

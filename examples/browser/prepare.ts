/**
 * The example's assets folder: `digits.json` + `digits.bin` (test digits preprocessed by netspec itself, exactly as
 * `netspec run` feeds them to the network) and `model/` (written by `netspec export`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { runCli } from '../../src/cli/main.js';
import { loadDataset } from '../../src/runtime/data/index.js';
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
 * The first `count` digits of the test split of `netspec run`'s default data (the mnist-sample, split with the
 * default seed, train and dev sizes), resized to the network's input as a run resizes them. These are digits a
 * network trained with the defaults has never seen.
 */
export async function exampleDigits(ir: IrNetwork, count = 16): Promise<ExampleDigits> {
  const [channels, height, width] = ir.inputShape;
  if (ir.inputShape.length !== 3 || channels !== 1 || height === undefined || width === undefined)
    throw new Error(`'${ir.name}' takes input [${ir.inputShape.join(', ')}]; the example needs [1, H, W]`);
  const settings = DEFAULT_RUN_SETTINGS;
  const dataset = await loadDataset(settings.data, {
    train: settings.train,
    dev: settings.dev,
    test: count,
    seed: settings.seed,
    size: Math.min(height, width),
    mean: MEAN,
    std: STD,
  });
  const { inputShape } = dataset;
  if (inputShape[1] !== height || inputShape[2] !== width)
    throw new Error(
      `'${ir.name}' takes [${ir.inputShape.join(', ')}]; the data is [${inputShape.join(', ')}]`,
    );
  return {
    description: `the first ${count} test digits of netspec run's default split: ${dataset.description}`,
    shape: [count, 1, height, width],
    labels: dataset.test.labels,
    inputs: dataset.test.images,
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

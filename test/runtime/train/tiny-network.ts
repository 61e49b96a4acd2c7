/** A tiny network and synthetic data for fast, exact training tests on the cpu backend. */
import * as tf from '@tensorflow/tfjs';
import { compileSpec } from '../../../src/compiler/index.js';
import type { IrNetwork } from '../../../src/compiler/ir.js';
import { Prng } from '../../../src/runtime/train/prng.js';
import type { LabeledImages } from '../../../src/runtime/train/trainer.js';

/** conv → bn → relu → global_avgpool → flatten → linear on 1x8x8 inputs, 4 classes. */
export const TINY_SPEC = `netspec: 1
name: tiny
params: {num_classes: 4}
input: [1, 8, 8]
modules:
  - body:
      - conv: {out: 4, kernel: 3, padding: 1, bias: false}
      - batchnorm
      - relu
  - head: [global_avgpool, flatten, linear: {out: $num_classes}]
`;

/** A linear classifier on 1x8x8 inputs: steps cost almost nothing, for tests of the loop's bookkeeping. */
export const LINEAR_SPEC = `netspec: 1
name: linear
input: [1, 8, 8]
modules:
  - head: [flatten, linear: {out: 4}]
`;

/** The IR of {@link TINY_SPEC} (or of another spec text). */
export function tinyIr(text = TINY_SPEC): IrNetwork {
  const result = compileSpec('tiny.yaml', { readFile: (f) => (f === 'tiny.yaml' ? text : undefined) });
  if (!result.ir)
    throw new Error(`tiny spec does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return result.ir;
}

/** `count` 1x8x8 images whose class (0..3) decides which quadrant is bright, plus seeded noise. */
export function tinyData(count: number, seed: number): LabeledImages {
  const prng = Prng.fromSeed(seed);
  const images = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = prng.nextInt(4);
    labels[i] = label;
    for (let p = 0; p < 64; p++) {
      const row = p >> 3;
      const col = p & 7;
      const quadrant = (row < 4 ? 0 : 2) + (col < 4 ? 0 : 1);
      images[i * 64 + p] =
        (quadrant === label ? 1 : 0) + (label - 1.5) * 0.5 + (prng.nextUint32() / 2 ** 32 - 0.5) * 0.5;
    }
  }
  return { images, labels, count };
}

/** Switches tfjs to the cpu backend (exact and deterministic). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

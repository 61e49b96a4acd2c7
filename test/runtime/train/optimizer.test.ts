/**
 * NetspecSgd: tfjs's SGD with the update fused into one kernel where the backend registers netspec's scaled add
 * (the native backend). It must give the same bits as tfjs's SGD (a Mul then an Add) on every backend, keep the
 * class name checkpoints rely on, follow learning-rate changes, and leak nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { SCALED_ADD_KERNEL } from '../../../src/runtime/backends/names.js';
import { loadNativeAddon } from '../../../src/runtime/backends/native-backend.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { createOptimizer, NetspecSgd, setLearningRate } from '../../../src/runtime/train/optimizer.js';
import { values } from '../../support/values.js';

const nativeBuilt = typeof loadNativeAddon() !== 'string';
if (!nativeBuilt) console.warn('native SGD tests skipped: the addon is not built (node native/build.mjs)');

// Sizes below and above the addon's threading threshold (256K elements per thread), and a scalar.
const SHAPES = [[3, 3, 2, 4], [600_000], [1]];

/** Weights after `steps` updates by a fresh optimizer from `make`, with a learning-rate change half way. */
function train(make: (lr: number) => tf.Optimizer, steps: number): Float32Array[] {
  const initial = SHAPES.map((shape, i) =>
    tf.tensor(
      values(
        shape.reduce((a, b) => a * b, 1),
        i,
      ),
      shape,
    ),
  );
  const vars = initial.map((t) => tf.variable(t));
  const grads = SHAPES.map((shape, i) =>
    tf.tensor(
      values(
        shape.reduce((a, b) => a * b, 1),
        100 + i,
      ),
      shape,
    ),
  );
  const optimizer = make(0.05);
  for (let s = 0; s < steps; s++) {
    if (s === 2) setLearningRate(optimizer, 0.0123);
    optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
  }
  const out = vars.map((v) => Float32Array.from(v.dataSync()));
  optimizer.dispose();
  tf.dispose([...initial, ...vars, ...grads]);
  return out;
}

describe('NetspecSgd', () => {
  it('is the SGD optimizer that checkpoints know, for --optimizer sgd', () => {
    const optimizer = createOptimizer({ optimizer: 'sgd', lr: 0.1, momentum: 0 });
    expect(optimizer).toBeInstanceOf(NetspecSgd);
    expect(optimizer.getClassName()).toBe('SGD');
    optimizer.dispose();
  });

  it('falls back to tfjs Mul + Add where the backend has no scaled add (cpu), with the same bits', async () => {
    await selectBackend('cpu');
    expect(tf.getKernel(SCALED_ADD_KERNEL, 'cpu')).toBeUndefined();
    const want = train((lr) => tf.train.sgd(lr), 4);
    const got = train((lr) => new NetspecSgd(lr), 4);
    expect(got).toEqual(want);
  });

  it.skipIf(!nativeBuilt)(
    'runs one fused kernel per weight on native, bit-identical to tfjs SGD on cpu',
    async () => {
      await selectBackend('cpu');
      const want = train((lr) => tf.train.sgd(lr), 4);
      await selectBackend('native');
      expect(tf.getKernel(SCALED_ADD_KERNEL, 'native')).toBeDefined();
      const tensors = tf.memory().numTensors;
      const profile = await tf.profile(() => void train((lr) => new NetspecSgd(lr), 1));
      const kernels = profile.kernels.map((k) => k.name);
      expect(kernels.filter((k) => k === SCALED_ADD_KERNEL)).toHaveLength(SHAPES.length);
      expect(kernels).not.toContain('Multiply');
      const got = train((lr) => new NetspecSgd(lr), 4);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(got).toEqual(want);
    },
  );
});

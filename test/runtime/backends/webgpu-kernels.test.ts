/**
 * The webgpu backend computes what cpu does: a small conv + BatchNorm + relu network of the tfjs target (netspec's
 * closed-form BatchNorm gradient, max pooling, a linear head), forward in both modes and every weight's gradient;
 * and the trainer's SGD update, which on webgpu takes tfjs's Mul + Add path (netspec registers no fused scaled add
 * there). Tiny shapes: SwiftShader runs each shader on the CPU. Every read is `await data()` (webgpu in Node has
 * no synchronous reads).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../../src/runtime/backends/index.js';
import { SCALED_ADD_KERNEL } from '../../../src/runtime/backends/names.js';
import { createOptimizer } from '../../../src/runtime/train/optimizer.js';
import { compileIr } from '../../support/compile.js';
import { hasSwiftShader } from '../../support/webgpu.js';

const SPEC = `netspec: 1
name: webgpu-parity
input: [2, 6, 6]
modules:
  - body:
      - conv: {out: 4, kernel: 3, stride: 1, padding: 1, bias: false}
      - batchnorm
      - relu
      - maxpool: {kernel: 2}
  - head: [global_avgpool, flatten, linear: {out: 3}]
`;

const runs = hasSwiftShader('webgpu kernels against cpu');

/** Deterministic values in [-1, 1), the same on every backend. */
function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.13 + i * 1.37) * 0.9);
}

interface Outputs {
  readonly train: Float32Array;
  readonly eval: Float32Array;
  readonly loss: number;
  readonly grads: ReadonlyMap<string, Float32Array>;
}

/** Forward (training and inference mode) and the loss gradient of every trainable weight on the active backend. */
async function outputs(
  weights: readonly Float32Array[] | undefined,
): Promise<Outputs & { weights: Float32Array[] }> {
  const ir = compileIr('parity.yaml', { 'parity.yaml': SPEC });
  const model = buildModel(ir, { seed: 3 });
  if (weights)
    tf.tidy(() => model.setWeights(model.weights.map((w, i) => tf.tensor(weights[i] ?? [], w.read().shape))));
  const start = await Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>));
  const x = tf.tensor4d(values(4 * 2 * 6 * 6, 1), [4, 2, 6, 6]);
  const y = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3);
  const logits = (training: boolean) => model.apply(x, { training }) as tf.Tensor;
  const inference = logits(false);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, logits(true)) as tf.Scalar,
    variables,
  );
  const training = logits(true);
  const result = {
    train: (await training.data()) as Float32Array,
    eval: (await inference.data()) as Float32Array,
    loss: (await value.data())[0] ?? NaN,
    grads: new Map(
      await Promise.all(
        variables.map(
          async (v, i) =>
            [
              model.trainableWeights[i]?.originalName ?? v.name,
              (await grads[v.name]?.data()) as Float32Array,
            ] as const,
        ),
      ),
    ),
    weights: start,
  };
  tf.dispose([x, y, inference, training, value, ...Object.values(grads)]);
  model.dispose();
  return result;
}

/** The largest |a - b| over the largest |b| (at least 1): relative for large values, absolute for small. */
function maxError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
  }
  return diff / scale;
}

beforeAll(() => tf.env().set('PROD', true));

describe.skipIf(!runs)('webgpu against cpu', () => {
  it('conv + BatchNorm + relu + pooling: forward in both modes and every gradient to 1e-5', async () => {
    await selectBackend('cpu');
    const cpu = await outputs(undefined);
    await selectBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    const gpu = await outputs(cpu.weights);
    expect(maxError(gpu.train, cpu.train)).toBeLessThanOrEqual(1e-5);
    expect(maxError(gpu.eval, cpu.eval)).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThanOrEqual(1e-5);
    // The convolution's kernel, BatchNorm's weight and bias, the linear kernel and bias.
    expect([...gpu.grads.keys()]).toEqual([...cpu.grads.keys()]);
    expect(gpu.grads.size).toBe(5);
    for (const [name, g] of gpu.grads) {
      const reference = cpu.grads.get(name);
      if (!reference) throw new Error(`no cpu gradient for ${name}`);
      expect(
        reference.some((v) => v !== 0),
        name,
      ).toBe(true);
      expect(maxError(g, reference), name).toBeLessThanOrEqual(1e-5);
    }
  });

  it("runs the trainer's SGD update through tfjs's Mul + Add, equal to cpu's to 1e-6", async () => {
    const step = async (backend: 'cpu' | 'webgpu'): Promise<Float32Array> => {
      await selectBackend(backend);
      const w = tf.variable(tf.tensor2d(values(15, 2), [3, 5]), true, `sgd_probe_${backend}`);
      const g = tf.tensor2d(values(15, 5), [3, 5]);
      const optimizer = createOptimizer({ optimizer: 'sgd', lr: 0.05, momentum: 0 });
      optimizer.applyGradients([{ name: w.name, tensor: g }]);
      optimizer.applyGradients([{ name: w.name, tensor: g }]);
      const out = (await w.data()) as Float32Array;
      tf.dispose([w, g]);
      optimizer.dispose();
      return out;
    };
    const cpu = await step('cpu');
    const gpu = await step('webgpu');
    expect(tf.getKernel(SCALED_ADD_KERNEL, 'webgpu')).toBeUndefined();
    expect(maxError(gpu, cpu)).toBeLessThanOrEqual(1e-6);
    const expected = values(15, 2).map((v, i) => v - 2 * 0.05 * (values(15, 5)[i] ?? 0));
    expect(maxError(gpu, expected)).toBeLessThanOrEqual(1e-6);
  });
});

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FUSED_BATCH_NORM_KERNELS,
  TorchBatchNorm,
} from '../../../../src/compiler/targets/tfjs/torch-layers.js';
import { BATCH_NORM_TRAINING_KERNELS } from '../../../../src/runtime/backends/names.js';
import { loadNativeAddon } from '../../../../src/runtime/backends/native-backend.js';
import { selectBackend } from '../../../../src/runtime/backends/select-backend.js';
import { maxAbsDiff, rng, uniform } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const EPS = 1e-5;
const MOMENTUM = 0.1;

/** Largest absolute difference relative to the largest magnitude of the reference. */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  return maxAbsDiff(actual, expected) / Math.max(scale, 1e-30);
}

/** A built layer with random gamma, beta and running statistics. */
function makeLayer(shape: number[], affine: boolean, seed: number): TorchBatchNorm {
  const c = shape[shape.length - 1] ?? 1;
  const layer = new TorchBatchNorm({ eps: EPS, momentum: MOMENTUM, affine });
  layer.build(shape);
  const random = rng(seed);
  const stats = [tf.tensor1d(uniform(c, random, -1, 1)), tf.tensor1d(uniform(c, random, 0.5, 2))];
  const params = affine
    ? [tf.tensor1d(uniform(c, random, 0.5, 1.5)), tf.tensor1d(uniform(c, random, -0.5, 0.5))]
    : [];
  layer.setWeights([...params, ...stats]);
  tf.dispose([...params, ...stats]);
  return layer;
}

/** Frees a layer's weights (Layer.dispose refuses layers never applied to symbolic tensors). */
function disposeLayer(layer: TorchBatchNorm): void {
  for (const w of layer.weights) w.dispose();
}

/** What one training call produces: output, gradients of sum(y * dy), running statistics afterwards. */
interface Outcome {
  y: Float32Array;
  dx: Float32Array;
  dGamma?: Float32Array;
  dBeta?: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/**
 * dx is gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), a difference of terms as large as
 * gamma * rstd * dy; with two values per channel they nearly cancel, so its rounding error scales with them.
 */
function dxScale(layer: TorchBatchNorm, x: tf.Tensor, dy: tf.Tensor): number {
  return tf.tidy(() => {
    const { variance } = tf.moments(
      x,
      Array.from({ length: x.rank - 1 }, (_, i) => i),
    );
    const gamma = layer.affine ? (layer.getWeights()[0] as tf.Tensor) : tf.onesLike(variance);
    return tf.max(tf.abs(tf.mul(dy, tf.mul(gamma, tf.rsqrt(tf.add(variance, EPS)))))).dataSync()[0] ?? 0;
  });
}

/** The pre-fusion path: tf.moments + tf.batchNorm differentiated op by op, running stats as PyTorch updates them. */
function composedPath(layer: TorchBatchNorm, x: tf.Tensor, dy: tf.Tensor): Outcome {
  return tf.tidy(() => {
    const weights = layer.getWeights();
    const [rm, rv] = weights.slice(-2) as [tf.Tensor, tf.Tensor];
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const n = x.size / (x.shape[x.rank - 1] ?? 1);
    const forward = (input: tf.Tensor, gamma?: tf.Tensor, beta?: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(input, axes);
      return tf.batchNorm(input, mean, variance, beta, gamma, EPS);
    };
    const { mean, variance } = tf.moments(x, axes);
    const runningMean = tf.add(tf.mul(rm, 1 - MOMENTUM), tf.mul(mean, MOMENTUM)).dataSync() as Float32Array;
    const runningVar = tf
      .add(tf.mul(rv, 1 - MOMENTUM), tf.mul(variance, (MOMENTUM * n) / (n - 1)))
      .dataSync() as Float32Array;
    if (!layer.affine) {
      // tf.batchNorm without a scale cannot be differentiated (its gradient saves the missing scale), so the
      // reference scales by a constant 1.
      const ones = tf.onesLike(mean);
      const zeros = tf.zerosLike(mean);
      const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(forward(input, ones, zeros), dy)))(x);
      return {
        y: forward(x).dataSync() as Float32Array,
        dx: dx.dataSync() as Float32Array,
        runningMean,
        runningVar,
      };
    }
    const [gamma, beta] = weights as [tf.Tensor, tf.Tensor];
    const [dx, dGamma, dBeta] = tf.grads((input: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(forward(input, g, b), dy)),
    )([x, gamma, beta]) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return {
      y: forward(x, gamma, beta).dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      dGamma: dGamma.dataSync() as Float32Array,
      dBeta: dBeta.dataSync() as Float32Array,
      runningMean,
      runningVar,
    };
  });
}

/** The layer's training call under tf.variableGrads, as the trainer runs it (running stats updated once). */
function fusedPath(layer: TorchBatchNorm, x: tf.Tensor, dy: tf.Tensor): Outcome {
  const input = tf.variable(x);
  let y: Float32Array | undefined;
  const trainable = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const out = layer.apply(input, { training: true }) as tf.Tensor;
    y = out.dataSync() as Float32Array;
    return tf.sum(tf.mul(out, dy));
  }, [input, ...trainable]);
  const read = (v: tf.Variable | undefined): Float32Array | undefined =>
    v === undefined ? undefined : (grads[v.name]?.dataSync() as Float32Array | undefined);
  const [rm, rv] = layer.getWeights().slice(-2) as [tf.Tensor, tf.Tensor];
  const outcome: Outcome = {
    y: y ?? new Float32Array(),
    dx: read(input) ?? new Float32Array(),
    runningMean: rm.dataSync() as Float32Array,
    runningVar: rv.dataSync() as Float32Array,
  };
  const dGamma = read(trainable[0]);
  const dBeta = read(trainable[1]);
  if (dGamma !== undefined) outcome.dGamma = dGamma;
  if (dBeta !== undefined) outcome.dBeta = dBeta;
  // getWeights returns the layer's own variables: not ours to dispose.
  tf.dispose([value, input, ...Object.values(grads)]);
  return outcome;
}

/** One training call of a fresh layer against the composed path, on the active backend. */
function expectMatchesComposed(shape: number[], affine: boolean): void {
  const size = shape.reduce((a, b) => a * b, 1);
  const random = rng(size + (affine ? 1 : 0));
  // An offset far from zero makes the centred variance matter.
  const x = tf.tensor(uniform(size, random, 2, 9), shape);
  const dy = tf.tensor(uniform(size, random, -1, 1), shape);
  const layer = makeLayer(shape, affine, 3);
  const reference = composedPath(layer, x, dy);
  const scale = dxScale(layer, x, dy);
  const fused = fusedPath(layer, x, dy);
  expect(relErr(fused.y, reference.y)).toBeLessThan(1e-5);
  expect(maxAbsDiff(fused.dx, reference.dx) / scale).toBeLessThan(1e-5);
  if (affine) {
    expect(relErr(fused.dGamma ?? [], reference.dGamma ?? [])).toBeLessThan(1e-5);
    expect(relErr(fused.dBeta ?? [], reference.dBeta ?? [])).toBeLessThan(1e-5);
  } else {
    expect(fused.dGamma).toBeUndefined();
    expect(layer.trainableWeights).toHaveLength(0);
  }
  expect(maxAbsDiff(fused.runningMean, reference.runningMean)).toBeLessThan(1e-6);
  expect(relErr(fused.runningVar, reference.runningVar)).toBeLessThan(1e-6);
  tf.dispose([x, dy]);
  disposeLayer(layer);
}

describe.each([
  ['NHWC 4x3x5x2', [4, 3, 5, 2], true],
  ['NHWC 4x3x5x2 without affine', [4, 3, 5, 2], false],
  ['NHWC 2x1x1x3 (two values per channel)', [2, 1, 1, 3], true],
  ['NHWC 3x7x7x5', [3, 7, 7, 5], true],
  ['[N, F] 7x5', [7, 5], true],
  ['[N, F] 9x1 without affine', [9, 1], false],
  ['[N, F] 2x4', [2, 4], true],
])('fused training BatchNorm, %s', (_name, shape, affine) => {
  it('matches the composed tf.moments + tf.batchNorm path: output, dx, dgamma, dbeta, running statistics', () => {
    expectMatchesComposed(shape, affine);
  });
});

describe('fused training BatchNorm on the wasm backend (stock kernels)', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });
  it.each([
    [[4, 6, 6, 8], true],
    [[4, 6, 6, 8], false],
    [[10, 3], true],
  ] as [number[], boolean][])('matches the composed path for %j (affine %s)', (shape, affine) => {
    expectMatchesComposed(shape, affine);
  });
});

const nativeAddon = loadNativeAddon();
const nativeBuilt = typeof nativeAddon !== 'string';

describe("netspec's batch-norm kernels", () => {
  it("have the same names in the layer (its JavaScript twin imports only tfjs) and in the backends' list", () => {
    expect(FUSED_BATCH_NORM_KERNELS).toEqual(BATCH_NORM_TRAINING_KERNELS);
  });
});

/** How many times f calls the addon's `method`: the layer must take the fused kernels on native. */
function addonCalls(method: 'batchNormTraining' | 'batchNormTrainingGrad', f: () => void): number {
  if (typeof nativeAddon === 'string') throw new Error(nativeAddon);
  const original = nativeAddon[method] as (...a: unknown[]) => void;
  let calls = 0;
  (nativeAddon as unknown as Record<string, unknown>)[method] = (...a: unknown[]) => {
    calls++;
    original(...a);
  };
  try {
    f();
  } finally {
    (nativeAddon as unknown as Record<string, unknown>)[method] = original;
  }
  return calls;
}

describe.skipIf(!nativeBuilt)("fused training BatchNorm on the native backend (netspec's kernels)", () => {
  beforeAll(async () => {
    await selectBackend('native');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    [[4, 3, 5, 2], true],
    [[4, 3, 5, 2], false],
    [[2, 1, 1, 3], true],
    [[16, 9, 9, 70], true],
    [[7, 5], true],
    [[9, 1], false],
  ] as [number[], boolean][])(
    'matches the composed path for %j (affine %s), on one kernel each way',
    (shape, affine) => {
      let forward = 0;
      const backward = addonCalls('batchNormTrainingGrad', () => {
        forward = addonCalls('batchNormTraining', () => expectMatchesComposed(shape, affine));
      });
      expect(forward).toBe(1);
      expect(backward).toBe(1);
    },
  );

  it("computes what the layer's composite form computes on this backend, to the last bit or one unit of it", () => {
    // The composite form's operations, one kernel each, on native: the kernels repeat them in the same float32
    // steps; only the order of the float64 partial sums differs.
    const shape = [32, 6, 6, 24];
    const size = shape.reduce((a, b) => a * b, 1);
    const random = rng(21);
    const x = tf.tensor(uniform(size, random, 2, 9), shape);
    const dy = tf.tensor(uniform(size, random, -1, 1), shape);
    const gamma = tf.tensor1d(uniform(24, random, 0.5, 1.5));
    const beta = tf.tensor1d(uniform(24, random, -0.5, 0.5));
    const eps = 1e-5;
    const n = size / 24;
    const axes = [0, 1, 2];
    const composite = tf.tidy(() => {
      const mean = tf.mean(x, axes);
      const xc = tf.sub(x, mean);
      const variance = tf.mean(tf.square(xc), axes);
      const rstd = tf.rsqrt(tf.add(variance, eps));
      const k = tf.mul(gamma, rstd);
      const y = tf.add(tf.mul(xc, k), beta);
      const dBeta = tf.sum(dy, axes);
      const dGamma = tf.mul(tf.sum(tf.mul(dy, xc), axes), rstd);
      const inner = tf.sub(tf.sub(dy, tf.mul(xc, tf.mul(dGamma, tf.div(rstd, n)))), tf.div(dBeta, n));
      return [y, mean, variance, rstd, tf.mul(inner, k), dGamma, dBeta].map(
        (t) => t.dataSync() as Float32Array,
      );
    });
    const fused = tf.tidy(() => {
      const [y, mean, variance, rstd] = tf
        .engine()
        .runKernel(BATCH_NORM_TRAINING_KERNELS.forward, { x, gamma, beta }, { epsilon: eps }) as tf.Tensor[];
      const grads = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAINING_KERNELS.gradient,
          { dy, x, mean, rstd, gamma } as tf.NamedTensorMap,
          {},
        ) as tf.Tensor[];
      return [y, mean, variance, rstd, ...grads].map((t) => (t as tf.Tensor).dataSync() as Float32Array);
    });
    expect(fused).toHaveLength(7);
    fused.forEach((got, i) => {
      const want = composite[i] ?? new Float32Array();
      expect(got.length).toBe(want.length);
      // Within one unit in the last place of each value (float32: 2^-23 relative).
      got.forEach((v, j) =>
        expect(Math.abs(v - (want[j] ?? NaN))).toBeLessThanOrEqual(Math.abs(want[j] ?? 0) * 2 ** -23 + 1e-30),
      );
    });
    tf.dispose([x, dy, gamma, beta]);
  });

  it('names a misuse instead of reading past an array', () => {
    const x = tf.zeros([4, 3]);
    const wrong = tf.ones([2]);
    expect(() =>
      tf
        .engine()
        .runKernel(BATCH_NORM_TRAINING_KERNELS.forward, { x, gamma: wrong, beta: wrong }, { epsilon: 1e-5 }),
    ).toThrow(/a parameter has 2 values, expected 3/);
    expect(() =>
      tf.engine().runKernel(BATCH_NORM_TRAINING_KERNELS.forward, { x, gamma: wrong }, { epsilon: 1e-5 }),
    ).toThrow(/gamma and beta together/);
    tf.dispose([x, wrong]);
  });
});

describe('fused training BatchNorm', () => {
  const shape = [4, 3, 3, 6];
  const size = shape.reduce((a, b) => a * b, 1);

  it('updates the running statistics once per call without a gradient tape too', () => {
    const x = tf.tensor(uniform(size, rng(8), -2, 3), shape);
    const dy = tf.zerosLike(x);
    const layer = makeLayer(shape, true, 4);
    const reference = composedPath(layer, x, dy);
    const y = tf.tidy(() => (layer.apply(x, { training: true }) as tf.Tensor).dataSync());
    const [rm, rv] = layer.getWeights().slice(-2) as [tf.Tensor, tf.Tensor];
    expect(relErr(y, reference.y)).toBeLessThan(1e-5);
    expect(maxAbsDiff(rm.dataSync(), reference.runningMean)).toBeLessThan(1e-6);
    expect(relErr(rv.dataSync(), reference.runningVar)).toBeLessThan(1e-6);
    tf.dispose([x, dy]);
    disposeLayer(layer);
  });

  it.each([true, false])('leaks no tensors across training steps (affine %s)', (affine) => {
    const layer = makeLayer(shape, affine, 5);
    const x = tf.tensor(uniform(size, rng(9), -2, 3), shape);
    const dy = tf.tensor(uniform(size, rng(10), -1, 1), shape);
    const input = tf.variable(x);
    const optimizer = tf.train.sgd(0.01);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy)),
        [input, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)],
      );
      optimizer.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => {
        layer.apply(x, { training: true });
      });
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy, input]);
    optimizer.dispose();
    disposeLayer(layer);
  });

  it('differentiates only the input when gamma and beta are not asked for', () => {
    const x = tf.tensor(uniform(size, rng(12), -2, 3), shape);
    const dy = tf.tensor(uniform(size, rng(13), -1, 1), shape);
    const layer = makeLayer(shape, true, 6);
    const reference = composedPath(layer, x, dy);
    const dx = tf.tidy(() =>
      tf
        .grad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, dy)))(
          x,
        )
        .dataSync(),
    );
    expect(relErr(dx, reference.dx)).toBeLessThan(1e-5);
    tf.dispose([x, dy]);
    disposeLayer(layer);
  });
});

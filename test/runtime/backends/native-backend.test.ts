/**
 * The 'native' backend (oneDNN addon + cpu storage) against the cpu backend: every kernel it runs itself, forward
 * and through gradients, over grids of shapes; leaks; the safety of its array recycling; a few training steps.
 * Skipped, with the reason, where the addon is not built (node native/build.mjs needs g++ and libdnnl-dev).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadNativeAddon,
  NATIVE_KERNELS,
  nativeBackendHook,
} from '../../../src/runtime/backends/native-backend.js';
import { registerNativeBackendHook, selectBackend } from '../../../src/runtime/backends/select-backend.js';

const loaded = loadNativeAddon();
const built = typeof loaded !== 'string';
if (!built) console.warn(`native backend tests skipped: ${loaded}`);

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return diff / Math.max(scale, 1e-6);
}

type Result = { shape: number[]; data: Float32Array }[];

/** f's outputs on cpu and on native; on native, no tensor may be left behind. */
async function compare(f: () => tf.Tensor | tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const run = (): Result =>
    tf.tidy(() => {
      const out = f();
      return (Array.isArray(out) ? out : [out]).map((t) => ({
        shape: t.shape,
        data: Float32Array.from(t.dataSync()),
      }));
    });
  await tf.setBackend('cpu');
  const want = run();
  await tf.setBackend('native');
  const tensors = tf.memory().numTensors;
  const got = run();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(got.map((r) => r.shape)).toEqual(want.map((r) => r.shape));
  got.forEach((r, i) =>
    expect(relativeError(r.data, want[i]?.data ?? new Float32Array())).toBeLessThanOrEqual(tolerance),
  );
}

const t4 = (shape: number[], seed: number): tf.Tensor4D =>
  tf.tensor4d(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape as [number, number, number, number],
  );

beforeAll(async () => {
  tf.env().set('PROD', true);
  if (built) await selectBackend('native');
});

describe('the native backend hook', () => {
  it('says why it cannot run when the addon is missing', () => {
    expect(loadNativeAddon('/nonexistent/netspec_native.node')).toMatch(
      /netspec_native\.node is not built \(node native\/build\.mjs; needs g\+\+ and libdnnl-dev\)$/,
    );
  });

  it.skipIf(!built)('is what --backend native selects by default, with oneDNN named', async () => {
    registerNativeBackendHook(undefined);
    const s = await selectBackend('native');
    expect(s.name).toBe('native');
    expect(s.reasons[0]).toMatch(/^native: native \(oneDNN \d+\.\d+\.\d+, \d+ OpenMP thread\(s\)/);
    expect(nativeBackendHook.name).toBe('native');
    for (const name of NATIVE_KERNELS.keys())
      expect(tf.getKernel(name, 'native')?.kernelFunc).toBe(NATIVE_KERNELS.get(name));
  });
});

describe.skipIf(!built)('native convolutions equal cpu (forward and gradients)', () => {
  const pads: ('valid' | 'same' | number)[] = ['valid', 'same', 1];
  const cases: {
    x: number[];
    k: number;
    co: number;
    stride: number;
    pad: 'valid' | 'same' | number;
    dilation: number;
  }[] = [];
  // Sizes 9 and 10 leave rows that strided convolutions never read: oneDNN 2.6 corrupted the heap on those until
  // the addon cropped them, so they must stay in the grid.
  for (const k of [1, 3, 5, 7])
    for (const stride of [1, 2, 3])
      for (const pad of pads) {
        const i = cases.length;
        cases.push({
          x: [(i % 3) + 1, 9 + (i % 2), 8, [1, 3, 4][i % 3] as number],
          k,
          co: [2, 5, 8][i % 3] as number,
          stride,
          pad,
          dilation: 1,
        });
      }
  cases.push({ x: [2, 9, 9, 3], k: 3, co: 4, stride: 1, pad: 'same', dilation: 2 });
  cases.push({ x: [4, 10, 10, 64], k: 3, co: 64, stride: 1, pad: 'valid', dilation: 1 });
  cases.push({ x: [4, 38, 38, 1], k: 7, co: 64, stride: 2, pad: 'valid', dilation: 1 });
  cases.push({ x: [4, 3, 3, 64], k: 3, co: 128, stride: 1, pad: 'valid', dilation: 1 });

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', async (_name, c) => {
    const x = t4(c.x, 1 + c.k);
    const w = t4([c.k, c.k, c.x[3] as number, c.co], 2 + c.stride);
    const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
    // Forward, and dx / dw through tf.grads (Conv2DBackpropInput and Conv2DBackpropFilter).
    await compare(() => conv(x, w));
    if (c.dilation === 1) await compare(() => tf.grads((a, b) => tf.sum(tf.square(conv(a, b))))([x, w]));
    x.dispose();
    w.dispose();
  });

  it('fuses bias and relu (FusedConv2D), and hands other activations to the cpu kernel', async () => {
    const x = t4([2, 8, 8, 3], 5);
    const w = t4([3, 3, 3, 6], 6);
    const bias = tf.tensor1d(values(6, 7));
    for (const activation of ['linear', 'relu', 'elu'] as const) {
      await compare(() => tf.fused.conv2d({ x, filter: w, strides: 2, pad: 'same', bias, activation }));
      await compare(() =>
        tf.grads((a, b) =>
          tf.sum(
            tf.fused.conv2d({
              x: a as tf.Tensor4D,
              filter: b as tf.Tensor4D,
              strides: 1,
              pad: 'valid',
              bias,
              activation,
            }),
          ),
        )([x, w]),
      );
    }
    tf.dispose([x, w, bias]);
  });
});

describe.skipIf(!built)('native matrix products equal cpu', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[4, 5, 7], [4, 7, 3], false, false],
    [[4, 5, 7], [1, 7, 3], false, false],
    [[1, 5, 7], [4, 3, 7], false, true],
    [[2, 3, 4, 6], [2, 3, 6, 2], false, false],
    [[64, 512], [512, 10], false, false],
  ];
  it.each(cases)('%j x %j (transpose %s, %s)', async (a, b, ta, tb) => {
    const x = tf.tensor(
      values(
        a.reduce((p, q) => p * q, 1),
        3,
      ),
      a,
    );
    const y = tf.tensor(
      values(
        b.reduce((p, q) => p * q, 1),
        4,
      ),
      b,
    );
    await compare(() => tf.matMul(x, y, ta, tb));
    // tfjs has no gradient for a broadcast batch, on any backend.
    if (a.slice(0, -2).join() === b.slice(0, -2).join())
      await compare(() => tf.grads((p, q) => tf.sum(tf.matMul(p, q, ta, tb)))([x, y]));
    tf.dispose([x, y]);
  });
});

describe.skipIf(!built)('native elementwise, copy and reduction kernels equal cpu', () => {
  const pairs: [number[], number[]][] = [
    [
      [4, 5, 6],
      [4, 5, 6],
    ],
    [[4, 5, 6], [6]],
    [[6], [4, 5, 6]],
    [
      [2, 3, 4, 5],
      [1, 1, 1, 5],
    ],
    [[], [3, 4]],
    [[3, 4], []],
    [
      [4, 1],
      [1, 5],
    ],
    [
      [3, 1, 5],
      [3, 4, 5],
    ],
  ];
  it.each(pairs)('add, sub, mul, div of %j and %j', async (a, b) => {
    const x = tf.tensor(
      values(
        Math.max(
          1,
          a.reduce((p, q) => p * q, 1),
        ),
        8,
      ),
      a,
    );
    const y = tf.tensor(
      values(
        Math.max(
          1,
          b.reduce((p, q) => p * q, 1),
        ),
        9,
      ).map((v) => v + 2),
      b,
    );
    for (const op of [tf.add, tf.sub, tf.mul, tf.div]) await compare(() => op(x, y), 1e-6);
    tf.dispose([x, y]);
  });
  it('relu and its gradient (Step), NaN kept', async () => {
    const x = tf.tensor([-2, -0, 0, 0.5, 3, NaN, -1e-9, 7]);
    await tf.setBackend('native');
    expect(Array.from(tf.tidy(() => tf.relu(x).dataSync()))).toEqual([0, -0, 0, 0.5, 3, NaN, 0, 7]);
    expect(Array.from(tf.tidy(() => tf.step(x, 0.25).dataSync()))).toEqual([
      0.25,
      0.25,
      0.25,
      1,
      1,
      NaN,
      0.25,
      1,
    ]);
    await compare(() => tf.grad((t) => tf.sum(tf.mul(tf.relu(t), t)))(tf.tensor(values(50, 3))), 1e-6);
    x.dispose();
  });
  it('tile, slice, pad (also int32), sum and mean over leading and other axes, max pooling gradient', async () => {
    const x = t4([4, 6, 5, 3], 10);
    await compare(() => tf.tile(tf.tensor([1, 2, 3], [1, 1, 1, 3]), [4, 6, 5, 1]), 0);
    await compare(() => tf.slice(x, [1, 1, 0, 1], [2, 4, 5, 2]), 0);
    await compare(
      () =>
        tf.pad(x, [
          [0, 0],
          [1, 2],
          [3, 0],
          [0, 0],
        ]),
      0,
    );
    await compare(
      () =>
        tf.pad(
          x,
          [
            [1, 0],
            [1, 1],
            [0, 0],
            [0, 2],
          ],
          -3,
        ),
      0,
    );
    await compare(
      () =>
        tf.cast(
          tf.pad(
            tf.tensor([[1, 2]], [1, 2], 'int32'),
            [
              [1, 1],
              [0, 1],
            ],
            5,
          ),
          'float32',
        ),
      0,
    );
    for (const [axis, keep] of [
      [[0, 1, 2], false],
      [[0, 1, 2], true],
      [[0], false],
      [[1, 3], true],
      [[2], false],
    ] as const) {
      await compare(() => tf.sum(x, [...axis], keep), 1e-6);
      await compare(() => tf.mean(x, [...axis], keep), 1e-6);
    }
    const rounded = tf.tidy(() => tf.div(tf.round(tf.mul(x, 4)), 4));
    await compare(
      () =>
        tf.grad((t) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), 1.5)))(
          rounded as tf.Tensor4D,
        ),
      1e-6,
    );
    tf.dispose([x, rounded]);
  });
});

describe.skipIf(!built)('native batch normalization and max pooling equal cpu', () => {
  it('normalizes with per-channel or scalar parameters, with and without offset and scale, and its gradients', async () => {
    const x = t4([4, 5, 3, 6], 21);
    const c = (seed: number, shift = 0): tf.Tensor1D => tf.tensor1d(values(6, seed).map((v) => v + shift));
    const [mean, variance, offset, scale] = [c(22), c(23, 1.5), c(24), c(25, 1)];
    await compare(() => tf.batchNorm(x, mean, variance, offset, scale, 1e-5));
    await compare(() => tf.batchNorm(x, mean, variance, undefined, undefined, 0.01));
    await compare(() => tf.batchNorm(x, tf.scalar(0.2), tf.scalar(2), tf.scalar(-1), tf.scalar(3), 1e-3));
    await compare(() =>
      tf.grads((a, m, v) => tf.sum(tf.square(tf.batchNorm(a, m, v, offset, scale, 1e-5))))([
        x,
        mean,
        variance,
      ]),
    );
    tf.dispose([x, mean, variance, offset, scale]);
  });

  const pools: [number[], number, number, 'valid' | 'same' | number][] = [
    [[2, 18, 18, 8], 3, 2, 'valid'],
    [[2, 9, 9, 3], 3, 2, 'same'],
    [[1, 8, 7, 5], 2, 2, 'valid'],
    [[1, 7, 7, 2], 3, 1, 1],
    [[3, 6, 6, 4], 3, 3, 'same'],
  ];
  it.each(pools)('max pools %j with window %i, stride %i, padding %j', async (shape, size, stride, pad) => {
    const x = tf.tensor4d(
      values(
        shape.reduce((a, b) => a * b, 1),
        26,
      ),
      shape as [number, number, number, number],
    );
    await compare(() => tf.maxPool(x, size, stride, pad), 0);
    x.dispose();
  });
});

describe.skipIf(!built)('array recycling is invisible', () => {
  it('hands out copies on reads, so an array kept by a caller never changes', async () => {
    await tf.setBackend('native');
    const t = tf.tidy(() => tf.add(tf.zeros([200, 200]), 1));
    const kept = t.dataSync();
    kept[0] = 42;
    expect(t.dataSync()[0]).toBe(1);
    t.dispose();
    // Same-sized outputs now reuse the freed array; what the caller kept must not move.
    tf.tidy(() => tf.add(tf.zeros([200, 200]), 5).dataSync());
    expect(kept[0]).toBe(42);
    expect(kept[1]).toBe(1);
  });

  it('never reuses an array the caller gave to a tensor', async () => {
    await tf.setBackend('native');
    const mine = new Float32Array(40000).fill(3);
    const t = tf.tensor(mine, [200, 200]);
    t.dispose();
    tf.tidy(() => tf.mul(tf.ones([200, 200]), 7).dataSync());
    expect(mine.every((v) => v === 3)).toBe(true);
  });

  it('keeps split outputs (views of their input on the cpu kernels) intact after the input is recycled', async () => {
    await tf.setBackend('native');
    const input = tf.tidy(() => tf.add(tf.zeros([4, 100, 100]), tf.reshape(tf.range(0, 4), [4, 1, 1])));
    const parts = tf.split(input, 4, 0);
    input.dispose();
    tf.tidy(() => tf.mul(tf.ones([4, 100, 100]), -1).dataSync());
    parts.forEach((p, i) => expect(p.dataSync().every((v) => v === i)).toBe(true));
    tf.dispose(parts);
  });
});

describe.skipIf(!built)('training on native follows cpu', () => {
  it('gives the same losses as cpu over three SGD steps of a small conv net with BN', async () => {
    const run = async (backend: string): Promise<number[]> => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const x = t4([8, 10, 10, 2], 1);
        const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
        const w1 = tf.variable(t4([3, 3, 2, 8], 2).mul(0.3));
        const w2 = tf.variable(tf.tensor2d(values(8 * 3, 3), [8, 3]));
        const optimizer = tf.train.sgd(0.1);
        const losses: number[] = [];
        for (let i = 0; i < 3; i++) {
          const loss = optimizer.minimize(() => {
            const h = tf.conv2d(x, w1 as unknown as tf.Tensor4D, 2, 'same');
            const { mean, variance } = tf.moments(h, [0, 1, 2]);
            const n = tf.relu(tf.batchNorm(h, mean, variance, tf.zeros([8]), tf.ones([8]), 1e-5));
            const pooled = tf.mean(tf.maxPool(n as tf.Tensor4D, 2, 2, 'valid'), [1, 2]);
            return tf.losses.softmaxCrossEntropy(y, tf.matMul(pooled, w2)) as tf.Scalar;
          }, true);
          losses.push(loss?.dataSync()[0] ?? NaN);
        }
        optimizer.dispose();
        return losses;
      });
    };
    const cpu = await run('cpu');
    const native = await run('native');
    expect(native.length).toBe(3);
    native.forEach((l, i) =>
      expect(Math.abs(l - (cpu[i] ?? NaN))).toBeLessThanOrEqual(1e-4 * Math.abs(cpu[i] ?? 1)),
    );
  });
});

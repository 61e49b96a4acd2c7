/**
 * The 'native' backend (oneDNN addon + cpu storage) against the cpu backend: every kernel it runs itself, forward
 * and through gradients, over grids of shapes (and which cases fall back to the cpu kernel); leaks; the filters
 * the addon keeps; the same bits on one thread and two; the safety of its array recycling; a few training steps.
 * Skipped, with the reason, where the addon is not built (node native/build.mjs needs g++ and libdnnl-dev).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadNativeAddon,
  NATIVE_KERNELS,
  nativeBackendHook,
  nativeThreads,
  type NativeAddon,
} from '../../../src/runtime/backends/native-backend.js';
import { sumLeadingRows } from '../../../src/runtime/backends/array-kernels.js';
import { registerNativeBackendHook, selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { relativeError, values } from '../../support/values.js';

const loaded = loadNativeAddon();
const built = typeof loaded !== 'string';
if (!built) console.warn(`native backend tests skipped: ${loaded}`);

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

/** f's result, and how many times it called the addon's `method` (to tell the native path from the cpu one). */
function callsTo<T>(method: keyof NativeAddon, f: () => T): { result: T; calls: number } {
  if (typeof loaded === 'string') throw new Error(loaded);
  const addon = loaded as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = addon[method] as (...a: unknown[]) => unknown;
  let calls = 0;
  addon[method] = (...a: unknown[]) => {
    calls++;
    return original(...a);
  };
  try {
    return { result: f(), calls };
  } finally {
    addon[method] = original;
  }
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
  // Filters with taps that read only padding (left out of the oneDNN convolution): a 1x1 image, a stride-2
  // convolution down to 1x1 (ResNet18's last stage on 32x32), a one-row image, a dilated filter on 2x2.
  cases.push({ x: [4, 1, 1, 16], k: 3, co: 8, stride: 1, pad: 1, dilation: 1 });
  cases.push({ x: [4, 2, 2, 8], k: 3, co: 16, stride: 2, pad: 1, dilation: 1 });
  cases.push({ x: [2, 1, 5, 3], k: 3, co: 4, stride: 1, pad: 'same', dilation: 1 });
  cases.push({ x: [2, 3, 2, 3], k: 5, co: 4, stride: 2, pad: 2, dilation: 1 });
  cases.push({ x: [2, 2, 2, 3], k: 3, co: 4, stride: 1, pad: 'same', dilation: 2 });

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

  const fused: {
    x: number[];
    k: number;
    stride: number;
    pad: 'valid' | 'same' | number;
    bias: 'none' | 'vector' | 'rank4';
  }[] = [
    { x: [2, 8, 8, 3], k: 3, stride: 2, pad: 'same', bias: 'vector' },
    { x: [1, 9, 7, 4], k: 3, stride: 1, pad: 'valid', bias: 'rank4' },
    { x: [3, 10, 10, 2], k: 1, stride: 2, pad: 'valid', bias: 'none' },
    { x: [2, 11, 9, 5], k: 5, stride: 3, pad: 2, bias: 'vector' },
  ];
  const activations = ['linear', 'relu', 'relu6', 'leakyrelu', 'elu', 'sigmoid', 'prelu'] as const;
  it.each(fused.map((c) => [JSON.stringify(c), c] as const))(
    'fuses bias and every activation into the convolution (FusedConv2D), PReLU on the cpu kernel: %s',
    async (_name, c) => {
      const ci = c.x[3] as number;
      const co = 6;
      const x = t4(c.x, 5);
      // Scaled so that relu6 clips some outputs at 6.
      const w = tf.tidy(() => tf.mul(t4([c.k, c.k, ci, co], 6), 4) as tf.Tensor4D);
      const bias =
        c.bias === 'none' ? undefined : tf.tensor(values(co, 7), c.bias === 'vector' ? [co] : [1, 1, 1, co]);
      const alphas = tf.tensor1d(values(co, 8));
      for (const activation of activations) {
        const conv = (): tf.Tensor4D =>
          tf.fused.conv2d({
            x,
            filter: w,
            strides: c.stride,
            pad: c.pad,
            ...(bias ? { bias } : {}),
            activation,
            ...(activation === 'prelu' ? { preluActivationWeights: alphas } : {}),
            ...(activation === 'leakyrelu' ? { leakyreluAlpha: 0.15 } : {}),
          });
        await compare(conv);
        await tf.setBackend('native');
        const { calls } = callsTo('conv2d', () => tf.tidy(() => conv().dataSync()));
        expect(calls).toBe(activation === 'prelu' ? 0 : 1);
      }
      // tfjs differentiates FusedConv2D for linear and relu only.
      for (const activation of ['linear', 'relu'] as const)
        await compare(() =>
          tf.grads((a, b) =>
            tf.sum(
              tf.square(
                tf.fused.conv2d({
                  x: a as tf.Tensor4D,
                  filter: b as tf.Tensor4D,
                  strides: c.stride,
                  pad: c.pad,
                  ...(bias ? { bias } : {}),
                  activation,
                }),
              ),
            ),
          )([x, w]),
        );
      tf.dispose([x, w, alphas, ...(bias ? [bias] : [])]);
    },
  );
});

/** How the addon runs a convolution: the name it returns starts with 'dense ' or 'pointwise ', else oneDNN's. */
type Path = 'dense' | 'pointwise' | 'convolution';

describe.skipIf(!built)(
  'convolutions of images no larger than their filter, and 1x1 ones, run as one matrix product',
  () => {
    // [x shape, kernel, co, stride, padding, dilation, path]: 'dense' when the (cropped) image has no more positions
    // than the filter has live taps, 'pointwise' when the live filter is one tap without padding (gathering the
    // strided positions), else oneDNN's convolution.
    const cases: [number[], number, number, number, 'valid' | 'same' | number, number, Path][] = [
      [[5, 2, 2, 24], 3, 16, 1, 1, 1, 'dense'], // ResNet18 stage 4 on 32x32 digits
      [[3, 2, 2, 16], 3, 24, 2, 1, 1, 'dense'], // stage 5's stride-2 3x3, 2x2 -> 1x1 (live taps 2x2)
      [[4, 1, 1, 32], 3, 8, 1, 1, 1, 'dense'], // a 1x1 image: the centre tap, the filter's own memory
      [[2, 1, 1, 8], 1, 6, 1, 'valid', 1, 'dense'], // 1x1 by 1x1
      [[2, 2, 2, 8], 1, 6, 2, 'valid', 1, 'dense'], // stride-2 shortcut down to 1x1 (input cropped to 1x1)
      [[3, 4, 4, 5], 3, 7, 2, 'valid', 1, 'dense'], // 4x4 -> 1x1: the input cropped to 3x3
      [[2, 3, 3, 4], 5, 6, 1, 2, 1, 'dense'], // 3x3 image, 5x5 filter: 9 positions, 25 taps
      [[2, 2, 2, 3], 3, 4, 1, 'same', 2, 'pointwise'], // dilated: only the centre tap is live, a 1x1 convolution
      [[2, 3, 3, 3], 2, 4, 1, 'valid', 2, 'convolution'], // dilated 2x2 on 3x3: 9 positions > 4 taps
      [[2, 2, 3, 4], 3, 5, 1, 1, 1, 'dense'], // 6 positions, 9 taps
      [[2, 4, 4, 8], 3, 8, 1, 1, 1, 'convolution'], // 16 positions
      [[3, 8, 8, 6], 1, 10, 2, 'valid', 1, 'pointwise'], // ResNet18's stride-2 shortcut, 8x8 -> 4x4
      [[2, 9, 7, 5], 1, 4, 2, 'valid', 1, 'pointwise'], // odd sizes: the last row and column are read
      [[2, 10, 10, 5], 1, 4, 3, 'valid', 1, 'pointwise'], // stride 3: rows 0, 3, 6, 9 read
      [[2, 5, 6, 7], 1, 9, 1, 'valid', 1, 'pointwise'], // stride 1: the input as it is
      [[2, 5, 6, 7], 1, 9, 1, 1, 1, 'convolution'], // padded: a convolution
    ];
    it.each(cases.map((c) => [JSON.stringify(c), c] as const))(
      '%s: forward, both gradients, fused epilogue',
      async (_name, c) => {
        if (typeof loaded === 'string') throw new Error(loaded);
        const [shape, k, co, stride, pad, dilation, path] = c;
        const ci = shape[3] as number;
        const x = t4(shape, 70 + k);
        const w = t4([k, k, ci, co], 71 + stride);
        const bias = tf.tensor1d(values(co, 72));
        const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
          tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad, 'NHWC', dilation);
        await compare(() => conv(x, w), 1e-5);
        if (dilation === 1)
          await compare(() => tf.grads((a, b) => tf.sum(tf.square(conv(a, b))))([x, w]), 1e-5);
        await compare(
          () =>
            tf.fused.conv2d({
              x,
              filter: w,
              strides: stride,
              pad,
              dilations: dilation,
              bias,
              activation: 'relu',
            }),
          1e-5,
        );
        await tf.setBackend('native');
        // Which implementation ran, from the addon itself, for all three kinds.
        const out = tf.tidy(() => conv(x, w));
        const outShape = out.shape;
        out.dispose();
        const [n, h, wd] = shape as [number, number, number];
        const [ho, wo] = [outShape[1], outShape[2]];
        const info = tf.backend() as unknown as { data: { get(id: unknown): { values: Float32Array } } };
        const xs = info.data.get(x.dataId).values;
        const ws = info.data.get(w.dataId).values;
        const padTop =
          pad === 'same'
            ? Math.floor(Math.max(0, (ho - 1) * stride + (k - 1) * dilation + 1 - h) / 2)
            : pad === 'valid'
              ? 0
              : pad;
        const padLeft =
          pad === 'same'
            ? Math.floor(Math.max(0, (wo - 1) * stride + (k - 1) * dilation + 1 - wd) / 2)
            : pad === 'valid'
              ? 0
              : pad;
        const dims = Int32Array.from([
          n,
          h,
          wd,
          ci,
          co,
          k,
          k,
          ho,
          wo,
          stride,
          stride,
          dilation,
          dilation,
          padTop,
          padLeft,
          1,
        ]);
        const dy = new Float32Array(n * ho * wo * co);
        for (const kind of [0, 1, 2] as const) {
          const impl = loaded.conv2d(kind, Float32Array.from(xs), Float32Array.from(ws), dy, dims);
          expect(
            impl.startsWith('dense ') ? 'dense' : impl.startsWith('pointwise ') ? 'pointwise' : 'convolution',
          ).toBe(path);
        }
        tf.dispose([x, w, bias]);
      },
    );

    it("keeps the product's filter matrix for repeated forward passes, and drops it with the filter", async () => {
      if (typeof loaded === 'string') throw new Error(loaded);
      await tf.setBackend('native');
      const x = t4([4, 2, 2, 16], 80);
      const w = t4([3, 3, 16, 8], 81);
      await tf.setBackend('cpu');
      const want = tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync().slice());
      await tf.setBackend('native');
      const before = loaded.keptWeights();
      for (let pass = 0; pass < 3; pass++) {
        const got = tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync().slice());
        expect(relativeError(got, want)).toBeLessThanOrEqual(1e-5);
        expect(loaded.keptWeights()).toBe(before + (pass === 0 ? 0 : 1));
      }
      w.dispose();
      expect(loaded.keptWeights()).toBe(before);
      x.dispose();
    });
  },
);

describe.skipIf(!built)('filters kept in oneDNN layout', () => {
  it('serve repeated forward passes, and are dropped when the filter changes or goes', async () => {
    if (typeof loaded === 'string') throw new Error(loaded);
    const x = t4([4, 6, 6, 64], 60);
    const initial = t4([3, 3, 64, 64], 61);
    const w = tf.variable(initial);
    initial.dispose();
    const conv = (): tf.Tensor => tf.conv2d(x, w as unknown as tf.Tensor4D, 1, 'same');
    for (let step = 0; step < 3; step++) {
      await tf.setBackend('cpu');
      const want = tf.tidy(() => conv().dataSync().slice());
      await tf.setBackend('native');
      for (let pass = 0; pass < 3; pass++) {
        const got = tf.tidy(() => conv().dataSync().slice());
        expect(relativeError(got, want)).toBeLessThanOrEqual(1e-4);
        // Kept from the second pass on.
        expect(loaded.keptWeights()).toBe(pass === 0 ? 0 : 1);
      }
      // New values under a new data id; the old one is disposed, and its array recycled for later outputs.
      tf.tidy(() => w.assign(tf.mul(w, -0.5)));
      expect(loaded.keptWeights()).toBe(0);
    }
    tf.dispose([x, w]);
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

describe.skipIf(!built)('native dense layers (_FusedMatMul) equal cpu', () => {
  it.each([
    [false, false],
    [true, false],
    [false, true],
  ])(
    'with bias and relu, linear, or an activation left to the cpu kernel (transpose %s, %s)',
    async (ta, tb) => {
      const a = tf.tensor2d(values(64 * 48, 50), ta ? [48, 64] : [64, 48]);
      const b = tf.tensor2d(values(48 * 10, 51), tb ? [10, 48] : [48, 10]);
      const bias = tf.tensor1d(values(10, 52));
      for (const activation of ['linear', 'relu', 'elu'] as const)
        for (const withBias of [true, false]) {
          const dense = (x: tf.Tensor, y: tf.Tensor): tf.Tensor =>
            tf.fused.matMul({
              a: x as tf.Tensor2D,
              b: y as tf.Tensor2D,
              transposeA: ta,
              transposeB: tb,
              ...(withBias ? { bias } : {}),
              activation,
            });
          await compare(() => dense(a, b));
          await tf.setBackend('native');
          expect(callsTo('matMul', () => tf.tidy(() => dense(a, b).dataSync())).calls).toBe(
            activation === 'elu' ? 0 : 1,
          );
          if (activation !== 'elu')
            await compare(() => tf.grads((x, y) => tf.sum(tf.square(dense(x, y))))([a, b]));
        }
      tf.dispose([a, b, bias]);
    },
  );
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

describe.skipIf(!built)('native batch normalization equals cpu', () => {
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
});

describe.skipIf(!built)('native pooling, transpose and unary kernels equal cpu', () => {
  const pools: [number[], number | [number, number], number | [number, number], 'valid' | 'same' | number][] =
    [
      [[2, 18, 18, 8], 3, 2, 'valid'],
      [[2, 9, 9, 3], 3, 2, 'same'],
      [[1, 8, 7, 5], 2, 2, 'valid'],
      [[1, 7, 7, 2], 3, 1, 1],
      [[3, 6, 6, 4], 3, 3, 'same'],
      [[2, 10, 7, 3], [3, 2], [2, 1], 'same'],
      [[4, 5, 5, 6], 5, 1, 'valid'],
      [[64, 4, 4, 40], 4, 4, 'valid'],
      [[64, 1, 1, 24], 1, 1, 'valid'],
      [[2, 12, 12, 64], 3, 2, 1],
    ];
  it.each(pools)(
    'max and average pooling of %j, window %j, stride %j, padding %j, and gradients',
    async (shape, size, stride, pad) => {
      // Values on a coarse grid, so that windows hold ties (the first maximum gets the gradient).
      const x = tf.tidy(() => tf.div(tf.round(tf.mul(t4(shape, 26), 4)), 4) as tf.Tensor4D);
      await compare(() => tf.maxPool(x, size, stride, pad), 0);
      await compare(() => tf.avgPool(x, size, stride, pad), 1e-6);
      await compare(
        () => tf.grad((t) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, pad), 1.5)))(x),
        1e-6,
      );
      await compare(
        () =>
          tf.grad((t) =>
            tf.sum(
              tf.mul(
                tf.avgPool(t as tf.Tensor4D, size, stride, pad),
                t4(tf.maxPool(x, size, stride, pad).shape, 27),
              ),
            ),
          )(x),
        1e-5,
      );
      x.dispose();
    },
  );

  it('max pooling ignores NaN and gives -Infinity to a window without numbers, as on cpu', async () => {
    const x = tf.tensor4d([NaN, NaN, NaN, NaN, NaN, NaN, -Infinity, 2], [1, 2, 4, 1]);
    await tf.setBackend('native');
    expect(Array.from(tf.tidy(() => tf.maxPool(x, [2, 2], 2, 'valid').dataSync()))).toEqual([-Infinity, 2]);
    await tf.setBackend('cpu');
    expect(Array.from(tf.tidy(() => tf.maxPool(x, [2, 2], 2, 'valid').dataSync()))).toEqual([-Infinity, 2]);
    x.dispose();
  });

  const perms: [number[], number[]][] = [
    [
      [64, 3, 32, 32],
      [0, 2, 3, 1],
    ],
    [
      [64, 32, 32, 3],
      [0, 3, 1, 2],
    ],
    [
      [33, 70],
      [1, 0],
    ],
    [
      [2, 1, 3, 1, 4],
      [4, 3, 2, 1, 0],
    ],
    [
      [5, 6, 7],
      [1, 0, 2],
    ],
    [
      [5, 6, 7],
      [2, 0, 1],
    ],
    [
      [3, 4, 5, 6],
      [3, 1, 2, 0],
    ],
    [
      [2, 3, 4, 5, 6],
      [0, 4, 2, 1, 3],
    ],
    [[7], [0]],
    [
      [1, 1, 9],
      [2, 1, 0],
    ],
  ];
  it.each(perms)('transposes %j by %j (float32 and int32, exactly)', async (shape, perm) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(values(size, 30), shape);
    const ints = tf.tensor(
      Int32Array.from({ length: size }, (_, i) => i * 7 - 3),
      shape,
      'int32',
    );
    await compare(() => tf.transpose(x, perm), 0);
    await compare(() => tf.cast(tf.transpose(ints, perm), 'float32'), 0);
    await tf.setBackend('native');
    expect(tf.tidy(() => tf.transpose(ints, perm).dtype)).toBe('int32');
    tf.dispose([x, ints]);
  });

  it('squares, negates and takes 1/sqrt exactly as cpu, NaN kept, and differentiates them', async () => {
    const x = tf.tensor(values(70000, 31));
    const positive = tf.tidy(() => tf.add(tf.abs(x), 1e-3));
    await compare(() => [tf.square(x), tf.neg(x), tf.rsqrt(positive)], 0);
    await compare(() => tf.grads((a, b) => tf.sum(tf.mul(tf.square(a), tf.rsqrt(b))))([x, positive]), 1e-6);
    const special = tf.tensor([NaN, -1, 0, -0, Infinity, 4]);
    await tf.setBackend('native');
    const got = tf.tidy(() =>
      [tf.square(special), tf.neg(special), tf.rsqrt(special)].map((t) => Array.from(t.dataSync())),
    );
    expect(got).toEqual([
      [NaN, 1, 0, 0, Infinity, 16],
      [NaN, 1, -0, 0, -Infinity, -4],
      [NaN, NaN, Infinity, -Infinity, 0, 0.5],
    ]);
    tf.dispose([x, positive, special]);
  });
});

describe.skipIf(!built)('native loops give the same bits on one thread as on several', () => {
  it('for elementwise arithmetic, column sums, batch normalization (inference and training) and pooling above the parallel threshold', () => {
    if (typeof loaded === 'string') throw new Error(loaded);
    // Sizes of ResNet18's stem output: every loop below gives each of two threads at least the addon's 256K
    // elements (sumRows by 512 columns; by 64 it stays on one thread).
    const n = 64 * 16 * 16 * 64;
    const a = values(n, 40);
    const b = values(n, 41).map((v) => v + 2);
    const channel = values(64, 42).map((v) => v + 2);
    const dims = Int32Array.from([64, 16, 16, 64, 8, 8, 3, 3, 2, 2, 1, 1]);
    const run = (threads: number): Float32Array[] => {
      loaded.setThreads(threads);
      const outs: Float32Array[] = [];
      const next = (length: number): Float32Array => {
        const out = new Float32Array(length);
        outs.push(out);
        return out;
      };
      for (const op of [0, 1, 2, 3] as const) {
        loaded.binary(op, a, b, next(n));
        loaded.binary(op, a, channel, next(n));
        loaded.binary(op, channel, b, next(n));
        loaded.binary(op, a, Float32Array.of(3), next(n));
      }
      for (const op of [0, 1, 2, 3, 4] as const) loaded.unary(op, a, next(n), 0.5);
      loaded.sumRows(a, next(512), 1 / 2048);
      loaded.sumRows(a, next(64), 1);
      loaded.batchNorm(a, channel, channel, channel, channel, next(n), 1e-3);
      // Training batch norm: column sums over blocks of rows that the threads share.
      const [mean, variance, rstd] = [next(64), next(64), next(64)];
      loaded.batchNormTraining(a, channel, channel, 1e-5, next(n), mean, variance, rstd);
      loaded.batchNormTrainingGrad(b, a, mean, rstd, channel, next(n), next(64), next(64));
      loaded.pool(0, a, next(64 * 8 * 8 * 64), dims);
      loaded.pool(1, a, next(64 * 8 * 8 * 64), dims);
      loaded.maxPoolGrad(a, values(64 * 8 * 8 * 64, 43), next(n), dims);
      loaded.avgPoolGrad(values(64 * 8 * 8 * 64, 43), next(n), dims);
      loaded.transpose(a, next(n), Int32Array.from([64, 16, 16, 64]), Int32Array.from([0, 3, 1, 2]));
      return outs;
    };
    try {
      const one = run(1);
      const two = run(2);
      const bits = (f: Float32Array | undefined): Uint32Array =>
        new Uint32Array(f?.buffer ?? new ArrayBuffer(0));
      one.forEach((out, i) => {
        const want = bits(out);
        const got = bits(two[i]);
        expect(got.length).toBe(want.length);
        expect(got.findIndex((v, j) => v !== want[j])).toBe(-1);
      });
      // And the column sums are those of the JavaScript loop the wasm backend uses.
      const want = new Float32Array(512);
      sumLeadingRows(a, n / 512, 512, want, 1 / 2048);
      expect(Array.from(one[21] ?? [])).toEqual(Array.from(want));
    } finally {
      loaded.setThreads(nativeThreads());
    }
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

/**
 * The native kernels MobileNetV2 added, against the cpu backend: depthwise convolutions (oneDNN grouped
 * convolutions, one group per channel) forward and through both gradients over grids of shapes, strides, paddings
 * and multipliers; Minimum, Maximum and the comparisons of their gradients (tfjs-layers' ReLU6); binary operands
 * spread over trailing axes, Exp and Log (softmax cross-entropy). Each checks that the addon ran and that nothing
 * leaks. Skipped, with the reason, where the addon is not built.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon } from '../../../src/runtime/backends/native-backend.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { relativeError, values } from '../../support/values.js';

const loaded = loadNativeAddon();
const built = typeof loaded !== 'string';
if (!built) console.warn(`native depthwise tests skipped: ${loaded}`);

type Result = { shape: number[]; dtype: string; data: Float32Array }[];

/** f's outputs on `backend`, read inside a tidy; on native, no tensor may be left behind. */
async function outputsOn(backend: 'cpu' | 'native', f: () => tf.Tensor | tf.Tensor[]): Promise<Result> {
  await tf.setBackend(backend);
  const tensors = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const r = f();
    return (Array.isArray(r) ? r : [r]).map((t) => ({
      shape: t.shape,
      dtype: t.dtype,
      data: Float32Array.from(t.dataSync()),
    }));
  });
  expect(tf.memory().numTensors).toBe(tensors);
  return out;
}

/**
 * f's outputs on native against cpu: same shapes and dtypes, values within `tolerance` (0: the same values,
 * signed zeros told apart, NaN equal to NaN whatever its sign bit).
 */
async function compare(f: () => tf.Tensor | tf.Tensor[], tolerance: number): Promise<void> {
  const want = await outputsOn('cpu', f);
  const got = await outputsOn('native', f);
  expect(got.map((r) => [r.shape, r.dtype])).toEqual(want.map((r) => [r.shape, r.dtype]));
  got.forEach((r, i) => {
    const w = want[i]?.data ?? new Float32Array();
    if (tolerance === 0) expect(Array.from(r.data)).toEqual(Array.from(w));
    else expect(relativeError(r.data, w)).toBeLessThanOrEqual(tolerance);
  });
}

/** How many times f called the addon's `method` on the native backend (the native path, not the cpu one). */
async function callsTo(method: keyof NativeAddon, f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  if (typeof loaded === 'string') throw new Error(loaded);
  await tf.setBackend('native');
  const addon = loaded as unknown as Record<string, (...a: unknown[]) => unknown>;
  const original = addon[method] as (...a: unknown[]) => unknown;
  let calls = 0;
  addon[method] = (...a: unknown[]) => {
    calls++;
    return original(...a);
  };
  try {
    tf.tidy(() => {
      const r = f();
      for (const t of Array.isArray(r) ? r : [r]) t.dataSync();
    });
  } finally {
    addon[method] = original;
  }
  return calls;
}

const tensor = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

beforeAll(async () => {
  tf.env().set('PROD', true);
  if (built) await selectBackend('native');
});

type Pad = 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]];
type DepthwiseCase = {
  x: number[];
  k: number;
  multiplier: number;
  stride: number;
  pad: Pad;
  dilation: number;
};

describe.skipIf(!built)('depthwise convolutions on oneDNN', () => {
  const explicit = (p: number): Pad => [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ];
  const cases: DepthwiseCase[] = [];
  for (const x of [
    [2, 8, 8, 16],
    [3, 7, 9, 5],
  ])
    for (const k of [1, 3, 5])
      for (const stride of [1, 2])
        for (const pad of ['valid', 'same', explicit((k - 1) / 2)] as Pad[])
          cases.push({ x, k, multiplier: 1, stride, pad, dilation: 1 });
  // What netspec's TorchConv2d runs for MobileNetV2 (padding 1, stride 1 and 2), with the channels and sizes of
  // its last stages on 32x32 inputs.
  cases.push({ x: [8, 4, 4, 384], k: 3, multiplier: 1, stride: 1, pad: explicit(1), dilation: 1 });
  cases.push({ x: [8, 4, 4, 576], k: 3, multiplier: 1, stride: 2, pad: explicit(1), dilation: 1 });
  cases.push({ x: [8, 1, 1, 960], k: 3, multiplier: 1, stride: 1, pad: explicit(1), dilation: 1 });
  // Channel multipliers, asymmetric and numeric padding, dilation (stride 1 only in tfjs), taps that read only
  // padding.
  cases.push({ x: [2, 6, 6, 3], k: 3, multiplier: 2, stride: 1, pad: 'same', dilation: 1 });
  cases.push({ x: [2, 9, 7, 4], k: 3, multiplier: 3, stride: 2, pad: 1, dilation: 1 });
  cases.push({ x: [2, 6, 5, 8], k: 4, multiplier: 1, stride: 2, pad: 'same', dilation: 1 });
  cases.push({ x: [2, 9, 9, 6], k: 3, multiplier: 1, stride: 1, pad: 'same', dilation: 2 });
  cases.push({ x: [2, 2, 2, 8], k: 3, multiplier: 1, stride: 2, pad: 1, dilation: 1 });
  cases.push({ x: [2, 1, 1, 8], k: 3, multiplier: 2, stride: 1, pad: 1, dilation: 1 });

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', async (_name, c) => {
    const x = tensor(c.x, 3 + c.k) as tf.Tensor4D;
    const w = tensor([c.k, c.k, c.x[3] as number, c.multiplier], 4 + c.stride) as tf.Tensor4D;
    const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor4D =>
      tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation);
    // A weighted sum, so that every output's gradient differs.
    const y = conv(x, w);
    const r = tensor(y.shape, 9);
    y.dispose();
    const gradients = (): tf.Tensor[] => tf.grads((a, b) => tf.sum(tf.mul(conv(a, b), r)))([x, w]);
    await compare(() => conv(x, w), 1e-5);
    expect(await callsTo('conv2d', () => conv(x, w))).toBe(1);
    // tfjs has no gradient for dilated depthwise convolutions. Otherwise the input and the filter gradient ran on
    // the addon too.
    if (c.dilation === 1) {
      await compare(gradients, 1e-5);
      expect(await callsTo('conv2d', gradients)).toBe(3);
    }
    tf.dispose([x, w, r]);
  });
});

describe.skipIf(!built)('Minimum, Maximum, comparisons and broadcasts on the addon', () => {
  // Special values where Math.min/max and IEEE comparisons differ from the naive ones: NaN, signed zeros, ties.
  const special = [Number.NaN, -0, 0, 6, -6, 1e-30, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const pairs = special.flatMap((a) => special.map((b) => [a, b] as const));
  const a = (): tf.Tensor =>
    tf.tensor1d(
      pairs.map((p) => p[0]),
      'float32',
    );
  const b = (): tf.Tensor =>
    tf.tensor1d(
      pairs.map((p) => p[1]),
      'float32',
    );
  const binaries = {
    minimum: tf.minimum,
    maximum: tf.maximum,
    greater: tf.greater,
    greaterEqual: tf.greaterEqual,
    less: tf.less,
    lessEqual: tf.lessEqual,
  } as const;

  it.each(Object.keys(binaries))('%s gives the cpu kernel bits on special values', async (name) => {
    const op = binaries[name as keyof typeof binaries];
    await compare(() => op(a(), b()), 0);
    expect(await callsTo(name.startsWith('m') ? 'binary' : 'compare', () => op(a(), b()))).toBe(1);
  });

  // A scalar on either side (ReLU6 is minimum(6, relu(x))), a per-channel vector, a row statistic spread over
  // the trailing axes (softmax cross-entropy's [N, 1] maximum and sum against [N, K] logits), and general
  // broadcasts, which the cpu kernel keeps. Add, Sub, Multiply and RealDiv share the layouts.
  const layouts: { a: number[]; b: number[]; native: boolean }[] = [
    { a: [], b: [4, 5, 6, 7], native: true },
    { a: [4, 5, 6, 7], b: [], native: true },
    { a: [4, 5, 6, 7], b: [7], native: true },
    { a: [7], b: [4, 5, 6, 7], native: true },
    { a: [4, 5, 6, 7], b: [4, 5, 6, 7], native: true },
    { a: [16, 100], b: [16, 1], native: true },
    { a: [16, 1], b: [16, 100], native: true },
    { a: [4, 5, 6, 7], b: [4, 5, 1, 1], native: true },
    { a: [4, 1, 1, 1], b: [4, 5, 6, 7], native: true },
    { a: [4, 5, 6, 7], b: [1, 4, 1, 1, 1], native: true },
    { a: [4, 1, 6, 7], b: [4, 5, 1, 7], native: false },
    { a: [4, 5, 6, 7], b: [4, 1, 6, 1], native: false },
    { a: [4, 5, 1], b: [4, 1, 7], native: false },
  ];
  const arithmetic = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;
  it.each(layouts.map((l) => [JSON.stringify(l), l] as const))('%s', async (_name, l) => {
    const x = (): tf.Tensor => tensor(l.a, 21);
    const y = (): tf.Tensor => tensor(l.b, 22);
    for (const [name, op] of Object.entries({ ...binaries, ...arithmetic })) {
      await compare(() => op(x(), y()), 0);
      const calls = await callsTo(
        name.startsWith('greater') || name.startsWith('less') ? 'compare' : 'binary',
        () => op(x(), y()),
      );
      expect(calls).toBe(l.native ? 1 : 0);
    }
  });

  it('Exp and Log give the cpu kernel values, special ones included', async () => {
    const inputs = (): tf.Tensor =>
      tf.concat([
        tf.tensor1d([Number.NaN, -0, 0, 1, -1, 88, 89, -103, -104, 1e-30, -5, Infinity, -Infinity]),
        tf.mul(tensor([4000], 41), 30),
      ]);
    for (const [name, op] of [
      ['exp', tf.exp],
      ['log', tf.log],
    ] as const) {
      await compare(() => op(inputs()), 0);
      expect(await callsTo('unary', () => op(inputs())), name).toBe(1);
    }
  });

  it("trains through tfjs-layers' relu6 (minimum(6, relu(x))) as on cpu", async () => {
    const x = tf.tidy(() => tf.mul(tensor([8, 5, 5, 12], 31), 9));
    const relu6 = tf.layers.activation({ activation: 'relu6' });
    const r = tensor([8, 5, 5, 12], 32);
    const f = (): tf.Tensor[] => tf.grads((v) => tf.sum(tf.mul(relu6.apply(v) as tf.Tensor, r)))([x]);
    await compare(() => relu6.apply(x) as tf.Tensor, 0);
    await compare(f, 0);
    expect(await callsTo('compare', f)).toBe(1);
    tf.dispose([x, r]);
  });
});

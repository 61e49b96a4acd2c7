import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { IrBuilder } from '../ir-fixtures.js';
import { maxAbsDiff, rng, uniform } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Per-channel batch statistics of NCHW (or [N, F]) data, computed by hand in float64. */
function stats(
  x: Float32Array,
  shape: number[],
): { mean: number[]; biased: number[]; unbiased: number[]; n: number } {
  const [batch = 1, c = 1, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const n = batch * inner;
  const mean: number[] = [];
  const biased: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const vals: number[] = [];
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < inner; i++) vals.push(x[(b * c + ch) * inner + i] ?? 0);
    const m = vals.reduce((a, v) => a + v, 0) / n;
    mean.push(m);
    biased.push(vals.reduce((a, v) => a + (v - m) ** 2, 0) / n);
  }
  return { mean, biased, unbiased: biased.map((v) => (v * n) / (n - 1)), n };
}

describe.each([
  ['BatchNorm2d', [3, 2, 2]],
  ['BatchNorm1d', [5]],
])('TorchBatchNorm as %s', (_kind, featureShape) => {
  const b = new IrBuilder('bn', featureShape);
  b.bn('bn', 'input');
  const ir = b.build();
  const shape = [4, ...featureShape];
  const size = shape.reduce((a, v) => a * v, 1);
  const x = uniform(size, rng(11), -3, 5);
  const s = stats(x, shape);
  const c = featureShape[0] ?? 1;
  const inner = size / 4 / c;
  const channelOf = (i: number): number => Math.floor(i / inner) % c;

  it('normalizes with the biased batch variance in training and updates running stats with the unbiased one', () => {
    const model = buildModel(ir, { seed: 0 });
    const gamma = Float32Array.from({ length: c }, (_, i) => 0.5 + i);
    const beta = Float32Array.from({ length: c }, (_, i) => -1 + i);
    setStateDict(
      model,
      ir,
      new Map([
        ['bn.weight', { shape: [c], data: gamma }],
        ['bn.bias', { shape: [c], data: beta }],
        ['bn.running_mean', { shape: [c], data: new Float32Array(c).fill(0.25) }],
        ['bn.running_var', { shape: [c], data: new Float32Array(c).fill(2) }],
      ]),
    );
    const y = tf.tidy(() => (model.apply(tf.tensor(x, shape), { training: true }) as tf.Tensor).dataSync());
    const expected = Array.from(x, (v, i) => {
      const ch = channelOf(i);
      return (
        ((v - (s.mean[ch] ?? 0)) / Math.sqrt((s.biased[ch] ?? 0) + 1e-5)) * (gamma[ch] ?? 0) + (beta[ch] ?? 0)
      );
    });
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    const state = getStateDict(model, ir);
    const mean = s.mean.map((m) => 0.9 * 0.25 + 0.1 * m);
    const variance = s.unbiased.map((v) => 0.9 * 2 + 0.1 * v);
    expect(maxAbsDiff(state.get('bn.running_mean')?.data ?? [], mean)).toBeLessThan(1e-6);
    expect(maxAbsDiff(state.get('bn.running_var')?.data ?? [], variance)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('uses the running statistics in inference and leaves them alone', () => {
    const model = buildModel(ir, { seed: 0 });
    const rm = Float32Array.from({ length: c }, (_, i) => i - 1);
    const rv = Float32Array.from({ length: c }, (_, i) => 0.5 + i);
    setStateDict(
      model,
      ir,
      new Map([
        ['bn.weight', { shape: [c], data: new Float32Array(c).fill(2) }],
        ['bn.bias', { shape: [c], data: new Float32Array(c).fill(0.5) }],
        ['bn.running_mean', { shape: [c], data: rm }],
        ['bn.running_var', { shape: [c], data: rv }],
      ]),
    );
    const y = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    const expected = Array.from(x, (v, i) => {
      const ch = channelOf(i);
      return ((v - (rm[ch] ?? 0)) / Math.sqrt((rv[ch] ?? 0) + 1e-5)) * 2 + 0.5;
    });
    expect(maxAbsDiff(y, expected)).toBeLessThan(1e-5);
    expect(Array.from(getStateDict(model, ir).get('bn.running_mean')?.data ?? [])).toEqual(Array.from(rm));
    model.dispose();
  });

  it('updates running stats exactly once per optimizer step and trains gamma/beta with the exact BN gradient', () => {
    const model = buildModel(ir, { seed: 0 });
    const optimizer = tf.train.sgd(0.1);
    const dy = uniform(size, rng(5), -1, 1);
    const xt = tf.tensor(x, shape);
    const dyt = tf.tensor(dy, shape);
    const steps = 3;
    for (let k = 0; k < steps; k++)
      optimizer.minimize(
        () => tf.sum(tf.mul(model.apply(xt, { training: true }) as tf.Tensor, dyt)) as tf.Scalar,
      );
    const state = getStateDict(model, ir);
    // The input is fixed, so k updates from (0, 1) give running = (1 - 0.9^k) * batch (+ 0.9^k for the var).
    const decay = 0.9 ** steps;
    expect(
      maxAbsDiff(
        state.get('bn.running_mean')?.data ?? [],
        s.mean.map((m) => (1 - decay) * m),
      ),
    ).toBeLessThan(1e-6);
    expect(
      maxAbsDiff(
        state.get('bn.running_var')?.data ?? [],
        s.unbiased.map((v) => (1 - decay) * v + decay),
      ),
    ).toBeLessThan(1e-5);
    // dL/dbeta = sum(dy), dL/dgamma = sum(dy * xhat) per channel; both constant across steps, so SGD moves
    // beta by -0.1 * steps * sum(dy) and gamma by -0.1 * steps * sum(dy * xhat).
    const dBeta = new Array<number>(c).fill(0);
    const dGamma = new Array<number>(c).fill(0);
    x.forEach((v, i) => {
      const ch = channelOf(i);
      const xhat = (v - (s.mean[ch] ?? 0)) / Math.sqrt((s.biased[ch] ?? 0) + 1e-5);
      dBeta[ch] = (dBeta[ch] ?? 0) + (dy[i] ?? 0);
      dGamma[ch] = (dGamma[ch] ?? 0) + (dy[i] ?? 0) * xhat;
    });
    expect(
      maxAbsDiff(
        state.get('bn.bias')?.data ?? [],
        dBeta.map((g) => -0.1 * steps * g),
      ),
    ).toBeLessThan(1e-4);
    expect(
      maxAbsDiff(
        state.get('bn.weight')?.data ?? [],
        dGamma.map((g) => 1 - 0.1 * steps * g),
      ),
    ).toBeLessThan(1e-4);
    tf.dispose([xt, dyt]);
    optimizer.dispose();
    model.dispose();
  });

  it('back-propagates the batch-statistics gradient to its input', () => {
    const model = buildModel(ir, { seed: 0 });
    const dy = uniform(size, rng(6), -1, 1);
    const dx = tf.tidy(() => {
      const dyt = tf.tensor(dy, shape);
      const f = (xt: tf.Tensor): tf.Tensor =>
        tf.sum(tf.mul(model.apply(xt, { training: true }) as tf.Tensor, dyt));
      return tf.grad(f)(tf.tensor(x, shape)).dataSync();
    });
    // dx = gamma * invstd / n * (n * dy - sum(dy) - xhat * sum(dy * xhat)), gamma = 1.
    const sumDy = new Array<number>(c).fill(0);
    const sumDyXhat = new Array<number>(c).fill(0);
    const xhat = Array.from(
      x,
      (v, i) => (v - (s.mean[channelOf(i)] ?? 0)) / Math.sqrt((s.biased[channelOf(i)] ?? 0) + 1e-5),
    );
    x.forEach((_, i) => {
      const ch = channelOf(i);
      sumDy[ch] = (sumDy[ch] ?? 0) + (dy[i] ?? 0);
      sumDyXhat[ch] = (sumDyXhat[ch] ?? 0) + (dy[i] ?? 0) * (xhat[i] ?? 0);
    });
    const expected = Array.from(x, (_, i) => {
      const ch = channelOf(i);
      const invstd = 1 / Math.sqrt((s.biased[ch] ?? 0) + 1e-5);
      return (invstd / s.n) * (s.n * (dy[i] ?? 0) - (sumDy[ch] ?? 0) - (xhat[i] ?? 0) * (sumDyXhat[ch] ?? 0));
    });
    expect(maxAbsDiff(dx, expected)).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('TorchBatchNorm with model.fit', () => {
  it('updates the running statistics once per batch', async () => {
    const b = new IrBuilder('bn-fit', [2, 2, 2]);
    b.bn('bn', 'input');
    b.flatten('flat', 'bn');
    const ir = b.build();
    const model = buildModel(ir, { seed: 0 });
    model.compile({ optimizer: tf.train.sgd(0), loss: 'meanSquaredError' });
    const x = uniform(3 * 8, rng(2), 0, 4);
    const s = stats(x, [3, 2, 2, 2]);
    const xt = tf.tensor(x, [3, 2, 2, 2]);
    const yt = tf.zeros([3, 8]);
    await model.fit(xt, yt, { epochs: 2, batchSize: 3, shuffle: false, verbose: 0 });
    const decay = 0.9 ** 2;
    const mean = getStateDict(model, ir).get('bn.running_mean')?.data ?? [];
    expect(
      maxAbsDiff(
        mean,
        s.mean.map((m) => (1 - decay) * m),
      ),
    ).toBeLessThan(1e-6);
    tf.dispose([xt, yt]);
    model.dispose();
  });

  it('refuses to train on a single value per channel, as PyTorch does', () => {
    const b = new IrBuilder('bn1', [2]);
    b.bn('bn', 'input');
    const ir = b.build();
    const model = buildModel(ir);
    expect(() => tf.tidy(() => model.apply(tf.ones([1, 2]), { training: true }) as tf.Tensor)).toThrow(
      /more than 1 value per channel/,
    );
    model.dispose();
  });
});

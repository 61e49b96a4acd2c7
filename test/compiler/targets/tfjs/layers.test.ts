import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { IrBuilder, zoo } from '../ir-fixtures.js';
import { rng, uniform } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function run(b: IrBuilder, x: number[], shape: number[]): number[] {
  const ir = b.build();
  const model = buildModel(ir, { seed: 0 });
  const y = tf.tidy(() => Array.from((model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync()));
  model.dispose();
  return y;
}

describe('pooling with PyTorch padding', () => {
  it('maxpool pads with -inf, not zeros, so negative borders survive', () => {
    const b = new IrBuilder('mp', [1, 2, 2]);
    b.pool('maxpool', 'pool', 'input', { kernel: 2, stride: 1, padding: 1 });
    // Windows over [[-1, -2], [-3, -4]] padded by one: each output is the max of the real cells it covers.
    expect(run(b, [-1, -2, -3, -4], [1, 1, 2, 2])).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]);
  });

  it('avgpool counts padded zeros (count_include_pad=True)', () => {
    const b = new IrBuilder('ap', [1, 2, 2]);
    b.pool('avgpool', 'pool', 'input', { kernel: 2, stride: 1, padding: 1 });
    const y = run(b, [4, 8, 12, 16], [1, 1, 2, 2]);
    expect(y.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('global_avgpool keeps [C, 1, 1]', () => {
    const b = new IrBuilder('gap', [2, 2, 3]);
    b.globalAvgPool('gap', 'input');
    expect(run(b, [1, 2, 3, 4, 5, 6, -6, -5, -4, -3, -2, -1], [1, 2, 2, 3])).toEqual([3.5, -3.5]);
  });
});

describe('flatten', () => {
  it("flattens in PyTorch's (C, H, W) order: an identity linear after a [2, 2, 2] map returns the NCHW input", () => {
    const b = new IrBuilder('flat', [2, 2, 2]);
    b.flatten('flat', 'input');
    b.linear('fc', 'flat', 8);
    const ir = b.build();
    const model = buildModel(ir, { seed: 0 });
    const eye = Float32Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0));
    expect(
      setStateDict(
        model,
        ir,
        new Map([
          ['fc.weight', { shape: [8, 8], data: eye }],
          ['fc.bias', { shape: [8], data: new Float32Array(8) }],
        ]),
      ),
    ).toEqual([]);
    const x = [1, 2, 3, 4, 5, 6, 7, 8];
    const y = tf.tidy(() => Array.from((model.predict(tf.tensor(x, [1, 2, 2, 2])) as tf.Tensor).dataSync()));
    expect(y).toEqual(x);
    // A known non-identity weight W[j, k] = k - j: PyTorch gives y_j = b_j + sum_k W[j, k] * x_flat[k].
    const w = Float32Array.from({ length: 64 }, (_, i) => (i % 8) - Math.floor(i / 8));
    setStateDict(
      model,
      ir,
      new Map([
        ['fc.weight', { shape: [8, 8], data: w }],
        ['fc.bias', { shape: [8], data: Float32Array.from({ length: 8 }, (_, j) => j / 2) }],
      ]),
    );
    const y2 = tf.tidy(() => Array.from((model.predict(tf.tensor(x, [1, 2, 2, 2])) as tf.Tensor).dataSync()));
    const expected = Array.from({ length: 8 }, (_, j) => x.reduce((s, v, k) => s + (k - j) * v, j / 2));
    expect(y2).toEqual(expected);
    model.dispose();
  });
});

describe('serialization', () => {
  it('round-trips the topology through JSON with the registered custom layers', async () => {
    const ir = zoo();
    const model = buildModel(ir, { seed: 2 });
    const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
    const copy = await tf.models.modelFromJSON({ modelTopology: topology });
    expect(copy.layers.map((l) => [l.name, l.getClassName()])).toEqual(
      model.layers.map((l) => [l.name, l.getClassName()]),
    );
    copy.setWeights(model.getWeights());
    const x = tf.tensor(uniform(4 * 81, rng(3)), [1, 4, 9, 9]);
    const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    const b = tf.tidy(() => (copy.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(b)).toEqual(Array.from(a));
    x.dispose();
    copy.dispose();
    model.dispose();
  });
});

describe('training', () => {
  it('trains every layer form (grouped, depthwise, dilated convs, custom ELU, BN1d, dropout): all weights get gradients', () => {
    const ir = zoo();
    const model = buildModel(ir, { seed: 3 });
    const x = tf.tensor(uniform(2 * 4 * 81, rng(1)), [2, 4, 9, 9]);
    const target = tf.tensor([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const loss = (): tf.Scalar =>
      tf.losses.softmaxCrossEntropy(target, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const { grads, value } = tf.variableGrads(loss);
    const names = model.trainableWeights.map((w) => w.name);
    expect(Object.keys(grads).sort()).toEqual([...names].sort());
    for (const [name, g] of Object.entries(grads))
      expect(tf.any(tf.notEqual(g, 0)).dataSync()[0], name).toBe(1);
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose([x, target]);
    model.dispose();
  });
});

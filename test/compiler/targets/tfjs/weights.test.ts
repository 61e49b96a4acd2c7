import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { leNet, tinyResNet, zoo } from '../ir-fixtures.js';
import { randomStateDict, rng, uniform } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('initialization', () => {
  const ir = tinyResNet();

  it("draws conv and linear weights and biases from U(-1/sqrt(fanIn), 1/sqrt(fanIn)) and BN's constants", () => {
    const model = buildModel(ir, { seed: 42 });
    const dict = getStateDict(model, ir);
    for (const node of ir.nodes)
      for (const p of node.params) {
        const data = dict.get(`${node.path}.${p.name}`)?.data;
        if (!data) throw new Error(`missing ${node.path}.${p.name}`);
        const values = Array.from(data);
        if (p.init.kind === 'ones' || p.init.kind === 'zeros') {
          expect(new Set(values), `${node.path}.${p.name}`).toEqual(
            new Set([p.init.kind === 'ones' ? 1 : 0]),
          );
          continue;
        }
        if (p.init.kind === 'constant' || p.init.kind === 'normal')
          throw new Error(`${node.path}.${p.name}: tinyResNet has no ${p.init.kind} init`);
        const bound =
          p.init.kind === 'xavier_uniform'
            ? Math.sqrt(6 / (p.init.fanIn + p.init.fanOut))
            : 1 / Math.sqrt(p.init.fanIn);
        const max = Math.max(...values.map(Math.abs));
        expect(max, `${node.path}.${p.name}`).toBeLessThanOrEqual(bound);
        // Enough draws to reach near both ends and to center near 0.
        if (values.length >= 200) {
          expect(Math.max(...values)).toBeGreaterThan(0.9 * bound);
          expect(Math.min(...values)).toBeLessThan(-0.9 * bound);
          expect(Math.abs(values.reduce((a, v) => a + v, 0) / values.length)).toBeLessThan(0.15 * bound);
        }
      }
    model.dispose();
  });

  it('is deterministic per seed, differs across seeds, and gives each parameter its own stream', () => {
    const snapshot = (seed: number): Map<string, number[]> => {
      const model = buildModel(ir, { seed });
      const d = new Map([...getStateDict(model, ir)].map(([k, t]) => [k, Array.from(t.data)]));
      model.dispose();
      return d;
    };
    const a = snapshot(7);
    expect(snapshot(7)).toEqual(a);
    const b = snapshot(8);
    expect(b.get('stem.0.weight')).not.toEqual(a.get('stem.0.weight'));
    // Same shape, same bound, different keys: the streams must differ.
    expect(a.get('stage2.0.conv2.weight')?.slice(0, 8)).not.toEqual(
      a.get('stage2.0.conv1.weight')?.slice(0, 8),
    );
    expect(a.get('stem.0.bias')).not.toEqual(a.get('stem.0.weight')?.slice(0, 8));
  });
});

describe('getStateDict / setStateDict', () => {
  it.each([
    ['tinyResNet', tinyResNet],
    ['leNet', leNet],
    ['zoo', zoo],
  ])('round-trips %s exactly, in PyTorch names, shapes and order', (_n, make) => {
    const ir = make();
    const model = buildModel(ir, { seed: 1 });
    const dict = randomStateDict(ir, 9);
    expect(setStateDict(model, ir, dict)).toEqual([]);
    const back = getStateDict(model, ir);
    expect([...back.keys()]).toEqual(ir.nodes.flatMap((n) => n.params.map((p) => `${n.path}.${p.name}`)));
    for (const [k, t] of dict) {
      expect(back.get(k)?.shape, k).toEqual(t.shape);
      expect(back.get(k)?.data, k).toEqual(t.data);
    }
    model.dispose();
  });

  it('returns copies, not views of the live weights', () => {
    const ir = leNet();
    const model = buildModel(ir, { seed: 1 });
    const first = getStateDict(model, ir).get('classifier.3.bias');
    first?.data.fill(123);
    expect(getStateDict(model, ir).get('classifier.3.bias')?.data[0]).not.toBe(123);
    model.dispose();
  });

  it('reports each bad tensor as a diagnostic and writes nothing', () => {
    const ir = leNet();
    const model = buildModel(ir, { seed: 1 });
    const before = getStateDict(model, ir);
    const dict = randomStateDict(ir, 2);
    dict.delete('features.0.bias');
    dict.set('features.3.weight', { shape: [16, 6, 5, 4], data: uniform(16 * 6 * 5 * 4, rng(1)) });
    dict.set('classifier.1.bias', { shape: [120], data: new Float32Array(119) });
    dict.set('classifier.3.weigth', { shape: [10, 120], data: new Float32Array(1200) });
    const diagnostics = setStateDict(model, ir, dict);
    expect(diagnostics.map((d) => [d.code, d.severity, d.message, d.hint])).toEqual([
      ['MISSING_KEY', 'error', "weights: tensor 'features.0.bias' [6] is missing", undefined],
      [
        'SHAPE_MISMATCH',
        'error',
        "weights: tensor 'features.3.weight' has shape [16, 6, 5, 4], the network needs [16, 6, 5, 5]",
        undefined,
      ],
      [
        'SHAPE_MISMATCH',
        'error',
        "weights: tensor 'classifier.1.bias' [120] has 119 values, not 120",
        undefined,
      ],
      [
        'UNKNOWN_KEY',
        'error',
        "weights: tensor 'classifier.3.weigth' is not a parameter of 'lenet'",
        "did you mean 'classifier.3.weight'?",
      ],
    ]);
    const after = getStateDict(model, ir);
    for (const [k, t] of before) expect(after.get(k)?.data, k).toEqual(t.data);
    model.dispose();
  });

  it('throws a clear error for a model built from another IR', () => {
    const model = buildModel(leNet(), { seed: 1 });
    expect(() => getStateDict(model, tinyResNet())).toThrow(/no layer 'stem.0'; was it built from this IR\?/);
    model.dispose();
  });
});

describe('tensor memory', () => {
  it('does not leak across repeated predict and training steps', () => {
    const ir = tinyResNet();
    const model = buildModel(ir, { seed: 1 });
    const optimizer = tf.train.adam(1e-3);
    const x = tf.tensor(uniform(2 * 3 * 16 * 16, rng(4)), [2, 3, 16, 16]);
    const labels = tf.oneHot(tf.tensor1d([1, 2], 'int32'), 10);
    // Bare calls, no enclosing tidy: the layers must clean up after themselves.
    const step = (): void => {
      optimizer.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      );
    };
    const predict = (): void => {
      (model.predict(x) as tf.Tensor).dispose();
    };
    step(); // Adam creates its slot variables on the first step.
    predict();
    const base = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      step();
      predict();
      expect(tf.memory().numTensors).toBe(base);
    }
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  });
});

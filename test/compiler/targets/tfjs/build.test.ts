import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParams, type IrNetwork } from '../../../../src/compiler/ir.js';
import { buildModel, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { leNet, tinyResNet, zoo } from '../ir-fixtures.js';
import { maxAbsDiff, randomStateDict, rng, uniform } from '../helpers.js';
import { referenceForward } from '../reference-forward.js';
import { compileIr } from '../../../support/compile.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const fixtures: [string, () => IrNetwork][] = [
  ['tinyResNet', tinyResNet],
  ['leNet', leNet],
  ['zoo', zoo],
  // Tokens: LayerNorm on each layout, parameters, permutes, reshapes and selects between layouts, attention.
  ['every-kind-tokens', () => compileIr('test/fixtures/kinds/every-kind-tokens.yaml')],
];

describe.each(fixtures)('buildModel(%s)', (_name, make) => {
  const ir = make();

  it('takes NCHW input and gives [batch, ...outputShape]', () => {
    const model = buildModel(ir, { seed: 1 });
    expect(model.inputs[0]?.shape).toEqual([null, ...ir.inputShape]);
    expect(model.outputs[0]?.shape).toEqual([null, ...ir.outputShape]);
    const y = tf.tidy(() => model.predict(tf.zeros([2, ...ir.inputShape])) as tf.Tensor);
    expect(y.shape).toEqual([2, ...ir.outputShape]);
    y.dispose();
    model.dispose();
  });

  it('names each node layer by its IR path and holds exactly the IR parameters', () => {
    const model = buildModel(ir, { seed: 1 });
    const names = new Set(model.layers.map((l) => l.name));
    for (const node of ir.nodes) expect(names.has(node.path)).toBe(true);
    const { trainable, buffers } = countParams(ir);
    expect(model.countParams()).toBe(trainable + buffers);
    const trainableCount = model.trainableWeights.reduce(
      (s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
      0,
    );
    expect(trainableCount).toBe(trainable);
    model.dispose();
  });

  it('computes what PyTorch computes (eval mode, naive float64 reference, non-trivial BN stats)', () => {
    const model = buildModel(ir, { seed: 1 });
    const weights = randomStateDict(ir, 7);
    expect(setStateDict(model, ir, weights)).toEqual([]);
    const shape = [2, ...ir.inputShape];
    const x = uniform(
      shape.reduce((a, b) => a * b, 1),
      rng(3),
      -2,
      2,
    );
    const y = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    const ref = referenceForward(ir, weights, { shape, data: Float64Array.from(x) });
    expect(maxAbsDiff(y, ref.data)).toBeLessThan(1e-5);
    model.dispose();
  });
});

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../../../src/compiler/ir.js';
import { buildModel, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { leNet, tinyResNet, zoo } from '../ir-fixtures.js';
import { maxAbsDiff, randomStateDict, rng, uniform } from '../helpers.js';
import { referenceForward } from '../reference-forward.js';

// Only kernels every backend has: the wasm backend (the most limited one that ships in npm) runs every layer form.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

describe.each([
  ['tinyResNet', tinyResNet],
  ['leNet', leNet],
  ['zoo', zoo],
] as [string, () => IrNetwork][])('on the wasm backend, %s', (_name, make) => {
  it('computes what PyTorch computes in eval mode and runs a training-mode forward pass', () => {
    const ir = make();
    const model = buildModel(ir, { seed: 1 });
    const weights = randomStateDict(ir, 3);
    expect(setStateDict(model, ir, weights)).toEqual([]);
    const shape = [2, ...ir.inputShape];
    const x = uniform(
      shape.reduce((a, b) => a * b, 1),
      rng(9),
      -2,
      2,
    );
    const y = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    const ref = referenceForward(ir, weights, { shape, data: Float64Array.from(x) });
    expect(maxAbsDiff(y, ref.data)).toBeLessThan(1e-4);
    const train = tf.tidy(() =>
      (model.apply(tf.tensor(x, shape), { training: true }) as tf.Tensor).dataSync(),
    );
    expect(train.every(Number.isFinite)).toBe(true);
    model.dispose();
  });
});

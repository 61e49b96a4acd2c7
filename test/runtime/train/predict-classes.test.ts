/** predictClasses: the argmax of each example's logits, batched like evaluate, equal to evaluate's accuracy. */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel, setStateDict } from '../../../src/compiler/targets/tfjs/index.js';
import { predictClasses } from '../../../src/runtime/train/predict-classes.js';
import { evaluate } from '../../../src/runtime/train/trainer.js';
import { LINEAR_SPEC, tinyData, tinyIr, useCpu } from './tiny-network.js';

describe('predictClasses', () => {
  it('gives the class whose weight row matches the bright pixel, for any batch size', async () => {
    await useCpu();
    const ir = tinyIr(LINEAR_SPEC);
    const model = buildModel(ir, { seed: 0 });
    // Class c reads pixel c only: the prediction is the brightest of pixels 0..3.
    const weight = new Float32Array(4 * 64);
    for (let c = 0; c < 4; c++) weight[c * 64 + c] = 1;
    expect(
      setStateDict(
        model,
        ir,
        new Map([
          ['head.1.weight', { shape: [4, 64], data: weight }],
          ['head.1.bias', { shape: [4], data: new Float32Array(4) }],
        ]),
      ),
    ).toEqual([]);
    const bright = [2, 0, 3, 3, 1, 0, 2];
    const images = new Float32Array(bright.length * 64);
    bright.forEach((p, i) => (images[i * 64 + p] = 1));
    for (const batch of [1, 3, 7, 100])
      expect(Array.from(await predictClasses(model, ir, { images, count: bright.length }, batch))).toEqual(
        bright,
      );
    // A tie (all zero) goes to class 0, as torch.argmax.
    expect(
      Array.from(await predictClasses(model, ir, { images: new Float32Array(64), count: 1 }, 4)),
    ).toEqual([0]);
    await expect(predictClasses(model, ir, { images, count: 1 }, 0)).rejects.toThrow(RangeError);
    model.dispose();
  });

  it("agrees with evaluate's accuracy on a seeded network", async () => {
    await useCpu();
    const ir = tinyIr();
    const model = buildModel(ir, { seed: 3 });
    const data = tinyData(40, 1);
    const before = tf.memory().numTensors;
    const predicted = await predictClasses(model, ir, data, 16);
    expect(tf.memory().numTensors).toBe(before);
    const right = predicted.reduce((n, p, i) => n + (p === data.labels[i] ? 1 : 0), 0);
    expect(right / data.count).toBe((await evaluate(model, ir, data, 16)).accuracy);
    model.dispose();
  });
});

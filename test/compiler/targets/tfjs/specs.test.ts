import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParams } from '../../../../src/compiler/ir.js';
import { buildModel, getStateDict, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { compileIr } from '../../../support/compile.js';
import { maxAbsDiff, randomStateDict, rng, uniform } from '../helpers.js';
import { referenceForward } from '../reference-forward.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each([
  ['specs/resnet18.yaml', 11_175_434],
  ['specs/resnet18-plain.yaml', 11_001_610],
])('buildModel(%s)', (spec, torchsummaryParams) => {
  const ir = compileIr(spec);

  it("holds the reference experiment's parameters under PyTorch's names and shapes", () => {
    const model = buildModel(ir, { seed: 0 });
    expect(model.inputs[0]?.shape).toEqual([null, 1, 32, 32]);
    expect(model.outputs[0]?.shape).toEqual([null, 10]);
    const trainable = model.trainableWeights.reduce(
      (s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1),
      0,
    );
    expect(trainable).toBe(torchsummaryParams);
    expect(countParams(ir).trainable).toBe(torchsummaryParams);
    const dict = getStateDict(model, ir);
    expect(dict.get('stem.0.weight')?.shape).toEqual([64, 1, 7, 7]);
    expect(dict.get('stem.0.bias')?.shape).toEqual([64]);
    expect(dict.get('stage5.1.bn2.running_var')?.shape).toEqual([512]);
    expect(dict.get('head.2.weight')?.shape).toEqual([10, 512]);
    expect(dict.has('stage3.0.shortcut.weight')).toBe(spec === 'specs/resnet18.yaml');
    model.dispose();
  });

  // The plain variant has the same layers minus the shortcuts: checking the residual one is enough.
  it.runIf(spec === 'specs/resnet18.yaml')(
    'computes what PyTorch computes in eval mode (naive float64 reference, random weights and BN stats)',
    () => {
      const model = buildModel(ir, { seed: 0 });
      const weights = randomStateDict(ir, 4);
      // Scale conv/linear weights to keep activations O(1) through 20 layers, so the tolerance stays meaningful.
      for (const node of ir.nodes)
        if (node.kind === 'conv' || node.kind === 'linear') {
          const w = weights.get(`${node.path}.weight`);
          const fanIn =
            node.kind === 'conv' ? (w?.shape.slice(1).reduce((a, b) => a * b, 1) ?? 1) : node.inFeatures;
          w?.data.forEach((v, i, a) => (a[i] = v * Math.sqrt(12 / fanIn)));
        }
      expect(setStateDict(model, ir, weights)).toEqual([]);
      const x = uniform(32 * 32, rng(12), -1, 1);
      const y = tf.tidy(() => (model.predict(tf.tensor(x, [1, 1, 32, 32])) as tf.Tensor).dataSync());
      const ref = referenceForward(ir, weights, { shape: [1, 1, 32, 32], data: Float64Array.from(x) });
      const scale = Math.max(1, ...Array.from(ref.data, Math.abs));
      expect(maxAbsDiff(y, ref.data) / scale).toBeLessThan(1e-5);
      model.dispose();
    },
  );
});

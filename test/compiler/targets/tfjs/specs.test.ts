import * as tf from '@tensorflow/tfjs';
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParams } from '../../../../src/compiler/ir.js';
import { buildModel, getStateDict, setStateDict } from '../../../../src/compiler/targets/tfjs/index.js';
import { compileIr } from '../../../support/compile.js';
import { maxAbsDiff, randomStateDict, rng, uniform } from '../helpers.js';
import { referenceForward } from '../reference-forward.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const specs = readdirSync('specs')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => `specs/${f}`);

describe.each(specs)('buildModel(%s)', (spec) => {
  it('builds with the IR input/output shapes and exactly the IR parameters', () => {
    const ir = compileIr(spec);
    const model = buildModel(ir, { seed: 0 });
    expect(model.inputs[0]?.shape).toEqual([null, ...ir.inputShape]);
    expect(model.outputs[0]?.shape).toEqual([null, ...ir.outputShape]);
    const size = (shape: readonly (number | null)[]): number =>
      shape.reduce((a: number, b) => a * (b ?? 1), 1);
    const { trainable, buffers } = countParams(ir);
    expect(model.trainableWeights.reduce((s, w) => s + size(w.shape), 0)).toBe(trainable);
    expect(model.nonTrainableWeights.reduce((s, w) => s + size(w.shape), 0)).toBe(buffers);
    model.dispose();
  });
});

describe.each([
  ['specs/resnet18.yaml', 11_175_434],
  ['specs/resnet18-plain.yaml', 11_001_610],
])('buildModel(%s) for the reference experiment', (spec, torchsummaryParams) => {
  it("holds torchsummary's parameter count under PyTorch's names and shapes", () => {
    const ir = compileIr(spec);
    const model = buildModel(ir, { seed: 0 });
    expect(model.inputs[0]?.shape).toEqual([null, 1, 32, 32]);
    expect(model.outputs[0]?.shape).toEqual([null, 10]);
    expect(
      model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0),
    ).toBe(torchsummaryParams);
    const dict = getStateDict(model, ir);
    expect(dict.get('stem.0.weight')?.shape).toEqual([64, 1, 7, 7]);
    expect(dict.get('stem.0.bias')?.shape).toEqual([64]);
    expect(dict.get('stage5.1.bn2.running_var')?.shape).toEqual([512]);
    expect(dict.get('head.2.weight')?.shape).toEqual([10, 512]);
    expect(dict.has('stage3.0.shortcut.weight')).toBe(spec === 'specs/resnet18.yaml');
    model.dispose();
  });
});

// resnet18-plain, resnet34/50 and torchvision-resnet18 use the same layer forms as resnet18 (only bigger).
// The graph fixtures hold every merge (concat, add, mul with broadcast) and every reshaping kind, against the same
// float64 reference, which knows nothing of tfjs's NHWC storage.
describe.each([
  'specs/resnet18.yaml',
  'specs/lenet5.yaml',
  'specs/vgg-small.yaml',
  'test/fixtures/graphs/branches.yaml',
  'test/fixtures/kinds/every-kind.yaml',
  'test/fixtures/graphs/tokens-input.net',
])('buildModel(%s) numerics', (spec) => {
  it('computes what PyTorch computes in eval mode (naive float64 reference, random weights and BN stats)', () => {
    const ir = compileIr(spec);
    const model = buildModel(ir, { seed: 0 });
    const weights = randomStateDict(ir, 4);
    // Scale conv/linear weights to keep activations O(1) through many layers, so the tolerance stays meaningful.
    for (const node of ir.nodes)
      if (node.kind === 'conv' || node.kind === 'linear') {
        const w = weights.get(`${node.path}.weight`);
        const fanIn = (w?.shape ?? []).slice(1).reduce((a, b) => a * b, 1);
        w?.data.forEach((v, i, a) => (a[i] = v * Math.sqrt(12 / fanIn)));
      }
    expect(setStateDict(model, ir, weights)).toEqual([]);
    const shape = [1, ...ir.inputShape];
    const x = uniform(
      shape.reduce((a, b) => a * b, 1),
      rng(12),
      -1,
      1,
    );
    const y = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    const ref = referenceForward(ir, weights, { shape, data: Float64Array.from(x) });
    const scale = Math.max(1, ...Array.from(ref.data, Math.abs));
    expect(maxAbsDiff(y, ref.data) / scale).toBeLessThan(1e-5);
    model.dispose();
  });
});

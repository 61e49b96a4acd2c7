/**
 * The zoo's torchvision harness (test/zoo/reference.py) checked on itself, so that a zoo test that fails points at
 * netspec: a stand-in "generated" module (torchvision's own net under another prefix, renamed back by a map) must
 * reproduce the eval output and the SGD step exactly, and sgd-step's p = 0 dropout must be the constructor's
 * `dropout=0.0`. Needs Debian's python3-torch and python3-torchvision; skipped, with the reason, where missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DecodedTensor } from '../../src/runtime/weights/safetensors.js';
import {
  maxDifference,
  readFloat,
  readSafetensors,
  removeZooCase,
  zooEval,
  zooGenerated,
  zooSgdStep,
  zooTorchAvailable,
} from '../support/zoo.js';

/** A tensor's bytes, to compare bit for bit whatever its dtype. */
const bytes = (t: DecodedTensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const torchAvailable = zooTorchAvailable('zoo harness tests');

/** In `dir`, a model.py as netspec's PyTorch target writes one (`build_model()`) wrapping `constructor` as `net`. */
function standIn(constructor: string, dir: string): { model: string; map: string } {
  const model = path.join(dir, 'model.py');
  const map = path.join(dir, 'map.yaml');
  fs.writeFileSync(
    model,
    [
      'import torch',
      'import torchvision',
      '',
      'class Wrapped(torch.nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      `        self.net = ${constructor}`,
      '',
      '    def forward(self, x):',
      '        return self.net(x)',
      '',
      'def build_model():',
      '    torch.manual_seed(5)  # other initial weights than the reference: loading must replace them all',
      '    return Wrapped()',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(map, "rename:\n  - {from: '^', to: 'net.'}\n");
  return { model, map };
}

describe.skipIf(!torchAvailable)('the zoo harness', () => {
  it('eval: randomized squeezenet1_0 at its smallest input, reproduced by a renamed stand-in', () => {
    const zoo = zooEval('squeezenet1_0');
    const expected = readFloat(zoo.expected, 'output');
    expect(expected.shape).toEqual([2, 1000]);
    expect(readFloat(zoo.input, 'input').shape).toEqual([2, 3, 21, 21]);
    const { model, map } = standIn('torchvision.models.squeezenet1_0()', zoo.dir);
    zooGenerated('squeezenet1_0', model, zoo, map);
    const { diff, scale } = maxDifference(readFloat(zoo.generated, 'output').data, expected.data);
    expect(scale).toBeGreaterThan(0.1);
    expect(diff).toBe(0);
    removeZooCase(zoo);
  });

  it("sgd-step: mobilenet_v3_small's classifier dropout at p = 0 is mobilenet_v3_small(dropout=0.0)", () => {
    const zoo = zooSgdStep('mobilenet_v3_small', 8);
    const expected = readSafetensors(zoo.expected);
    expect(JSON.parse(expected.metadata.zeroed ?? '')).toEqual(['classifier.2']);
    const { model, map } = standIn('torchvision.models.mobilenet_v3_small(dropout=0.0)', zoo.dir);
    zooGenerated('mobilenet_v3_small', model, zoo, map, true);
    const ours = readSafetensors(zoo.generated);
    expect(Number(ours.metadata.loss)).toBe(Number(expected.metadata.loss));
    expect([...ours.tensors.keys()].sort()).toEqual(
      [...expected.tensors.keys()].map((k) => `net.${k}`).sort(),
    );
    for (const [name, want] of expected.tensors) {
      const got = ours.tensors.get(`net.${name}`);
      expect(got?.shape, name).toEqual(want.shape);
      expect(got?.dtype, name).toBe(want.dtype);
      expect(got && bytes(got).equals(bytes(want)), name).toBe(true);
    }
    removeZooCase(zoo);
  });
});

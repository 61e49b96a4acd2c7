/**
 * The zoo's classic CNNs (issue 13, part F) equal torchvision 0.14's in eval mode: torchvision's randomized weights
 * and BN statistics (test/zoo/reference.py eval), imported through maps/zoo/<name>.yaml where the names differ,
 * give torchvision's output within 1e-4 of its scale (max |output|), batch 2, (a) in `netspec predict` on a tfjs
 * backend (native when the addon is built, as in CI, else wasm) and (b) in the PyTorch module `netspec compile
 * --target pytorch` writes. Each net runs at the smallest input torchvision accepts, except where that input is
 * 1 x 1: every padded 3 x 3 convolution would read only its centre tap there, so those run at 32 x 32.
 * Needs Debian's python3-torch and python3-torchvision; skipped, with the reason, where missing. Without torch,
 * each spec is checked to accept exactly the input sizes torchvision accepts (recorded in its facts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/runtime/backends/native-backend.js';
import { cli } from '../support/cli.js';
import { compile } from '../support/compile.js';
import {
  expectTorchvisionOutput,
  readFacts,
  removeZooCase,
  zooEvalAsync,
  zooReferenceAsync,
  zooTorchAvailable,
  type ZooCase,
  type ZooNet,
} from '../support/zoo.js';

const torchAvailable = zooTorchAvailable('classic zoo eval parity');
const backend = typeof loadNativeAddon() === 'string' ? 'wasm' : 'native';
if (backend === 'wasm') console.warn('classic zoo eval parity runs on wasm: the native addon is not built');

/** The input side used where the smallest accepted is 1 x 1 (see the file comment). */
const CENTRE_TAP_SIZE = 32;

/** A net, its spec and its map (none where torchvision's names are the layer paths). */
interface ClassicCase {
  readonly name: ZooNet;
  readonly spec: string;
  readonly map?: string;
}

const CASES: readonly ClassicCase[] = [
  { name: 'alexnet', spec: 'specs/zoo/alexnet.net' },
  { name: 'vgg11_bn', spec: 'specs/zoo/vgg11_bn.net' },
  { name: 'resnext50_32x4d', spec: 'specs/zoo/resnext50_32x4d.net', map: 'maps/zoo/resnext50_32x4d.yaml' },
  { name: 'wide_resnet50_2', spec: 'specs/zoo/wide_resnet50_2.net', map: 'maps/zoo/wide_resnet50_2.yaml' },
  { name: 'densenet121', spec: 'specs/zoo/densenet121.net', map: 'maps/zoo/densenet121.yaml' },
  { name: 'inception_v3', spec: 'specs/zoo/inception_v3.net', map: 'maps/zoo/inception_v3.yaml' },
  { name: 'googlenet', spec: 'specs/zoo/googlenet.net', map: 'maps/zoo/googlenet.yaml' },
  { name: 'squeezenet1_0', spec: 'specs/zoo/squeezenet1_0.net' },
];

/** The input side a net is tested at, and how the title says it. */
function testSize(name: ZooNet): { size: number; why: string } {
  const smallest = readFacts(name).smallestInput;
  return smallest === 1
    ? { size: CENTRE_TAP_SIZE, why: `${CENTRE_TAP_SIZE}x${CENTRE_TAP_SIZE} (it accepts 1x1)` }
    : { size: smallest, why: `${smallest}x${smallest}, its smallest input` };
}

const seconds = (start: number) => (performance.now() - start) / 1000;

for (const { name, spec, map } of CASES)
  describe.skipIf(!torchAvailable)(`${name} equals torchvision in eval mode`, () => {
    const { size, why } = testSize(name);
    const set = ['--set', `size=${size}`];
    const mapArgs = map ? ['--map', map] : [];
    let made: ZooCase | undefined;
    const reference = (): ZooCase => {
      if (!made) throw new Error(`no torchvision reference for ${name}`);
      return made;
    };
    beforeAll(async () => {
      const start = performance.now();
      made = await zooEvalAsync(name, size);
      console.log(`${name}: torchvision reference at ${size}x${size} (${seconds(start).toFixed(1)} s)`);
    });
    afterAll(() => made && removeZooCase(made));

    it(`netspec predict on ${backend} at ${why}, batch 2`, async () => {
      const start = performance.now();
      const zoo = reference();
      const out = path.join(zoo.dir, 'predict.safetensors');
      const run = await cli(
        'predict',
        spec,
        ...set,
        '--weights',
        zoo.weights,
        ...mapArgs,
        '--input',
        zoo.input,
        '--output',
        out,
        '--backend',
        backend,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expectTorchvisionOutput(`${name} predict on ${backend}`, out, zoo, seconds(start));
    });

    it(`the generated PyTorch module at ${why}, batch 2`, async () => {
      const start = performance.now();
      const zoo = reference();
      const dir = path.join(zoo.dir, 'pytorch');
      const run = await cli('compile', spec, ...set, '--target', 'pytorch', '--out', dir);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const model = path.join(dir, 'model.py');
      expect(fs.existsSync(model)).toBe(true);
      await zooReferenceAsync('generated', name, model, zoo.dir, ...(map ? [map] : []));
      expectTorchvisionOutput(`${name} generated PyTorch`, zoo.generated, zoo, seconds(start));
    });
  });

describe('the classic CNN specs accept the input sizes torchvision accepts', () => {
  for (const { name, spec } of CASES)
    it(`${name}: from 3 below its smallest input to 16 above`, () => {
      const { smallestInput, rejectedAbove } = readFacts(name);
      const sizes = Array.from({ length: 20 }, (_, i) => smallestInput - 3 + i).filter((s) => s >= 1);
      const accepted = (size: number) => compile(spec, {}, { set: [`size=${size}`] }).ir !== undefined;
      expect(sizes.filter(accepted)).toEqual(
        sizes.filter((s) => s >= smallestInput && !rejectedAbove.includes(s)),
      );
    });
});

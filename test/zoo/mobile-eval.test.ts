/**
 * The zoo's mobile nets (issue 13, part G) equal torchvision 0.14's: mobilenet_v2, mnasnet0_5, shufflenet_v2_x1_0,
 * regnet_y_400mf, mobilenet_v3_small and efficientnet_b0. In eval mode, torchvision's randomized weights and BN
 * statistics (test/zoo/reference.py eval), imported through maps/zoo/<name>.yaml, give torchvision's output within
 * 1e-4 of its scale (max |output|), batch 2, (a) in `netspec predict` on a tfjs backend (native when the addon is
 * built, as in CI, else wasm) and (b) in the PyTorch module `netspec compile --target pytorch` writes. Every one of
 * these nets accepts a 1 x 1 input, where each padded 3 x 3 (or 5 x 5) convolution reads only its centre tap, so
 * they run at 32 x 32. Then one SGD step in train mode (reference.py sgd-step: lr 0.005, cross-entropy, dropout at
 * p = 0) for mobilenet_v3_small (its spec's `dropout` set to 0) and shufflenet_v2_x1_0 at 64 x 64 (see STEP_SIZE):
 * netspec's trainer on the same backend and the generated module each give torchvision's loss, weights and BN
 * statistics within 1e-4.
 * Needs Debian's python3-torch and python3-torchvision; skipped, with the reason, where missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict, setStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { loadNativeAddon } from '../../src/runtime/backends/native-backend.js';
import { DEFAULT_TRAIN_CONFIG, train } from '../../src/runtime/train/index.js';
import type { DecodedSafetensors } from '../../src/runtime/weights/safetensors.js';
import {
  importStateDict,
  parseWeightMap,
  renameTensor,
  type WeightMap,
} from '../../src/runtime/weights/state-dict-io.js';
import { cli } from '../support/cli.js';
import { compile, compileIr } from '../support/compile.js';
import {
  expectTorchvisionOutput,
  readFacts,
  readFloat,
  readSafetensors,
  removeZooCase,
  zooReferenceAsync,
  zooTempDir,
  zooTorchAvailable,
  type ZooCase,
  type ZooNet,
} from '../support/zoo.js';

const torchAvailable = zooTorchAvailable('mobile zoo parity');
const backend = typeof loadNativeAddon() === 'string' ? 'wasm' : 'native';
if (backend === 'wasm') console.warn('mobile zoo parity runs on wasm: the native addon is not built');

/** Relative to max |torchvision output| (eval); absolute on the loss and every updated tensor (the step). */
const TOLERANCE = 1e-4;

/** Every net here accepts 1 x 1, where padded convolutions read only their centre taps (see the file comment). */
const SIZE = 32;

/**
 * The SGD step's input side. At 32 x 32 the last stages' maps are 1 x 1, and train-mode BatchNorm over a batch of 2
 * normalizes two values to -1 and 1: its exact gradient is 0, so what flows back is rounding noise, amplified
 * through the layers (torchvision's own update of shufflenet's first convolution is 12 there, netspec's another
 * noise). At 64 x 64 they are 2 x 2.
 */
const STEP_SIZE = 64;

/** A net, its spec and its map, and for the step the spec parameters that make train mode deterministic. */
interface MobileCase {
  readonly name: ZooNet;
  readonly spec: string;
  readonly map: string;
  /** `--set` values for the SGD step (torchvision's sgd-step sets every Dropout to p = 0). */
  readonly stepSet?: readonly string[];
}

const mobile = (name: ZooNet, stepSet?: readonly string[]): MobileCase => ({
  name,
  spec: `specs/zoo/${name}.net`,
  map: `maps/zoo/${name}.yaml`,
  ...(stepSet ? { stepSet } : {}),
});

const CASES: readonly MobileCase[] = [
  mobile('mobilenet_v2'),
  mobile('mnasnet0_5'),
  mobile('shufflenet_v2_x1_0', []),
  mobile('regnet_y_400mf'),
  mobile('mobilenet_v3_small', ['dropout=0']),
  mobile('efficientnet_b0'),
];

const seconds = (start: number) => (performance.now() - start) / 1000;

/** The eval tests' title for the size: 32 x 32 because the net also accepts 1 x 1. */
function sizeTitle(name: ZooNet): string {
  const smallest = readFacts(name).smallestInput;
  if (smallest !== 1) throw new Error(`${name}: smallest input ${smallest}, where this file expects 1`);
  return `${SIZE}x${SIZE} (it accepts 1x1: centre taps only)`;
}

/** The step tests' title for the size. */
const STEP_TITLE = `${STEP_SIZE}x${STEP_SIZE} (at ${SIZE}, train-mode BN of 1x1 maps passes back only rounding noise)`;

/** torchvision's side of `command` (eval or sgd-step) for `name` at `size`, in a fresh folder. */
async function torchvision(command: 'eval' | 'sgd-step', name: ZooNet, size: number): Promise<ZooCase> {
  const dir = zooTempDir(name);
  await zooReferenceAsync(command, name, String(size), dir);
  const at = (file: string) => path.join(dir, file);
  return {
    dir,
    weights: at('weights.safetensors'),
    input: at('input.safetensors'),
    expected: at('expected.safetensors'),
    labels: at('labels.safetensors'),
    generated: at('generated.safetensors'),
  };
}

/** A lazily made torchvision case for one describe block, removed afterwards. */
function torchvisionCase(command: 'eval' | 'sgd-step', name: ZooNet, size: number): () => ZooCase {
  let made: ZooCase | undefined;
  beforeAll(async () => {
    const start = performance.now();
    made = await torchvision(command, name, size);
    console.log(`${name}: torchvision ${command} at ${size}x${size} (${seconds(start).toFixed(1)} s)`);
  });
  afterAll(() => made && removeZooCase(made));
  return () => {
    if (!made) throw new Error(`no torchvision ${command} for ${name}`);
    return made;
  };
}

/** The generated PyTorch module of `spec` (with `set`), written under `zoo.dir`; returns model.py's path. */
async function generatedModule(spec: string, set: readonly string[], zoo: ZooCase): Promise<string> {
  const dir = path.join(zoo.dir, 'pytorch');
  const run = await cli('compile', spec, ...set, '--target', 'pytorch', '--out', dir);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const model = path.join(dir, 'model.py');
  expect(fs.existsSync(model)).toBe(true);
  return model;
}

for (const { name, spec, map } of CASES)
  describe.skipIf(!torchAvailable)(`${name} equals torchvision in eval mode`, () => {
    const set = ['--set', `size=${SIZE}`];
    const reference = torchvisionCase('eval', name, SIZE);

    it(`netspec predict on ${backend} at ${sizeTitle(name)}, batch 2`, async () => {
      const start = performance.now();
      const zoo = reference();
      const out = path.join(zoo.dir, 'predict.safetensors');
      const run = await cli(
        'predict',
        spec,
        ...set,
        '--weights',
        zoo.weights,
        '--map',
        map,
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

    it(`the generated PyTorch module at ${sizeTitle(name)}, batch 2`, async () => {
      const start = performance.now();
      const zoo = reference();
      const model = await generatedModule(spec, set, zoo);
      await zooReferenceAsync('generated', name, model, zoo.dir, map);
      expectTorchvisionOutput(`${name} generated PyTorch`, zoo.generated, zoo, seconds(start));
    });
  });

function weightMap(file: string): WeightMap {
  const parsed = parseWeightMap(fs.readFileSync(file, 'utf8'), file);
  expect(parsed.diagnostics).toEqual([]);
  return parsed;
}

/**
 * Every float tensor of torchvision's updated state dict (`expected`, its names renamed by `map`) against `ours`
 * (the spec's names): the largest absolute difference, and how many elements the step changed. BN's int64
 * num_batches_tracked counters are left out (netspec keeps none).
 */
function compareStep(
  expected: DecodedSafetensors,
  ours: ReadonlyMap<string, { readonly data: Float32Array }>,
  start: ReadonlyMap<string, { readonly data: Float32Array }>,
  map: WeightMap,
): { worst: { name: string; diff: number }; compared: number; moved: number } {
  let worst = { name: '', diff: 0 };
  let compared = 0;
  let moved = 0;
  for (const [original, tensor] of expected.tensors) {
    const name = renameTensor(original, map.rules);
    if (name.endsWith('num_batches_tracked')) continue;
    const mine = ours.get(name);
    const before = start.get(name);
    if (!mine || !before || !(tensor.data instanceof Float32Array)) throw new Error(`no tensor ${name}`);
    expect(mine.data.length).toBe(tensor.data.length);
    for (let i = 0; i < mine.data.length; i++) {
      const diff = Math.abs((mine.data[i] ?? 0) - (tensor.data[i] ?? 0));
      if (diff > worst.diff) worst = { name, diff };
      if ((tensor.data[i] ?? 0) !== (before.data[i] ?? 0)) moved++;
    }
    compared++;
  }
  return { worst, compared, moved };
}

for (const { name, spec, map, stepSet } of CASES.filter((c) => c.stepSet))
  describe.skipIf(!torchAvailable)(`${name}: one SGD step equals torchvision's`, () => {
    const values = [`size=${STEP_SIZE}`, ...(stepSet ?? [])];
    const reference = torchvisionCase('sgd-step', name, STEP_SIZE);

    it(`netspec's trainer on ${backend} at ${STEP_TITLE}, batch 2: loss, weights and BN statistics`, async () => {
      const start = performance.now();
      const zoo = reference();
      const expected = readSafetensors(zoo.expected);
      // What torchvision zeroed is what the spec's parameters set to 0 (mobilenet_v3_small: classifier.2).
      console.log(
        `${name} step: torchvision zeroed ${expected.metadata.zeroed}; spec --set ${values.join(' ')}`,
      );
      const ir = compileIr(spec, {}, { set: values });
      const weights = weightMap(map);
      const imported = importStateDict(readSafetensors(zoo.weights), weights, ir, 'weights');
      expect(imported.diagnostics).toEqual([]);

      await selectBackend(backend);
      const model = buildModel(ir, { seed: 0 });
      expect(setStateDict(model, ir, imported.dict)).toEqual([]);
      const input = readFloat(zoo.input, 'input');
      const labels = readSafetensors(zoo.labels).tensors.get('labels')?.data;
      if (!(labels instanceof Int32Array)) throw new Error(`${zoo.labels}: no int32 labels`);
      const batch = { images: input.data, labels, count: input.shape[0] ?? 0 };
      const losses: number[] = [];
      // One epoch of one full batch: the shuffle only reorders the batch, which changes neither the loss nor BN.
      const outcome = await train({
        model,
        ir,
        train: batch,
        dev: batch,
        config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: batch.count, logSteps: 0, evalSteps: 0 },
        hooks: { step: (s) => void losses.push(s.loss) },
      });
      expect(outcome.status).toBe('completed');
      const ours = getStateDict(model, ir);
      model.dispose();

      const torchLoss = Number(expected.metadata.loss);
      const { worst, compared, moved } = compareStep(expected, ours, imported.dict, weights);
      console.log(
        `${name} SGD step on ${backend}: loss ${losses[0]} vs torchvision ${torchLoss}; max |difference| over ` +
          `${compared} tensors ${worst.diff.toExponential(2)} (${worst.name}) (${seconds(start).toFixed(1)} s)`,
      );
      expect(losses).toHaveLength(1);
      expect(Math.abs((losses[0] ?? NaN) - torchLoss)).toBeLessThanOrEqual(TOLERANCE);
      expect(compared).toBe(ours.size);
      expect(moved).toBeGreaterThan(100_000); // the step really changed the weights and statistics
      expect(worst.diff).toBeLessThanOrEqual(TOLERANCE);
    });

    it(`the generated PyTorch module at ${STEP_TITLE}, batch 2: loss, weights and BN statistics`, async () => {
      const start = performance.now();
      const zoo = reference();
      const model = await generatedModule(
        spec,
        values.flatMap((v) => ['--set', v]),
        zoo,
      );
      await zooReferenceAsync('generated-step', name, model, zoo.dir, map);
      const expected = readSafetensors(zoo.expected);
      const generated = readSafetensors(zoo.generated);
      const floats = (file: DecodedSafetensors) =>
        new Map(
          [...file.tensors].flatMap(([k, t]) =>
            t.data instanceof Float32Array ? [[k, { data: t.data }]] : [],
          ),
        );
      const weights = weightMap(map);
      const before = readSafetensors(zoo.weights);
      const start0 = new Map(
        [...floats(before)].map(([k, t]) => [renameTensor(k, weights.rules), t] as const),
      );
      const { worst, compared } = compareStep(expected, floats(generated), start0, weights);
      const torchLoss = Number(expected.metadata.loss);
      console.log(
        `${name} generated PyTorch SGD step: loss ${generated.metadata.loss} vs torchvision ${torchLoss}; ` +
          `max |difference| over ${compared} tensors ${worst.diff.toExponential(2)} (${worst.name}) ` +
          `(${seconds(start).toFixed(1)} s)`,
      );
      expect(Math.abs(Number(generated.metadata.loss) - torchLoss)).toBeLessThanOrEqual(TOLERANCE);
      expect(worst.diff).toBeLessThanOrEqual(TOLERANCE);
    });
  });

describe('the mobile specs accept the input sizes torchvision accepts', () => {
  for (const { name, spec } of CASES)
    it(`${name}: every size from 1 (its smallest) to 17`, () => {
      const { smallestInput, rejectedAbove } = readFacts(name);
      expect({ smallestInput, rejectedAbove }).toEqual({ smallestInput: 1, rejectedAbove: [] });
      const sizes = Array.from({ length: 17 }, (_, i) => i + 1);
      const accepted = (size: number) => compile(spec, {}, { set: [`size=${size}`] }).ir !== undefined;
      expect(sizes.filter(accepted)).toEqual(sizes);
    });
});

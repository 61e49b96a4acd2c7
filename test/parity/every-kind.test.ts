/**
 * Every op kind of the language against PyTorch, through the generated module: the every-kind fixtures (each kind
 * as a module, the functional ones inside a block too; the token kinds in a network of their own) with random
 * weights and random BN statistics give PyTorch's eval-mode output on each backend, and one SGD step in train mode
 * gives PyTorch's loss, weights and BN statistics (which also checks every kind's gradient, netspec's own
 * hardswish, hardsigmoid, layer norm, parameter, select and attention included).
 * Needs Debian's python3-torch (CI installs it); skipped, with the reason, where it is missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { OP_KINDS, opKindOf } from '../../src/compiler/ops/index.js';
import { generateTarget } from '../../src/compiler/targets/index.js';
import {
  buildModel,
  getStateDict,
  setStateDict,
  type StateDict,
} from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { loadNativeAddon } from '../../src/runtime/backends/native-backend.js';
import { DEFAULT_TRAIN_CONFIG, train } from '../../src/runtime/train/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { exportStateDict } from '../../src/runtime/weights/state-dict-io.js';
import { compileIr } from '../support/compile.js';
import { PYTHON, pythonHas } from '../support/torch.js';
import { relativeError, values, randomizedWeights } from '../support/values.js';

/** The fixtures, the classes of their output, and whether their biases (attention's start at 0) are randomized. */
const CASES = [
  { spec: 'test/fixtures/kinds/every-kind.yaml', classes: 4, biases: false, noDropout: ['drop=0'] },
  { spec: 'test/fixtures/kinds/every-kind-tokens.yaml', classes: 3, biases: true, noDropout: ['drop=0'] },
  // The graph language: merges of branches with blocks inside branches, numbered repeats, `from`, conditions.
  { spec: 'test/fixtures/graphs/branches.yaml', classes: 10, biases: false, noDropout: [] },
  { spec: 'test/fixtures/graphs/repeats.net', classes: 5, biases: false, noDropout: [] },
] as const;
const BATCH = 6;
const torchAvailable = pythonHas('every-kind parity');
const nativeBuilt = typeof loadNativeAddon() !== 'string';

const read = (file: string) => decodeSafetensors(fs.readFileSync(file), file);

/** A work folder with the generated PyTorch module, the weights of `dict` and a batch of inputs and labels. */
function workFolder(ir: IrNetwork, dict: StateDict, classes: number): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-every-kind-'));
  const files = generateTarget(ir, 'pytorch');
  fs.writeFileSync(path.join(work, 'model.py'), files.get('model.py') ?? '');
  fs.writeFileSync(path.join(work, 'weights.safetensors'), encodeSafetensors(exportStateDict(dict, ir, 0)));
  // Inputs spread over [-4, 4], so every activation's kinks (hardswish's at -3 and 3) are crossed.
  const shape = [BATCH, ...ir.inputShape];
  const x = values(
    shape.reduce((a, b) => a * b, 1),
    5,
  ).map((v) => 4 * v);
  const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 3) % classes);
  fs.writeFileSync(
    path.join(work, 'input.safetensors'),
    encodeSafetensors(new Map([['input', { dtype: 'F32', shape, data: x }]])),
  );
  fs.writeFileSync(
    path.join(work, 'labels.safetensors'),
    encodeSafetensors(new Map([['labels', { dtype: 'I32', shape: [BATCH], data: labels }]])),
  );
  return work;
}

function pytorch(command: string, work: string): void {
  const out = execFileSync(PYTHON, ['test/parity/reference.py', command, path.join(work, 'model.py'), work], {
    encoding: 'utf8',
  });
  expect(out.trim()).toBe('OK');
}

function floats(file: string, name: string): Float32Array {
  const t = read(file).tensors.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${file}: no float32 '${name}'`);
  return t.data;
}

describe.skipIf(!torchAvailable)('the every-kind fixtures', () => {
  it('hold every op kind', () => {
    const kinds = CASES.flatMap(({ spec }) => compileIr(spec).nodes.map(opKindOf));
    expect([...new Set(kinds)].sort()).toEqual([...OP_KINDS].sort());
  });
});

describe.skipIf(!torchAvailable).each(CASES)(
  'every op kind equals PyTorch ($spec)',
  ({ spec, classes, biases, noDropout }) => {
    const ir = compileIr(spec);

    it.each([
      { backend: 'cpu' as const, skip: false },
      { backend: 'wasm' as const, skip: false },
      { backend: 'native' as const, skip: !nativeBuilt },
    ])('eval-mode forward on $backend: random weights and BN statistics', async ({ backend, skip }) => {
      if (skip) return console.warn('native every-kind parity skipped: the addon is not built');
      await selectBackend(backend);
      const model = buildModel(ir, { seed: 3 });
      const dict = randomizedWeights(getStateDict(model, ir), 11, { biases });
      expect(setStateDict(model, ir, dict)).toEqual([]);
      const work = workFolder(ir, dict, classes);
      pytorch('generated', work);
      const tf = await import('@tensorflow/tfjs');
      const x = read(path.join(work, 'input.safetensors')).tensors.get('input');
      if (!x) throw new Error('no input');
      const y = tf.tidy(() => model.predict(tf.tensor(x.data as Float32Array, x.shape)) as Tf.Tensor);
      const ours = new Float32Array(await y.data());
      y.dispose();
      model.dispose();
      const error = relativeError(ours, floats(path.join(work, 'expected.safetensors'), 'output'));
      console.log(
        `${ir.name} eval forward on ${backend}: max relative |difference| ${error.toExponential(2)}`,
      );
      expect(error).toBeLessThanOrEqual(1e-5);
    });

    it('one SGD step in train mode (dropout 0) on cpu: loss, weights and BN statistics', async () => {
      await selectBackend('cpu');
      const step = compileIr(spec, {}, { set: [...noDropout] });
      const model = buildModel(step, { seed: 4 });
      const dict = randomizedWeights(getStateDict(model, step), 11, { biases });
      expect(setStateDict(model, step, dict)).toEqual([]);
      const work = workFolder(step, dict, classes);
      pytorch('generated-step', work);
      const images = floats(path.join(work, 'input.safetensors'), 'input');
      const labels = read(path.join(work, 'labels.safetensors')).tensors.get('labels')?.data as Int32Array;
      const losses: number[] = [];
      const outcome = await train({
        model,
        ir: step,
        train: { images, labels, count: BATCH },
        dev: { images, labels, count: BATCH },
        config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: BATCH, logSteps: 0, evalSteps: 0 },
        hooks: { step: (s) => void losses.push(s.loss) },
      });
      expect(outcome.status).toBe('completed');
      const expected = read(path.join(work, 'expected.safetensors'));
      expect(Math.abs((losses[0] ?? NaN) - Number(expected.metadata.loss))).toBeLessThanOrEqual(1e-5);
      // Every updated tensor within 1e-4 of PyTorch's (as the seed model's step test), and the update of every
      // convolution weight, whose gradient flows back through every activation of the stem and the block, within
      // 1e-3 of PyTorch's update relative to its size: a wrong gradient anywhere upstream would be far off.
      const ours = getStateDict(model, step);
      let worst = { name: '', diff: 0 };
      let worstUpdate = { name: '', error: 0 };
      for (const [name, tensor] of ours) {
        const theirs = expected.tensors.get(name);
        if (!theirs || !(theirs.data instanceof Float32Array)) throw new Error(`PyTorch has no ${name}`);
        const before = dict.get(name)?.data ?? new Float32Array();
        for (let i = 0; i < tensor.data.length; i++) {
          const diff = Math.abs((tensor.data[i] ?? 0) - (theirs.data[i] ?? 0));
          if (diff > worst.diff) worst = { name, diff };
        }
        if (tensor.shape.length === 4) {
          const update = (d: Float32Array): Float32Array => d.map((v, i) => v - (before[i] ?? 0));
          const error = relativeError(update(tensor.data), update(theirs.data));
          if (error > worstUpdate.error) worstUpdate = { name, error };
        }
      }
      console.log(
        `${step.name} SGD step on cpu: loss ${losses[0]} vs PyTorch ${expected.metadata.loss}; max |difference| ` +
          `${worst.diff.toExponential(2)} (${worst.name}); conv weight updates within ` +
          `${worstUpdate.error.toExponential(2)} relative (${worstUpdate.name})`,
      );
      expect(worst.diff).toBeLessThanOrEqual(1e-4);
      expect(worstUpdate.error).toBeLessThanOrEqual(1e-3);
      model.dispose();
    });
  },
);

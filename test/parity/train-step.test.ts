/**
 * One training step against PyTorch: from identical weights (random, with random BN running statistics) on an
 * identical batch, one SGD step (lr 0.005, cross-entropy) in netspec's trainer and in PyTorch must give the same
 * loss, updated weights and updated BN statistics (max |difference| <= 1e-4). Then the updated weights, exported
 * as a state dict, load strictly into the generated PyTorch module and give netspec's predictions.
 * Needs Debian's python3-torch (CI installs it); skipped, with the reason, where it is missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, getStateDict, setStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { loadNativeAddon } from '../../src/runtime/backends/native-backend.js';
import { DEFAULT_TRAIN_CONFIG, train } from '../../src/runtime/train/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import {
  exportStateDict,
  importStateDict,
  parseWeightMap,
  renameTensor,
} from '../../src/runtime/weights/state-dict-io.js';
import { cli } from '../support/cli.js';
import { PYTHON, pythonHas } from '../support/torch.js';
import { compileIr } from '../support/compile.js';

const torchAvailable = pythonHas('training-step parity');

const read = (file: string) => decodeSafetensors(fs.readFileSync(file), file);

const nativeBuilt = typeof loadNativeAddon() !== 'string';

describe.skipIf(!torchAvailable)('one SGD step equals PyTorch', () => {
  // wasm, and the native oneDNN backend where it is built (CI builds it): each backend's convolutions, pooling and
  // BatchNorm gradient take their own path to the same numbers.
  it.each([
    { backend: 'wasm' as const, skip: false },
    { backend: 'native' as const, skip: !nativeBuilt },
  ])(
    'resnet18 (the seed model) on $backend: loss, weights and BN statistics; then the generated PyTorch module',
    async ({ backend, skip }) => {
      if (skip) {
        console.warn('native training-step parity skipped: the addon is not built (node native/build.mjs)');
        return;
      }
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-step-'));
      const out = execFileSync(PYTHON, ['test/parity/reference.py', 'sgd-step', work, '1'], {
        encoding: 'utf8',
      });
      expect(out.trim()).toBe('OK');

      const ir = compileIr('specs/resnet18.yaml');
      const mapFile = 'maps/nndl-resnet18.yaml';
      const map = parseWeightMap(fs.readFileSync(mapFile, 'utf8'), mapFile);
      expect(map.diagnostics).toEqual([]);
      const start = importStateDict(read(path.join(work, 'weights.safetensors')), map, ir, 'weights');
      expect(start.diagnostics).toEqual([]);

      await selectBackend(backend);
      const model = buildModel(ir, { seed: 0 });
      expect(setStateDict(model, ir, start.dict)).toEqual([]);
      const input = read(path.join(work, 'input.safetensors')).tensors.get('input');
      const labels = read(path.join(work, 'labels.safetensors')).tensors.get('labels');
      if (!input || !(input.data instanceof Float32Array) || !labels || !(labels.data instanceof Int32Array))
        throw new Error('bad reference batch');
      const batch = { images: input.data, labels: labels.data, count: input.shape[0] ?? 0 };
      const losses: number[] = [];
      // One epoch of one full batch: the shuffle only reorders the batch, which changes neither the mean loss nor BN.
      const outcome = await train({
        model,
        ir,
        train: batch,
        dev: batch,
        config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: batch.count, logSteps: 0, evalSteps: 0 },
        hooks: { step: (s) => void losses.push(s.loss) },
      });
      expect(outcome.status).toBe('completed');

      const expected = read(path.join(work, 'expected.safetensors'));
      const torchLoss = Number(expected.metadata.loss);
      expect(losses).toHaveLength(1);
      expect(Math.abs((losses[0] ?? NaN) - torchLoss)).toBeLessThanOrEqual(1e-4);

      const ours = getStateDict(model, ir);
      let worst = { name: '', diff: 0 };
      let compared = 0;
      let moved = 0;
      for (const [original, tensor] of expected.tensors) {
        const name = renameTensor(original, map.rules);
        if (name.endsWith('num_batches_tracked')) continue;
        const mine = ours.get(name);
        const before = start.dict.get(name);
        if (!mine || !before || !(tensor.data instanceof Float32Array)) throw new Error(`no tensor ${name}`);
        for (let i = 0; i < mine.data.length; i++) {
          const diff = Math.abs((mine.data[i] ?? 0) - (tensor.data[i] ?? 0));
          if (diff > worst.diff) worst = { name, diff };
          if ((tensor.data[i] ?? 0) !== (before.data[i] ?? 0)) moved++;
        }
        compared++;
      }
      console.log(
        `one SGD step on ${backend}: loss ${losses[0]} vs PyTorch ${torchLoss}; max |difference| over ${compared} tensors ` +
          `${worst.diff.toExponential(2)} (${worst.name})`,
      );
      expect(compared).toBe(ours.size);
      expect(moved).toBeGreaterThan(1_000_000); // the step really changed the weights and statistics
      expect(worst.diff).toBeLessThanOrEqual(1e-4);

      // The trained weights, exported as netspec does, load strictly into the generated PyTorch module.
      const exported = exportStateDict(ours, ir, 1);
      fs.writeFileSync(path.join(work, 'weights.safetensors'), encodeSafetensors(exported));
      const run = await cli(
        'predict',
        'specs/resnet18.yaml',
        '--weights',
        path.join(work, 'weights.safetensors'),
        '--input',
        path.join(work, 'input.safetensors'),
        '--output',
        path.join(work, 'netspec.safetensors'),
        '--backend',
        backend,
      );
      expect(run.stderr).toBe('');
      const py = execFileSync(
        PYTHON,
        ['test/parity/reference.py', 'generated', 'generated/resnet18/pytorch/model.py', work],
        { encoding: 'utf8' },
      );
      expect(py.trim()).toBe('OK');
      const a = read(path.join(work, 'netspec.safetensors')).tensors.get('output')?.data as Float32Array;
      const b = read(path.join(work, 'expected.safetensors')).tensors.get('output')?.data as Float32Array;
      expect(a.length).toBe(b.length);
      const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] ?? 0))));
      console.log(
        `generated PyTorch module with netspec-trained weights (${backend}): max |difference| ${diff.toExponential(2)}`,
      );
      expect(diff).toBeLessThanOrEqual(1e-4);
    },
  );
});

/**
 * The training settings beyond plain SGD against PyTorch: from identical weights on an identical batch, several
 * full-batch steps of netspec's trainer and of torch.optim on the generated PyTorch module must give the same
 * losses and weights (losses within 1e-5, weights within 5e-5): AdamW's decoupled weight decay, Nesterov momentum with weight
 * decay, label smoothing, and Adam under linear warmup into a cosine schedule (torch gets netspec's rate per
 * step, so the schedule itself is checked by its formulas in test/runtime/train/config.test.ts).
 * Needs Debian's python3-torch; skipped, with the reason, where it is missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildModel, getStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { DEFAULT_TRAIN_CONFIG, train, type TrainConfig } from '../../src/runtime/train/index.js';
import { learningRateAt } from '../../src/runtime/train/config.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { exportStateDict } from '../../src/runtime/weights/state-dict-io.js';
import { compileIr } from '../support/compile.js';
import { PYTHON, pythonHas } from '../support/torch.js';
import { values } from '../support/values.js';

const torchAvailable = pythonHas('optimizer parity');
const read = (file: string) => decodeSafetensors(fs.readFileSync(file), file);

const CASES: { name: string; config: Partial<TrainConfig>; steps: number }[] = [
  {
    name: 'adamw, weight decay 0.05',
    config: { optimizer: 'adamw', lr: 0.002, weightDecay: 0.05 },
    steps: 4,
  },
  {
    name: 'Nesterov momentum with weight decay',
    config: { optimizer: 'momentum', lr: 0.02, momentum: 0.9, nesterov: true, weightDecay: 0.001 },
    steps: 4,
  },
  {
    name: 'sgd with label smoothing 0.1',
    config: { optimizer: 'sgd', lr: 0.05, labelSmoothing: 0.1 },
    steps: 3,
  },
  {
    name: 'adam, warmup 2 epochs into a cosine schedule',
    config: { optimizer: 'adam', lr: 0.003, warmupEpochs: 2, schedule: { kind: 'cosine', minLr: 0.0005 } },
    steps: 5,
  },
];

describe.skipIf(!torchAvailable)('optimizers, weight decay, label smoothing and warmup equal PyTorch', () => {
  it.each(CASES)('$name', async ({ config: over, steps }) => {
    await selectBackend('cpu');
    const ir = compileIr('specs/lenet5.yaml');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-optim-'));
    const count = 12;
    const model = buildModel(ir, { seed: 3 });
    const start = getStateDict(model, ir);
    fs.writeFileSync(path.join(work, 'weights.safetensors'), encodeSafetensors(exportStateDict(start, ir)));
    const images = values(count * 32 * 32, 7);
    const labels = Int32Array.from({ length: count }, (_, i) => (i * 7) % 10);
    fs.writeFileSync(
      path.join(work, 'input.safetensors'),
      encodeSafetensors(new Map([['input', { dtype: 'F32', shape: [count, 1, 32, 32], data: images }]])),
    );
    fs.writeFileSync(
      path.join(work, 'labels.safetensors'),
      encodeSafetensors(new Map([['labels', { dtype: 'I32', shape: [count], data: labels }]])),
    );
    const config: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      ...over,
      epochs: steps,
      batchSize: count,
      logSteps: 0,
      evalSteps: 0,
    };
    const losses: number[] = [];
    const batch = { images, labels, count };
    const outcome = await train({
      model,
      ir,
      train: batch,
      dev: batch,
      config,
      hooks: { step: (s) => void losses.push(s.loss) },
    });
    expect(outcome.status).toBe('completed');
    const lrs = Array.from({ length: steps }, (_, s) => learningRateAt(config, s, 1));
    const torchConfig = {
      optimizer: config.optimizer,
      lrs,
      weight_decay: config.weightDecay,
      momentum: config.momentum,
      nesterov: config.nesterov,
      label_smoothing: config.labelSmoothing,
    };
    const out = execFileSync(
      PYTHON,
      ['test/parity/optimizers.py', 'generated/lenet5/pytorch/model.py', work, JSON.stringify(torchConfig)],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('OK');
    const expected = read(path.join(work, 'expected.safetensors'));
    const torchLosses = JSON.parse(expected.metadata.losses ?? '[]') as number[];
    expect(losses).toHaveLength(steps);
    for (let i = 0; i < steps; i++)
      expect(Math.abs((losses[i] ?? NaN) - (torchLosses[i] ?? NaN))).toBeLessThan(1e-5);
    const ours = exportStateDict(getStateDict(model, ir), ir);
    let worst = 0;
    let moved = 0;
    for (const [name, tensor] of expected.tensors) {
      const mine = ours.get(name)?.data as Float32Array | undefined;
      const before = start.get(name)?.data;
      if (!mine || !before) throw new Error(`no tensor ${name}`);
      const theirs = tensor.data as Float32Array;
      for (let i = 0; i < mine.length; i++) {
        worst = Math.max(worst, Math.abs((mine[i] ?? 0) - (theirs[i] ?? 0)));
        if ((theirs[i] ?? 0) !== (before[i] ?? 0)) moved++;
      }
    }
    console.log(
      `${over.optimizer} ${JSON.stringify(over)}: max |weight difference| ${worst.toExponential(2)}`,
    );
    expect(moved).toBeGreaterThan(10_000);
    // Adam divides by sqrt(v): an element whose gradient is near zero moves by up to lr per step whatever the
    // gradient's size, so the last bits of a tiny gradient show here (measured 9.9e-6 for adamw, 1.5e-8 for SGD).
    expect(worst).toBeLessThanOrEqual(5e-5);
    model.dispose();
  });
});

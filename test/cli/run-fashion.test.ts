/**
 * `netspec run` on Fashion-MNIST as Debian's dataset-fashion-mnist installs it (CI installs the package): LeNet-5
 * trains 2 epochs on a 512-image subset on the wasm backend, and must beat chance clearly. Skipped, with the
 * reason, where the package is missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli } from '../support/cli.js';

const DIR = '/usr/share/datasets/fashion-mnist';
const present = fs.existsSync(path.join(DIR, 'train-images-idx3-ubyte.gz'));
if (!present)
  console.warn(`Fashion-MNIST training skipped: ${DIR} is missing (apt-get install dataset-fashion-mnist)`);

describe.skipIf(!present)('netspec run --data idx:<Fashion-MNIST>', () => {
  it('trains LeNet-5 on a subset and evaluates on the IDX test set', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-fashion-')), 'run');
    const run = await cli(
      'run',
      'specs/lenet5.yaml',
      '--data',
      `idx:${DIR}`,
      '--train',
      '512',
      '--dev',
      '128',
      '--test',
      '128',
      '--epochs',
      '2',
      '--optimizer',
      'adam',
      '--lr',
      '0.002',
      '--backend',
      'wasm',
      '--no-progress',
      '--out',
      out,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('backend: wasm');
    // lenet5's own settings print one line per epoch (the options above override the rest of them).
    expect(run.stdout).toMatch(/^Epoch 1\/2 - loss: \d\.\d{4} - accuracy: \d\.\d{4} - dev_loss: /m);
    expect(run.stdout).toMatch(/\[Test\] accuracy\/loss: \d\.\d{4}\/\d\.\d{4}/);
    const metrics = JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
    expect(metrics.status).toBe('completed');
    // Ten balanced classes: chance is 0.1. Two epochs of Adam on 512 images reach well above it.
    expect(metrics.test?.accuracy ?? 0).toBeGreaterThan(0.4);
    for (const f of ['train.log', 'metrics.json', 'loss.svg', 'loss.png', 'accuracy.svg', 'accuracy.png'])
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
  });
});

/**
 * Parity with PyTorch (NNDL 5.4.4 done right): PyTorch builds the reference model with random weights AND random
 * BN running statistics, computes its eval-mode output, and saves its state dict under its own names; netspec's
 * `predict` loads that state dict through a rename map and must give the same output, max |difference| <= 1e-4.
 * Needs Debian's python3-torch (CI installs it); skipped, with the reason, where it is missing.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli } from '../support/cli.js';
import { PYTHON, pythonHas } from '../support/torch.js';

const SCRIPT = 'test/parity/reference.py';

const torchAvailable = pythonHas('parity tests', ['torch', 'torchvision']);

function reference(...args: string[]): void {
  const out = execFileSync(PYTHON, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  expect(out.trim()).toBe('OK');
}

function tensor(file: string, name: string): { shape: number[]; data: Float32Array } {
  const t = decodeSafetensors(fs.readFileSync(file), file).tensors.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${file}: no float32 tensor ${name}`);
  return { shape: t.shape, data: t.data };
}

/** max |a - b| over all elements, and max |b| (to show the outputs are not trivially small). */
function maxDiff(a: Float32Array, b: Float32Array): { diff: number; scale: number } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    scale = Math.max(scale, Math.abs(b[i] ?? 0));
  }
  return { diff, scale };
}

describe.skipIf(!torchAvailable)('netspec predict equals PyTorch eval-mode output', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-parity-'));
  });

  const cases = [
    {
      name: 'resnet18 (the seed model, residual)',
      spec: 'specs/resnet18.yaml',
      map: 'maps/nndl-resnet18.yaml',
      args: ['seed', '1'],
    },
    {
      name: 'resnet18-plain (the seed model, use_residual=False)',
      spec: 'specs/resnet18-plain.yaml',
      map: 'maps/nndl-resnet18-plain.yaml',
      args: ['seed', '0'],
    },
    {
      name: "torchvision's resnet18() (NNDL 5.4.4)",
      spec: 'specs/torchvision-resnet18.yaml',
      map: 'maps/torchvision-resnet18.yaml',
      args: ['torchvision'],
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const work = fs.mkdtempSync(path.join(dir, 'case-'));
      const [kind, ...rest] = c.args;
      reference(kind ?? '', work, ...rest);
      const run = await cli(
        'predict',
        c.spec,
        '--weights',
        path.join(work, 'weights.safetensors'),
        '--map',
        c.map,
        '--input',
        path.join(work, 'input.safetensors'),
        '--output',
        path.join(work, 'out.safetensors'),
        '--backend',
        'wasm',
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const ours = tensor(path.join(work, 'out.safetensors'), 'output');
      const theirs = tensor(path.join(work, 'expected.safetensors'), 'output');
      expect(ours.shape).toEqual(theirs.shape);
      const { diff, scale } = maxDiff(ours.data, theirs.data);
      console.log(`${c.name}: max |difference| ${diff.toExponential(2)} (max |output| ${scale.toFixed(3)})`);
      expect(scale).toBeGreaterThan(0.1);
      expect(diff).toBeLessThanOrEqual(1e-4);
    });

  it('names unmapped, unused or mismatched tensors (the first 8, each kind in turn)', async () => {
    const work = fs.mkdtempSync(path.join(dir, 'case-'));
    reference('seed', work, '1');
    // Without the map, the seed's names match nothing: tensors are reported by name, and nothing is written.
    const run = await cli(
      'predict',
      'specs/resnet18.yaml',
      '--weights',
      path.join(work, 'weights.safetensors'),
      '--input',
      path.join(work, 'input.safetensors'),
      '--output',
      path.join(work, 'out.safetensors'),
      '--backend',
      'cpu',
    );
    expect(run.code).toBe(1);
    // 226 problems: the first 8 are shown, the unused and the missing tensors in turn, then the count.
    expect(run.stderr).toContain("tensor 'net.0.1.num_batches_tracked' is not used by 'resnet18'");
    expect(run.stderr).toContain('... and 218 more problems (226 in all)');
    expect(run.stderr).toContain("tensor 'stem.0.weight' [64, 1, 7, 7] is missing");
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(work, 'out.safetensors'))).toBe(false);
    // With the map but the plain spec, the shortcut tensors are unused.
    const plain = await cli(
      'predict',
      'specs/resnet18-plain.yaml',
      '--weights',
      path.join(work, 'weights.safetensors'),
      '--map',
      'maps/nndl-resnet18.yaml',
      '--input',
      path.join(work, 'input.safetensors'),
      '--backend',
      'cpu',
    );
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(
      "tensor 'net.2.0.shortcut.weight' (renamed to 'stage3.0.shortcut.weight') is not used by 'resnet18-plain'",
    );
  });
});

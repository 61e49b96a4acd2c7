/**
 * The user's round trip: `netspec run` trains, `netspec export-weights` writes the best checkpoint as a PyTorch
 * state dict, `netspec compile --target pytorch` writes the module, PyTorch loads the weights strictly, and its
 * eval-mode output equals `netspec predict` on the same input. Needs Debian's python3-torch; skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli } from '../support/cli.js';
import { PYTHON, pythonHas } from '../support/torch.js';

const torchAvailable = pythonHas('the round-trip test');

const floats = (file: string, name: string): Float32Array => {
  const t = decodeSafetensors(fs.readFileSync(file), file).tensors.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`${file}: no float32 '${name}'`);
  return t.data;
};

describe.skipIf(!torchAvailable)('run → export-weights → generated PyTorch module', () => {
  it('vgg-small: PyTorch gives netspec predictions with netspec-trained weights', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-roundtrip-'));
    const out = path.join(work, 'run');
    const spec = 'specs/vgg-small.yaml';
    const trained = await cli(
      'run',
      spec,
      '--train',
      '64',
      '--dev',
      '32',
      '--test',
      '32',
      '--batch-size',
      '32',
      '--epochs',
      '1',
      '--eval-steps',
      '1',
      '--backend',
      'wasm',
      '--no-progress',
      '--out',
      out,
    );
    expect(trained.code).toBe(0);
    const weights = path.join(work, 'weights.safetensors');
    const exported = await cli(
      'export-weights',
      spec,
      '--checkpoint',
      path.join(out, 'checkpoints', 'best'),
      '-o',
      weights,
    );
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const names = [...decodeSafetensors(fs.readFileSync(weights), weights).tensors.keys()];
    expect(names).toContain('stage1.0.bn.running_var');
    expect(names).toContain('stage1.0.bn.num_batches_tracked');

    const compiled = await cli('compile', spec, '--target', 'pytorch', '-o', path.join(work, 'pt'));
    expect(compiled.code).toBe(0);
    const x = new Float32Array(4 * 32 * 32).map((_, i) => Math.sin(i * 0.37) * 1.5);
    fs.writeFileSync(
      path.join(work, 'input.safetensors'),
      encodeSafetensors(new Map([['input', { dtype: 'F32', shape: [4, 1, 32, 32], data: x }]])),
    );
    const predicted = await cli(
      'predict',
      spec,
      '--weights',
      weights,
      '--input',
      path.join(work, 'input.safetensors'),
      '--output',
      path.join(work, 'netspec.safetensors'),
      '--backend',
      'wasm',
    );
    expect(predicted.code).toBe(0);
    const py = execFileSync(
      PYTHON,
      ['test/parity/reference.py', 'generated', path.join(work, 'pt', 'model.py'), work],
      {
        encoding: 'utf8',
      },
    );
    expect(py.trim()).toBe('OK');
    const a = floats(path.join(work, 'netspec.safetensors'), 'output');
    const b = floats(path.join(work, 'expected.safetensors'), 'output');
    expect(a.length).toBe(40);
    const diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - (b[i] ?? 0))));
    console.log(`vgg-small trained by netspec, in PyTorch: max |difference| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(1e-4);
  });
});

// Interop with PyTorch (Debian's python3-torch): files written here are read by torch, and a real PyTorch
// state_dict written in Python is read here. Skipped, with the reason, when torch cannot be imported.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorInput,
} from '../../../src/runtime/weights/safetensors.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch-interop.py');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface Seen {
  dtype: string;
  shape: number[];
  values: number[] | boolean[] | { bits: number[]; float: number[] };
}
interface InteropResult {
  read: Record<string, Seen>;
  readMetadata: Record<string, string>;
  readOrder: string[];
  wrote: Record<string, Seen>;
}

it('round-trips through PyTorch: torch reads what netspec writes, netspec reads a torch state_dict', (ctx) => {
  if (!fs.existsSync(PYTHON)) ctx.skip(`${PYTHON} not found`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-st-'));
  try {
    const conv = Float32Array.from({ length: 18 }, (_, i) => i * 0.25 - 1);
    const tensors = new Map<string, TensorInput>([
      ['stem.0.weight', { dtype: 'F32', shape: [2, 1, 3, 3], data: conv }],
      ['stem.1.running_mean', { dtype: 'F32', shape: [2], data: new Float32Array([0.1, -0.2]) }],
      ['stem.1.num_batches_tracked', { dtype: 'I64', shape: [], data: new BigInt64Array([5n]) }],
      ['x.f64', { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) }],
      ['x.i32', { dtype: 'I32', shape: [3], data: new Int32Array([-2147483648, 0, 7]) }],
      ['x.u8', { dtype: 'U8', shape: [2], data: new Uint8Array([0, 255]) }],
      ['x.bool', { dtype: 'BOOL', shape: [2, 1], data: new Uint8Array([1, 0]) }],
      ['x.f16', { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
      ['x.bf16', { dtype: 'BF16', shape: [1], data: new Uint16Array([0x4049]) }],
      ['x.empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    fs.writeFileSync(path.join(dir, 'from-ts.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));

    const run = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8', timeout: 110_000 });
    if (run.error) ctx.skip(`cannot run ${PYTHON}: ${run.error.message}`);
    if (run.stdout.trim() === 'NO_TORCH')
      ctx.skip('python3-torch is not installed (apt-get install python3-torch)');
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as InteropResult;

    // torch's view of our file
    expect(result.readMetadata).toEqual({ format: 'pt' });
    expect(result.readOrder).toEqual([
      'stem.1.num_batches_tracked',
      'x.f64',
      'stem.0.weight',
      'stem.1.running_mean',
      'x.empty',
      'x.i32',
      'x.bf16',
      'x.f16',
      'x.u8',
      'x.bool',
    ]);
    expect(result.read['stem.0.weight']).toEqual({ dtype: 'F32', shape: [2, 1, 3, 3], values: [...conv] });
    expect(result.read['stem.1.running_mean']?.values).toEqual([Math.fround(0.1), Math.fround(-0.2)]);
    expect(result.read['stem.1.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], values: [5] });
    expect(result.read['x.f64']?.values).toEqual([Math.PI, -1e300]);
    expect(result.read['x.i32']?.values).toEqual([-2147483648, 0, 7]);
    expect(result.read['x.u8']?.values).toEqual([0, 255]);
    expect(result.read['x.bool']).toEqual({ dtype: 'BOOL', shape: [2, 1], values: [true, false] });
    expect(result.read['x.f16']?.values).toEqual({ bits: [0x3c00, 0xc000 - 0x10000], float: [1, -2] });
    expect(result.read['x.bf16']?.values).toEqual({ bits: [0x4049], float: [3.140625] });
    expect(result.read['x.empty']).toEqual({ dtype: 'F32', shape: [0, 4], values: [] });

    // our view of torch's file
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'from-torch.safetensors')));
    const decoded = decodeSafetensors(bytes, 'from-torch.safetensors');
    expect(decoded.metadata).toEqual({ format: 'pt' });
    expect(new Set(decoded.tensors.keys())).toEqual(new Set(Object.keys(result.wrote)));
    for (const [name, seen] of Object.entries(result.wrote)) {
      const t = decoded.tensors.get(name);
      expect(t?.dtype, name).toBe(seen.dtype);
      expect(t?.shape, name).toEqual(seen.shape);
      if (t?.dtype === 'I64') expect([...t.data].map(Number), name).toEqual(seen.values);
      else if (t?.dtype === 'BOOL') expect([...t.data].map(Boolean), name).toEqual(seen.values);
      else if (t?.dtype === 'F16' || t?.dtype === 'BF16')
        expect([...t.data], name).toEqual((seen.values as { bits: number[] }).bits.map((b) => b & 0xffff));
      else expect([...(t?.data ?? [])], name).toEqual(seen.values);
    }
    const nbt = decoded.tensors.get('1.num_batches_tracked');
    expect(nbt?.data).toBeInstanceOf(BigInt64Array);
    expect([...(nbt?.data as BigInt64Array)]).toEqual([1n]);
    expect(decoded.tensors.get('0.weight')?.data).toBeInstanceOf(Float32Array);
    // The Python writer follows the reference layout, so re-encoding what we read gives the same bytes.
    expect(encodeSafetensors(decoded.tensors, decoded.metadata)).toEqual(bytes);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

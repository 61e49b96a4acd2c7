/**
 * `netspec bench --backend webgpu` on SwiftShader: the tiny network's forward and step are timed like any other
 * backend's, the JSON names the adapter and marks it software, and the table says its times are not GPU times.
 * One timed run, batch 2: SwiftShader compiles every shader on the CPU.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../../src/runtime/bench/report.js';
import { cli } from '../../support/cli.js';
import { hasSwiftShader } from '../../support/webgpu.js';

const TINY = `netspec: 1
name: tiny-bench
input: [1, 8, 8]
modules:
  - body:
      - conv: {out: 4, kernel: 3, stride: 2, padding: 1, bias: false}
      - batchnorm
      - relu
  - head: [global_avgpool, flatten, linear: {out: 3}]
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-bench-webgpu-'));
const spec = path.join(dir, 'tiny.yaml');
fs.writeFileSync(spec, TINY);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasSwiftShader('netspec bench --backend webgpu'))('netspec bench --backend webgpu', () => {
  const args = ['bench', spec, '--backend', 'webgpu', '--repeats', '1', '--warmup', '0', '--batch-size', '2'];

  it('times forward and step, names the adapter and says a software adapter is not a GPU', async () => {
    const json = await cli(...args, '--no-pytorch', '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as BenchReport;
    expect(report.entries).toHaveLength(1);
    const webgpu = report.entries[0];
    expect(webgpu).toMatchObject({
      name: 'webgpu',
      adapter: { vendor: 'google', architecture: 'swiftshader', software: true },
      leakedTensors: 0,
    });
    expect(webgpu?.forwardMs.median).toBeGreaterThan(0);
    expect(webgpu?.stepMs.median).toBeGreaterThan(0);
    expect(webgpu?.notes[0]).toMatch(/^Dawn on google swiftshader ".*", a software adapter: .*not GPU times/);

    const table = await cli(...args, '--no-pytorch');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^webgpu \(SwiftShader[^)]*, software\) +\S+ \(/m);
    expect(table.stdout).toMatch(/^warning: webgpu ran on a software adapter \(.*\): .*not GPU times$/m);
  }, 60_000);
});

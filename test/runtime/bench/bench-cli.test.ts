/**
 * `netspec bench --json` on a tiny network (1x8x8 conv net), cpu backend, one timed run: the document's shape
 * and the numbers that follow from the options. No assertion on how fast anything is.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../../src/runtime/bench/report.js';
import { cli } from '../../support/cli.js';

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

function hasTorch(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function expectStats(stats: { median: number; min: number; max: number; samples: readonly number[] }): void {
  expect(stats.samples).toHaveLength(1);
  expect(stats.median).toBe(stats.samples[0]);
  expect(stats.min).toBe(stats.median);
  expect(stats.max).toBe(stats.median);
  expect(stats.median).toBeGreaterThan(0);
}

describe('netspec bench --json', () => {
  let spec: string;
  beforeAll(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-bench-test-'));
    spec = path.join(dir, 'tiny.yaml');
    fs.writeFileSync(spec, TINY);
  });

  it('prints one JSON document with tfjs cpu and PyTorch (or why PyTorch was skipped)', async () => {
    const torch = hasTorch();
    const args = ['bench', spec, '--backend', 'cpu', '--repeats', '1', '--warmup', '0', '--batch-size', '4'];
    const run = await cli(...args, '--epoch-images', '10', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report).toMatchObject({
      network: 'tiny-bench',
      inputShape: [1, 8, 8],
      batchSize: 4,
      warmup: 0,
      repeats: 1,
    });
    expect(report.conventions.some((c) => c.startsWith('peak RSS: getrusage ru_maxrss'))).toBe(true);
    expect(report.host.cpus).toBeGreaterThan(0);
    expect(report.host.loadAverage).toHaveLength(2);

    const names = report.entries.map((e) => e.name);
    expect(names).toEqual(torch ? ['pytorch', 'cpu'] : ['cpu']);
    expect(report.skipped.map((s) => s.name)).toEqual(torch ? [] : ['pytorch']);
    for (const entry of report.entries) {
      expectStats(entry.forwardMs);
      expectStats(entry.stepMs);
      // 10 images at batch 4: 3 steps, the last one short but counted in full.
      expect(entry.epoch.steps).toBe(3);
      expect(entry.epoch.images).toBe(10);
      expect(entry.epoch.ms).toBeCloseTo(3 * entry.stepMs.median, 9);
      expect(entry.epoch.imagesPerSecond).toBeCloseTo(10 / (entry.epoch.ms / 1000), 6);
      expect(entry.peakRssMiB).toBeGreaterThan(10);
    }
    const cpu = report.entries.find((e) => e.name === 'cpu');
    expect(cpu?.leakedTensors).toBe(0);
    if (torch) {
      const pytorch = report.entries[0];
      expect(pytorch?.ratioToPytorch).toEqual({ forward: 1, step: 1 });
      expect(cpu?.ratioToPytorch?.step).toBeCloseTo(
        (cpu?.stepMs.median ?? 0) / (pytorch?.stepMs.median ?? 1),
        9,
      );
      expect(pytorch?.notes[0]).toMatch(/^torch \S+, 2 thread\(s\)/);
    } else expect(cpu?.ratioToPytorch).toBeNull();
  }, 60_000);

  it('prints a table with units without --json, and leaves PyTorch out with --no-pytorch', async () => {
    const args = ['bench', spec, '--backend', 'cpu', '--repeats', '1', '--warmup', '0', '--batch-size', '2'];
    const run = await cli(...args, '--no-pytorch');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^tiny-bench \[1, 8, 8\], batch 2: median \(min-max\) of 1 timed run\(s\) after 0 warm-up/,
    );
    expect(lines[2]).toMatch(
      /^engine +forward ms +step ms +fwd x torch +step x torch +train images\/s +peak RSS MiB$/,
    );
    expect(lines[3]).toMatch(/^cpu +\S+ \(\S+-\S+\) +\S+ \(\S+-\S+\) +- +- +\S+ +\S+$/);
    expect(run.stdout).not.toContain('pytorch');
  }, 60_000);

  it('adds a per-kernel profile of one training step with --profile', async () => {
    const args = ['bench', spec, '--backend', 'cpu', '--repeats', '1', '--warmup', '0', '--batch-size', '2'];
    const run = await cli(...args, '--no-pytorch', '--profile', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    const kernels = report.entries[0]?.profile?.kernels.map((k) => k.kernel) ?? [];
    // Training convolutions run unfused (so tfjs can skip unneeded input gradients) and BatchNorm is one op with a
    // closed-form gradient: batch statistics are Means, its backward Sums.
    for (const name of ['Conv2D', 'Conv2DBackpropFilter', 'Mean', 'Sum']) expect(kernels).toContain(name);
    expect(kernels.some((k) => k.endsWith('__op'))).toBe(false);
  }, 60_000);

  it('fails with exit code 1 and a reason for a backend that cannot run', async () => {
    // The optional tfjs-node packages need a download at install, so they are missing here.
    const run = await cli('bench', spec, '--backend', 'tensorflow', '--no-pytorch', '--json');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: --backend tensorflow cannot run: tensorflow: /m);
  });
});

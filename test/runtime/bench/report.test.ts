/** The pure parts of the benchmark: statistics, the epoch estimate, number formatting. */
import { describe, expect, it } from 'vitest';
import { aggregateKernels, formatProfile } from '../../../src/runtime/bench/profile-format.js';
import {
  BENCH_CONVENTIONS,
  epochEstimate,
  formatBenchTable,
  formatNumber,
  type BenchEntry,
  type BenchReport,
} from '../../../src/runtime/bench/report.js';
import { summarize } from '../../../src/runtime/bench/stats.js';

describe('summarize', () => {
  it('takes the middle sample of an odd count and the mean of the middle two of an even one', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, samples: [5, 1, 3] });
    expect(summarize([4, 1, 3, 10])).toEqual({ median: 3.5, min: 1, max: 10, samples: [4, 1, 3, 10] });
    expect(summarize([7])).toEqual({ median: 7, min: 7, max: 7, samples: [7] });
  });
  it('refuses no samples', () => {
    expect(() => summarize([])).toThrow('no samples');
  });
});

describe('epochEstimate', () => {
  it('counts the short last batch as a full step', () => {
    // 1000 images at 64: 15 full steps and one of 40 images.
    expect(epochEstimate(1000, 64, 250)).toEqual({ images: 1000, steps: 16, ms: 4000, imagesPerSecond: 250 });
    expect(epochEstimate(128, 64, 100)).toEqual({ images: 128, steps: 2, ms: 200, imagesPerSecond: 640 });
  });
});

describe('formatNumber', () => {
  it('keeps about three significant digits', () => {
    expect([0.123456, 1.5, 9.996, 12.345, 99.96, 174.4, 1850.6].map(formatNumber)).toEqual([
      '0.12',
      '1.50',
      '10.0',
      '12.3',
      '100',
      '174',
      '1851',
    ]);
  });
});

describe('aggregateKernels', () => {
  it('sums by kernel name, largest first, leaving out custom-gradient wrappers', () => {
    const kernels = aggregateKernels([
      { name: 'Conv2D', kernelTimeMs: 3 },
      { name: 'fusedConv2d__op', kernelTimeMs: 9 },
      { name: 'Add', kernelTimeMs: 1 },
      { name: 'Conv2D', kernelTimeMs: 4 },
      { name: 'Relu', kernelTimeMs: { error: 'no timer' } },
    ]);
    expect(kernels).toEqual([
      { kernel: 'Conv2D', calls: 2, ms: 7 },
      { kernel: 'Add', calls: 1, ms: 1 },
      { kernel: 'Relu', calls: 1, ms: 0 },
    ]);
    const table = formatProfile({ backend: 'wasm', what: 'step', wallMs: 10, kernels }, 2).split('\n');
    expect(table[0]).toBe('wasm step: 10 ms wall (profiled), 8 ms in kernels');
    expect(table[2]).toMatch(/^Conv2D +2 +7\.0 +87\.5%$/);
    expect(table[4]).toMatch(/^\(1 more\) +1 +0\.0$/);
  });
});

describe('formatBenchTable', () => {
  const stats = { median: 10, min: 9, max: 11, samples: [9, 10, 11] };
  const entry = (name: string, extra: Partial<BenchEntry>): BenchEntry => ({
    name,
    notes: [],
    forwardMs: stats,
    stepMs: stats,
    epoch: epochEstimate(100, 10, 10),
    ratioToPytorch: null,
    peakRssMiB: 100,
    ...extra,
  });
  const report = (entries: BenchEntry[]): BenchReport => ({
    network: 'n',
    inputShape: [1, 4, 4],
    batchSize: 10,
    warmup: 1,
    repeats: 3,
    host: { cpus: 16, cpuModel: 'cpu', node: '20', loadAverage: [0, 0] },
    entries,
    skipped: [],
    conventions: BENCH_CONVENTIONS,
  });
  const adapter = { vendor: 'google', architecture: 'swiftshader', device: 'd' };

  it('names the GPU adapter and the torch device in the engine column, and warns of a software adapter', () => {
    const table = formatBenchTable(
      report([
        entry('pytorch', { device: 'cuda:0 (NVIDIA H200)' }),
        entry('webgpu', { adapter: { ...adapter, description: 'SwiftShader driver 5.0.0', software: true } }),
      ]),
    );
    const rows = table.split('\n');
    expect(rows[3]).toMatch(/^pytorch \(cuda:0 \(NVIDIA H200\)\) +10\.0 \(9\.00-11\.0\)/);
    expect(rows[4]).toMatch(/^webgpu \(SwiftShader driver 5\.0\.0, software\) +10\.0/);
    expect(table).toContain(
      'warning: webgpu ran on a software adapter (SwiftShader driver 5.0.0): the GPU is emulated on the CPU, so ' +
        'its times are not GPU times',
    );
  });

  it('shows a hardware adapter without a warning, and PyTorch on cpu as plain pytorch', () => {
    const hardware = {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: '',
      description: 'NVIDIA H200',
      software: false,
    };
    const table = formatBenchTable(
      report([entry('pytorch', { device: 'cpu' }), entry('webgpu', { adapter: hardware })]),
    );
    const rows = table.split('\n');
    expect(rows[3]).toMatch(/^pytorch +10\.0/);
    expect(rows[4]).toMatch(/^webgpu \(NVIDIA H200\) +10\.0/);
    expect(table).not.toContain('software');
  });
});

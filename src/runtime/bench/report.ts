/** The benchmark's result as data (what `--json` prints), and the table a person reads. */
import type { GpuAdapterReport } from '../backends/webgpu.js';
import { formatProfile, type StepProfile } from './profile-format.js';
import type { TimingStats } from './stats.js';

/** The training-epoch estimate: steps per epoch times the median step time. */
export interface EpochEstimate {
  /** Images in the epoch (`netspec run`'s default train split is 1000). */
  readonly images: number;
  /** ceil(images / batch size); the short last batch is counted as a full step, so the estimate is conservative. */
  readonly steps: number;
  readonly ms: number;
  readonly imagesPerSecond: number;
}

/** One measured engine: a tfjs backend or PyTorch. */
export interface BenchEntry {
  /** 'pytorch' or the tfjs backend name. */
  readonly name: string;
  /** How it ran (backend selection notes, PyTorch version, threads and device). */
  readonly notes: readonly string[];
  /** webgpu only: the adapter it ran on; a software one (SwiftShader) emulates the GPU, so its times are not GPU times. */
  readonly adapter?: GpuAdapterReport;
  /** PyTorch only: the torch device, as the script names it (`cpu`, `cuda:0 (NVIDIA H200)`). */
  readonly device?: string;
  readonly forwardMs: TimingStats;
  readonly stepMs: TimingStats;
  readonly epoch: EpochEstimate;
  /** This entry's median over PyTorch's median (how many times slower than PyTorch); null without PyTorch. */
  readonly ratioToPytorch: { readonly forward: number; readonly step: number } | null;
  /** RSS high-water mark of the process that ran it, MiB; for tfjs backends cumulative over the run so far. */
  readonly peakRssMiB: number;
  /** tfjs only: tensors left alive after the model was disposed (0 means no leak). */
  readonly leakedTensors?: number;
  /** tfjs only, with --profile: per-kernel times of one profiled training step. */
  readonly profile?: StepProfile;
}

/** What `netspec bench` measured, in one document. */
export interface BenchReport {
  readonly network: string;
  readonly inputShape: readonly number[];
  readonly batchSize: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly host: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    /** The 1-minute load average when the run started and when it ended (other work competing for the CPUs). */
    readonly loadAverage: readonly [number, number];
  };
  /** PyTorch first (the reference), then the tfjs backends in the order run. */
  readonly entries: readonly BenchEntry[];
  /** Backends or PyTorch that were considered and did not run, with the reason. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** What the numbers mean (timing method, memory measure, epoch estimate). */
  readonly conventions: readonly string[];
}

/** The conventions stated in every report. */
export const BENCH_CONVENTIONS: readonly string[] = [
  'times: milliseconds per batch, median of the timed runs after untimed warm-up runs; min and max alongside',
  'forward: inference mode (BN running statistics), logits read back; step: training-mode forward, softmax ' +
    'cross-entropy (batch mean), backward, SGD update, BN running-statistic update, loss read back',
  'tfjs times are performance.now() around awaited data() reads, so asynchronous backends are fully counted',
  'ratio: this median / PyTorch median (x times slower than PyTorch; below 1 is faster)',
  'train images/s: epoch images / (ceil(images / batch) x median step), the short last batch counted in full',
  'peak RSS: getrusage ru_maxrss (resident-set high-water mark) of the process; tfjs backends run one after ' +
    'another in one process, so theirs is cumulative (includes every earlier backend); PyTorch runs in its own',
];

/** The epoch estimate for a median step time. */
export function epochEstimate(images: number, batchSize: number, stepMedianMs: number): EpochEstimate {
  const steps = Math.ceil(images / batchSize);
  const ms = steps * stepMedianMs;
  return { images, steps, ms, imagesPerSecond: ms > 0 ? images / (ms / 1000) : Infinity };
}

/** A number with about three significant digits (integers above 100 stay whole). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Thresholds on the rounded value, so 99.96 prints as 100 rather than 100.0.
  if (Math.abs(Number(value.toFixed(1))) >= 100) return Math.round(value).toString();
  if (Math.abs(Number(value.toFixed(2))) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function timing(stats: TimingStats): string {
  return `${formatNumber(stats.median)} (${formatNumber(stats.min)}-${formatNumber(stats.max)})`;
}

/** The engine column: its name, with the GPU it ran on (a software adapter marked) or PyTorch's device. */
function engineLabel(e: BenchEntry): string {
  if (e.adapter) {
    const what = e.adapter.description || e.adapter.device || `${e.adapter.vendor} ${e.adapter.architecture}`;
    return `${e.name} (${what}${e.adapter.software ? ', software' : ''})`;
  }
  return e.device !== undefined && e.device !== 'cpu' ? `${e.name} (${e.device})` : e.name;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** The human-readable table: one row per entry with units in the header, then skips and conventions. */
export function formatBenchTable(report: BenchReport): string {
  const header = [
    'engine',
    'forward ms',
    'step ms',
    'fwd x torch',
    'step x torch',
    'train images/s',
    'peak RSS MiB',
  ];
  const rows = report.entries.map((e) => [
    engineLabel(e),
    timing(e.forwardMs),
    timing(e.stepMs),
    e.ratioToPytorch ? formatNumber(e.ratioToPytorch.forward) : '-',
    e.ratioToPytorch ? formatNumber(e.ratioToPytorch.step) : '-',
    formatNumber(e.epoch.imagesPerSecond),
    formatNumber(e.peakRssMiB),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lines = [
    `${report.network} [${report.inputShape.join(', ')}], batch ${report.batchSize}: median (min-max) of ` +
      `${report.repeats} timed run(s) after ${report.warmup} warm-up run(s); ${report.host.cpus} CPU(s) ` +
      `${report.host.cpuModel}, Node ${report.host.node}`,
    '',
    pad(header, widths),
    ...rows.map((r) => pad(r, widths)),
    '',
  ];
  for (const e of report.entries) for (const note of e.notes) lines.push(`${e.name}: ${note}`);
  for (const s of report.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  const epoch = report.entries[0]?.epoch;
  if (epoch)
    lines.push(`epoch estimate: ${epoch.images} images = ${epoch.steps} steps of ${report.batchSize}`);
  const load = Math.max(...report.host.loadAverage);
  if (load > report.host.cpus / 2)
    lines.push(
      `warning: the machine was busy (1-minute load average up to ${load.toFixed(1)} on ${report.host.cpus} CPUs): ` +
        'times are inflated, most for multi-threaded engines',
    );
  for (const e of report.entries)
    if (e.adapter?.software)
      lines.push(
        `warning: ${e.name} ran on a software adapter (${e.adapter.description || e.adapter.architecture}): the GPU ` +
          'is emulated on the CPU, so its times are not GPU times',
      );
  const leaks = report.entries.filter((e) => (e.leakedTensors ?? 0) !== 0);
  for (const e of leaks) lines.push(`warning: ${e.name} left ${e.leakedTensors} tensor(s) alive`);
  for (const e of report.entries) if (e.profile) lines.push('', formatProfile(e.profile, 12).trimEnd());
  lines.push('', ...report.conventions.map((c) => `- ${c}`));
  return lines.join('\n') + '\n';
}

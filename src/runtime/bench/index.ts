/** `netspec bench`: tfjs backends and PyTorch timed side by side on one network. */
export { runBench, type BenchOptions } from './bench.js';
export {
  benchPytorch,
  DEFAULT_PYTHON,
  type PytorchBenchOptions,
  type PytorchBenchResult,
} from './pytorch-bench.js';
export {
  BENCH_CONVENTIONS,
  epochEstimate,
  formatBenchTable,
  formatNumber,
  type BenchEntry,
  type BenchReport,
  type EpochEstimate,
} from './report.js';
export { aggregateKernels, formatProfile, type KernelTime, type StepProfile } from './profile-format.js';
export { profileTfjs } from './profile.js';
export { peakRssMiB, summarize, timeRepeated, type TimingStats } from './stats.js';
export { benchTfjs, randomBatch, type TfjsBenchOptions, type TfjsBenchResult } from './tfjs-bench.js';

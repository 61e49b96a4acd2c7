/** Summary statistics of repeated timings, and the clock the benchmarks use. */

/** Median, min and max of repeated measurements (milliseconds), and the samples themselves. */
export interface TimingStats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

/** The statistics of `samples` (at least one); the median of an even count is the mean of the middle two. */
export function summarize(samples: readonly number[]): TimingStats {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN, samples: [...samples] };
}

/** Runs `fn` `warmup` times untimed, then `repeats` times timed with performance.now(); awaits each run. */
export async function timeRepeated(
  fn: () => Promise<void>,
  warmup: number,
  repeats: number,
): Promise<TimingStats> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return summarize(samples);
}

/** The process's resident-set high-water mark so far, in MiB (getrusage ru_maxrss, which Linux gives in KiB). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** The process's current resident set, in MiB. */
export function currentRssMiB(): number {
  return process.memoryUsage.rss() / (1024 * 1024);
}

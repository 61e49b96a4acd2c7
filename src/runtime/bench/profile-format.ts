/** Per-kernel profiles as data and as a table (no tfjs here, so the CLI can format without loading it). */

/** One kernel's share of a profiled run. */
export interface KernelTime {
  readonly kernel: string;
  /** How many times the engine ran it. */
  readonly calls: number;
  /** Summed kernel time, ms. */
  readonly ms: number;
}

/** A profiled step: per-kernel times, largest first, and the wall time of the profiled run. */
export interface StepProfile {
  readonly backend: string;
  readonly what: 'forward' | 'step';
  readonly wallMs: number;
  readonly kernels: readonly KernelTime[];
}

/** Sums profiled kernels by name, largest total first, leaving out custom-gradient wrappers (`name__op`). */
export function aggregateKernels(kernels: readonly { name: string; kernelTimeMs: unknown }[]): KernelTime[] {
  const byName = new Map<string, { calls: number; ms: number }>();
  for (const k of kernels) {
    // 'fusedConv2d__op' and the like are custom-gradient wrappers whose time is that of the kernels inside them.
    if (k.name.endsWith('__op')) continue;
    // tf.profile has awaited every time by now; a backend without a timer gives {error}, counted as 0.
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const entry = byName.get(k.name) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    byName.set(k.name, entry);
  }
  return [...byName]
    .map(([kernel, e]) => ({ kernel, calls: e.calls, ms: e.ms }))
    .sort((a, b) => b.ms - a.ms || a.kernel.localeCompare(b.kernel));
}

/** The profile as a table: kernel, calls, ms, share of the summed kernel time. */
export function formatProfile(profile: StepProfile, top = 15): string {
  const total = profile.kernels.reduce((a, k) => a + k.ms, 0);
  const lines = [
    `${profile.backend} ${profile.what}: ${profile.wallMs.toFixed(0)} ms wall (profiled), ${total.toFixed(0)} ms in kernels`,
    `${'kernel'.padEnd(28)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'share'.padStart(6)}`,
  ];
  for (const k of profile.kernels.slice(0, top))
    lines.push(
      `${k.kernel.padEnd(28)} ${String(k.calls).padStart(6)} ${k.ms.toFixed(1).padStart(9)} ${`${((100 * k.ms) / (total || 1)).toFixed(1)}%`.padStart(6)}`,
    );
  const rest = profile.kernels.slice(top);
  if (rest.length)
    lines.push(
      `${`(${rest.length} more)`.padEnd(28)} ${String(rest.reduce((a, k) => a + k.calls, 0)).padStart(6)} ${rest
        .reduce((a, k) => a + k.ms, 0)
        .toFixed(1)
        .padStart(9)}`,
    );
  return lines.join('\n') + '\n';
}

/** Deterministic test data and the error measure shared by the kernel tests. */
import { expect } from 'vitest';

/** `n` deterministic values in [-1, 1) from a linear congruential generator, so that a failing case can be rerun. */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * max |got - want| over max |want|: relative to the tensor's scale, so that near-zero entries do not dominate.
 * The lengths must agree.
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return diff / Math.max(scale, 1e-6);
}

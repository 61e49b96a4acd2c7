/** Deterministic test data shared by the kernel tests. */

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

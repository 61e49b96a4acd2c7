/**
 * Seeded randomness for the data splits. The generator is mulberry32 (Tommy Ettinger's 32-bit state generator):
 * tiny, fast, and good enough for shuffling; it is not cryptographic. Changing it changes every split, so it is
 * fixed here and covered by a test with known outputs.
 */

/** mulberry32 seeded with the low 32 bits of `seed`; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of 0..n-1 by Fisher-Yates (from the last index down) driven by {@link mulberry32}(seed). */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  return perm;
}

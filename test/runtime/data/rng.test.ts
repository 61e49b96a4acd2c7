import { describe, expect, it } from 'vitest';
import { mulberry32, seededPermutation } from '../../../src/runtime/data/rng.js';

describe('mulberry32', () => {
  it('gives the reference sequence (changing it would change every split)', () => {
    const r = mulberry32(42);
    const first = [r(), r(), r()].map((v) => Math.round(v * 2 ** 32));
    expect(first).toEqual(PINNED_42);
  });

  it('uses the low 32 bits of the seed', () => {
    expect(mulberry32(2 ** 32 + 5)()).toBe(mulberry32(5)());
    expect(mulberry32(-1)()).toBe(mulberry32(0xffffffff)());
  });
});

describe('seededPermutation', () => {
  it('is a permutation, the same for the same seed and different for another', () => {
    const a = seededPermutation(1000, 7);
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(seededPermutation(1000, 7)).toEqual(a);
    expect(seededPermutation(1000, 8)).not.toEqual(a);
  });

  it('handles the empty and the one-element case', () => {
    expect(Array.from(seededPermutation(0, 1))).toEqual([]);
    expect(Array.from(seededPermutation(1, 1))).toEqual([0]);
  });
});

// From the widely copied reference implementation (bryc's mulberry32), run with seed 42.
const PINNED_42 = [2581720956, 1925393290, 3661312704];

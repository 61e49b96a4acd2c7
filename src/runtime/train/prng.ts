/**
 * The trainer's own pseudo-random generator (sfc32, seeded through splitmix32). tfjs's generators cannot be
 * saved and restored, and a resumed run must shuffle exactly as an uninterrupted one, so shuffling uses this
 * generator, whose whole state is four 32-bit words.
 */

/** The serializable state of a {@link Prng}: four unsigned 32-bit integers. */
export type PrngState = readonly [number, number, number, number];

/** A small fast generator with a serializable state; the same seed gives the same sequence on every platform. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: PrngState) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /** A generator seeded from any integer (its low 32 bits, mixed so that nearby seeds give unrelated streams). */
  static fromSeed(seed: number): Prng {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    const prng = new Prng([next(), next(), next(), 1]);
    // sfc32's authors discard the first outputs so that weak seeds are mixed in.
    for (let i = 0; i < 12; i++) prng.nextUint32();
    return prng;
  }

  /** A generator continuing exactly from a saved state; throws on a malformed state (a program error). */
  static fromState(state: readonly number[]): Prng {
    if (state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff))
      throw new Error(`PRNG state must be four unsigned 32-bit integers, got [${state.join(', ')}]`);
    return new Prng(state as unknown as PrngState);
  }

  /** The current state, to continue later with {@link Prng.fromState}. */
  state(): PrngState {
    return [this.a, this.b, this.c, this.d];
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = (this.b ^ (this.b >>> 9)) >>> 0;
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A uniform integer in [0, n), without modulo bias (rejection sampling); n must be in [1, 2^32]. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) throw new Error(`nextInt: bad bound ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = out[i] as number;
      out[i] = out[j] as number;
      out[j] = t;
    }
    return out;
  }
}

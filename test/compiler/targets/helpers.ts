/** Test helpers shared by the target tests: a seeded RNG, random PyTorch-layout weights, comparisons. */
import { numel, type IrNetwork } from '../../../src/compiler/ir.js';
import type { StateTensor } from '../../../src/compiler/targets/tfjs/index.js';

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [lo, hi). */
export function uniform(n: number, random: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
}

/** Random weights for every parameter of `ir`, with non-trivial BN statistics (running_var in [0.5, 2)). */
export function randomStateDict(ir: IrNetwork, seed: number): Map<string, StateTensor> {
  const random = rng(seed);
  const dict = new Map<string, StateTensor>();
  for (const node of ir.nodes)
    for (const p of node.params) {
      const n = numel(p.shape);
      const data =
        p.name === 'running_var'
          ? uniform(n, random, 0.5, 2)
          : p.name === 'weight' && node.kind === 'batchnorm'
            ? uniform(n, random, 0.5, 1.5)
            : uniform(n, random, -0.5, 0.5);
      dict.set(`${node.path}.${p.name}`, { shape: [...p.shape], data });
    }
  return dict;
}

/** Largest absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

/** Keys whose tensors differ (shape or any bit of data) between two state dicts, plus keys only one has. */
export function stateDictDiff(
  a: ReadonlyMap<string, StateTensor>,
  b: ReadonlyMap<string, StateTensor>,
): string[] {
  const bytes = (t: StateTensor): Buffer => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => {
    const x = a.get(k);
    const y = b.get(k);
    return !x || !y || x.shape.join() !== y.shape.join() || !bytes(x).equals(bytes(y));
  });
}

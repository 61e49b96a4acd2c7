/** Deterministic test data and the error measure shared by the kernel tests. */
import { expect } from 'vitest';
import type { StateDict } from '../../src/compiler/targets/tfjs/state-dict.js';

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

/**
 * `dict` with non-trivial BatchNorm parameters and running statistics (running_var in [0.25, 1.75), running_mean
 * in [-0.2, 0.2), BN weights in [0.5, 1.5)) and, with `biases`, small random biases, so that a wrong mapping or
 * a train-mode BatchNorm cannot pass. Tensors are drawn from `values` with seeds `seed`, `seed + 1`, ... in order.
 */
export function randomizedWeights(
  dict: StateDict,
  seed: number,
  options: { readonly biases?: boolean } = {},
): StateDict {
  const out: StateDict = new Map();
  let s = seed;
  for (const [name, t] of dict) {
    const v = values(t.data.length, s++);
    const data = name.endsWith('running_var')
      ? v.map((x) => 1 + 0.75 * x)
      : name.endsWith('running_mean')
        ? v.map((x) => 0.2 * x)
        : t.shape.length === 1 && name.endsWith('weight')
          ? v.map((x) => 1 + 0.5 * x)
          : options.biases && name.endsWith('bias')
            ? v.map((x) => 0.1 * x)
            : t.data;
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

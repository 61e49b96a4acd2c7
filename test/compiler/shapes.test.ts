import { describe, expect, it } from 'vitest';
import { addShape, convOutputLength, convShape, linearShape, poolShape } from '../../src/compiler/shapes.js';

/** Counts window positions by sliding one over the padded input: the definition the formula must match. */
function bruteForceLength(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
): number {
  const extent = dilation * (kernel - 1) + 1;
  let count = 0;
  for (let start = 0; start + extent <= size + 2 * padding; start += stride) count++;
  return count;
}

describe('convOutputLength', () => {
  it('matches sliding-window counting over a grid of sizes, kernels, strides, paddings and dilations', () => {
    let checked = 0;
    for (let size = 1; size <= 12; size++)
      for (let kernel = 1; kernel <= 7; kernel++)
        for (let stride = 1; stride <= 3; stride++)
          for (let padding = 0; padding <= 3; padding++)
            for (let dilation = 1; dilation <= 2; dilation++) {
              if (dilation * (kernel - 1) + 1 > size + 2 * padding) continue;
              expect(convOutputLength(size, kernel, stride, padding, dilation)).toBe(
                bruteForceLength(size, kernel, stride, padding, dilation),
              );
              checked++;
            }
    expect(checked).toBeGreaterThan(1000);
  });

  it("gives the seed network's sizes", () => {
    expect(convOutputLength(32, 7, 2, 3)).toBe(16); // stem conv
    expect(convOutputLength(16, 3, 2, 1)).toBe(8); // stem maxpool
    expect(convOutputLength(8, 3, 2, 1)).toBe(4); // stage3 conv1
    expect(convOutputLength(8, 1, 2, 0)).toBe(4); // stage3 shortcut
    expect(convOutputLength(2, 3, 2, 1)).toBe(1); // stage5 conv1
  });
});

describe('shape rules', () => {
  const w = (k: number, s = 1, p = 0) => ({
    kernel: [k, k] as const,
    stride: [s, s] as const,
    padding: [p, p] as const,
    dilation: [1, 1] as const,
  });

  it('rejects a kernel larger than its padded input, naming both sizes', () => {
    const r = convShape([3, 4, 4], true, 8, w(7, 1, 1));
    expect(r).toEqual({
      ok: false,
      code: 'KERNEL_TOO_LARGE',
      message: 'conv kernel 7 is larger than its padded input height 6 (4 + 2*1)',
    });
  });

  it('computes conv output shapes', () => {
    expect(convShape([1, 32, 32], true, 64, w(7, 2, 3))).toEqual({ ok: true, shape: [64, 16, 16] });
  });

  it('rejects pool padding over half the kernel, as PyTorch does', () => {
    expect(poolShape([4, 8, 8], w(3, 2, 2), 'maxpool')).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(poolShape([4, 8, 8], w(3, 2, 1), 'maxpool')).toEqual({ ok: true, shape: [4, 4, 4] });
  });

  it('requires flat input for linear and equal shapes for add', () => {
    expect(linearShape([512, 1, 1], 10)).toMatchObject({ ok: false, code: 'NOT_FLAT' });
    expect(linearShape([512], 10)).toEqual({ ok: true, shape: [10] });
    expect(
      addShape([
        [64, 8, 8],
        [128, 4, 4],
      ]),
    ).toEqual({
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: 'add of different shapes: [64, 8, 8] and [128, 4, 4]',
    });
  });
});

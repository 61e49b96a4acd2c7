/**
 * Kernels as plain loops over typed arrays, shared by the wasm replacements (on views of the wasm heap) and the
 * native backend (on the cpu backend's arrays): block copies for Tile, Slice and PadV2, column sums for
 * reductions over leading axes (wasm), and the max-pooling gradient (wasm; native runs its own in C++).
 */
import { util } from '@tensorflow/tfjs-core';
import type { backend_util, TypedArray } from '@tensorflow/tfjs-core';

/** Tiles `src` (shape `shape`) by `reps` into `out` (row-major, already sized). */
export function tileInto(
  src: TypedArray,
  shape: readonly number[],
  reps: readonly number[],
  out: TypedArray,
): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0] as number;
    return;
  }
  const inStrides = util.computeStrides(shape as number[]);
  const outShape = shape.map((d, i) => d * (reps[i] ?? 1));
  const outStrides = util.computeStrides(outShape);
  const inStride = (d: number): number => (d === rank - 1 ? 1 : (inStrides[d] as number));
  const outStride = (d: number): number => (d === rank - 1 ? 1 : (outStrides[d] as number));
  const fill = (d: number, from: number, to: number): void => {
    const size = shape[d] as number;
    const rep = reps[d] as number;
    if (d === rank - 1) {
      const row = src.subarray(from, from + size);
      for (let r = 0; r < rep; r++) out.set(row, to + r * size);
      return;
    }
    for (let i = 0; i < size; i++) fill(d + 1, from + i * inStride(d), to + i * outStride(d));
    const block = size * outStride(d);
    for (let r = 1; r < rep; r++) out.copyWithin(to + r * block, to, to + block);
  };
  fill(0, 0, 0);
}

/** Copies the box `begin` + `size` of `src` (shape `shape`, row-major) into `out`. */
export function sliceInto(
  src: TypedArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  out: TypedArray,
): void {
  const rank = shape.length;
  const strides = [...util.computeStrides(shape as number[]), 1];
  // Trailing dimensions taken whole extend the contiguous run of the last partial one.
  let inner = rank - 1;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) inner--;
  const run = (size[inner] as number) * (strides[inner] as number);
  let o = 0;
  const copy = (d: number, from: number): void => {
    if (d === inner) {
      const start = from + (begin[d] as number) * (strides[d] as number);
      out.set(src.subarray(start, start + run), o);
      o += run;
      return;
    }
    const b = begin[d] as number;
    for (let i = 0; i < (size[d] as number); i++) copy(d + 1, from + (b + i) * (strides[d] as number));
  };
  if (rank === 0) out[0] = src[0] as number;
  else copy(0, 0);
}

/** Column sums of `src` viewed as [rows, cols], into `out` (scaled by `scale`). */
export function sumLeadingRows(
  src: Float32Array,
  rows: number,
  cols: number,
  out: Float32Array,
  scale: number,
): void {
  const acc = new Float64Array(cols);
  for (let r = 0, i = 0; r < rows; r++)
    for (let c = 0; c < cols; c++, i++) acc[c] = (acc[c] as number) + (src[i] as number);
  for (let c = 0; c < cols; c++) out[c] = (acc[c] as number) * scale;
}

/** The number of leading axes `axis` reduces when they are exactly 0..k-1, else undefined. */
export function leadingAxes(axis: number | number[], rank: number): number | undefined {
  const axes = util
    .parseAxisParam(
      axis,
      [...Array(rank).keys()].map(() => 1),
    )
    .sort((a, b) => a - b);
  if (axes.length === 0 || axes.length === rank) return undefined;
  return axes.every((a, i) => a === i) ? axes.length : undefined;
}

/**
 * The max-pooling gradient: each output pixel's gradient goes to the first (row-major) largest input of its
 * window, as the cpu backend decides it. `dx` is overwritten. NHWC, no dilation.
 */
export function maxPoolGradInto(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const g = dy;
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < ho; oy++) {
      const y0 = oy * sh - padInfo.top;
      for (let ox = 0; ox < wo; ox++) {
        const x0 = ox * sw - padInfo.left;
        best.fill(Number.NEGATIVE_INFINITY);
        where.fill(-1);
        for (let iy = Math.max(0, y0); iy < Math.min(h, y0 + kh); iy++) {
          for (let ix = Math.max(0, x0); ix < Math.min(w, x0 + kw); ix++) {
            const base = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch] as number;
              // Strictly greater: the first maximum in row-major order wins, as on the cpu backend.
              if (v > (best[ch] as number)) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        const from = ((b * ho + oy) * wo + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const at = where[ch] as number;
          if (at >= 0) dx[at] = (dx[at] as number) + (g[from + ch] as number);
        }
      }
    }
  }
}

/** Writes `src` (shape `shape`) into `out` (already filled with the pad value) at offset `before` per axis. */
export function padInto(
  src: TypedArray,
  shape: readonly number[],
  before: readonly number[],
  out: TypedArray,
  outShape: readonly number[],
): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0] as number;
    return;
  }
  const outStrides = [...util.computeStrides(outShape as number[]), 1];
  const inStrides = [...util.computeStrides(shape as number[]), 1];
  // Trailing axes without padding extend the contiguous run of the last padded one.
  let inner = rank - 1;
  while (inner > 0 && shape[inner] === outShape[inner]) inner--;
  const run = (shape[inner] as number) * (inStrides[inner] as number);
  const copy = (d: number, from: number, to: number): void => {
    const at = to + (before[d] as number) * (outStrides[d] as number);
    if (d === inner) {
      out.set(src.subarray(from, from + run), at);
      return;
    }
    for (let i = 0; i < (shape[d] as number); i++)
      copy(d + 1, from + i * (inStrides[d] as number), at + i * (outStrides[d] as number));
  };
  copy(0, 0, 0);
}

/** An elementwise binary operation on float32 values. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * How `shape` sits inside `outShape` under numpy broadcasting when it repeats as a block: 'full' (same size),
 * 'tail' (it equals outShape's trailing axes, leading ones broadcast: per-channel vectors, scalars), else
 * undefined (a general broadcast, left to the cpu backend).
 */
export function broadcastKind(
  shape: readonly number[],
  outShape: readonly number[],
): 'full' | 'tail' | undefined {
  const size = util.sizeFromShape(shape as number[]);
  if (size === util.sizeFromShape(outShape as number[])) return 'full';
  const offset = outShape.length - shape.length;
  if (offset < 0) return undefined;
  // Drop leading ones, then what remains must equal the same number of trailing output axes.
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  for (let i = first; i < shape.length; i++) if (shape[i] !== outShape[offset + i]) return undefined;
  return 'tail';
}

/**
 * The seed's torchvision pipeline on uint8 images: `Resize(size)` (Pillow bilinear), `ToTensor()` (/255 in float32),
 * `Normalize(mean, std)` ((x - mean) / std in float32). Every step rounds to float32 where torch does, so the
 * values equal torch's bit for bit.
 */
import { resizeBilinear, resizedSize } from './resize.js';
import type { RawSet, Split } from './types.js';

/** Resize target and normalization constants. */
export interface PreprocessOptions {
  readonly size: number;
  readonly mean: number;
  readonly std: number;
}

/** The 256 possible outputs of ToTensor + Normalize for one uint8 value. */
export function normalizationTable(mean: number, std: number): Float32Array {
  const m = Math.fround(mean);
  const s = Math.fround(std);
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(Math.fround(v / 255) - m) / s);
  return table;
}

/** [height, width] of the preprocessed images for raw images of `height`x`width`. */
export function outputSize(height: number, width: number, size: number): [number, number] {
  return resizedSize(height, width, size);
}

/** Takes the samples at `indices` (in that order) from `set` and preprocesses them into a {@link Split}. */
export function makeSplit(set: RawSet, indices: ArrayLike<number>, options: PreprocessOptions): Split {
  const { height, width, pixels } = set.images;
  const count = indices.length;
  const picked = new Uint8Array(count * height * width);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const src = indices[i] as number;
    picked.set(pixels.subarray(src * height * width, (src + 1) * height * width), i * height * width);
    labels[i] = set.labels[src] as number;
  }
  const [outH, outW] = outputSize(height, width, options.size);
  const resized =
    outH === height && outW === width ? picked : resizeBilinear(picked, count, height, width, outH, outW);
  const table = normalizationTable(options.mean, options.std);
  const images = new Float32Array(resized.length);
  for (let i = 0; i < resized.length; i++) images[i] = table[resized[i] as number] as number;
  return { images, labels, count };
}

/**
 * The seed's torchvision pipeline on decoded images: the channel conversion of Pillow's `convert('L')` or
 * `convert('RGB')`, `Resize(size)` (Pillow bilinear), `ToTensor()` (/255 in float32), `Normalize(mean, std)`
 * ((x - mean) / std in float32). Every step rounds where Pillow and torch do, so the values of 8-bit images equal
 * torch's bit for bit. Float images (a float32 .npy) are on ToTensor's scale already and go through Pillow's
 * mode 'F' resize.
 */
import { resizeBilinear, resizeBilinearFloat, resizedSize } from './resize.js';
import type { RawImages, RawSet, Split } from './types.js';

/** Resize target and normalization constants. */
export interface PreprocessOptions {
  readonly size: number;
  readonly mean: number;
  readonly std: number;
}

/** torchvision's `Normalize(0.5, 0.5)` of the seed: what every source gets unless told otherwise. */
export const DEFAULT_NORMALIZATION = { mean: 0.5, std: 0.5 } as const;

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

/** Pillow's `convert('L')` of an RGB pixel (ITU-R 601-2 luma in 16-bit fixed point, rounded). */
export function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/**
 * `images` with `channels` planes: RGB to grey by {@link luma} (float images by 0.299 R + 0.587 G + 0.114 B in
 * float32), grey to RGB by repeating the plane (Pillow's `convert('RGB')`); unchanged when they already have them.
 * Only 1 and 3 channels are images; anything else is returned as it is, for the caller's shape check to name.
 */
export function convertChannels(images: RawImages, channels: number): RawImages {
  const { count, height, width, pixels } = images;
  const from = images.channels;
  if (from === channels || (channels !== 1 && channels !== 3) || (from !== 1 && from !== 3)) return images;
  const plane = height * width;
  const float = pixels instanceof Float32Array;
  const out = float ? new Float32Array(count * channels * plane) : new Uint8Array(count * channels * plane);
  for (let n = 0; n < count; n++) {
    const src = n * from * plane;
    const dst = n * channels * plane;
    if (channels === 3) {
      const grey = pixels.subarray(src, src + plane);
      for (let c = 0; c < 3; c++) out.set(grey, dst + c * plane);
      continue;
    }
    for (let i = 0; i < plane; i++) {
      const r = pixels[src + i] as number;
      const g = pixels[src + plane + i] as number;
      const b = pixels[src + 2 * plane + i] as number;
      out[dst + i] = float ? Math.fround(r * 0.299 + g * 0.587 + b * 0.114) : luma(r, g, b);
    }
  }
  return { count, channels, height, width, pixels: out };
}

/** `images` resized to `outH`x`outW`, each plane alike (Pillow bilinear; mode 'F' for float images). */
export function resizeImages(images: RawImages, outH: number, outW: number): RawImages {
  const { count, channels, height, width, pixels } = images;
  if (outH === height && outW === width) return images;
  const planes = count * channels;
  const resized =
    pixels instanceof Float32Array
      ? resizeBilinearFloat(pixels, planes, height, width, outH, outW)
      : resizeBilinear(pixels, planes, height, width, outH, outW);
  return { count, channels, height: outH, width: outW, pixels: resized };
}

/** ToTensor + Normalize: bytes through {@link normalizationTable}, float values as (x - mean) / std in float32. */
export function normalizeImages(images: RawImages, mean: number, std: number): Float32Array {
  const { pixels } = images;
  const out = new Float32Array(pixels.length);
  if (pixels instanceof Float32Array) {
    const m = Math.fround(mean);
    const s = Math.fround(std);
    for (let i = 0; i < pixels.length; i++) out[i] = Math.fround(Math.fround((pixels[i] as number) - m) / s);
    return out;
  }
  const table = normalizationTable(mean, std);
  for (let i = 0; i < pixels.length; i++) out[i] = table[pixels[i] as number] as number;
  return out;
}

/** The images at `indices` of `images`, in that order. */
export function pickImages(images: RawImages, indices: ArrayLike<number>): RawImages {
  const { channels, height, width, pixels } = images;
  const size = channels * height * width;
  const count = indices.length;
  const picked =
    pixels instanceof Float32Array ? new Float32Array(count * size) : new Uint8Array(count * size);
  for (let i = 0; i < count; i++) {
    const src = indices[i] as number;
    picked.set(pixels.subarray(src * size, (src + 1) * size), i * size);
  }
  return { count, channels, height, width, pixels: picked };
}

/** Takes the samples at `indices` (in that order) from `set` and preprocesses them into a {@link Split}. */
export function makeSplit(set: RawSet, indices: ArrayLike<number>, options: PreprocessOptions): Split {
  const picked = pickImages(set.images, indices);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) labels[i] = set.labels[indices[i] as number] as number;
  const [outH, outW] = outputSize(picked.height, picked.width, options.size);
  const images = normalizeImages(resizeImages(picked, outH, outW), options.mean, options.std);
  return { images, labels, count: indices.length };
}

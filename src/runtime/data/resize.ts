/**
 * Bilinear resize of 8-bit image planes (a grey image, or each of R, G, B: Pillow resamples every band alike),
 * bit-exact with Pillow's `Image.resize(size, Image.BILINEAR)`, which
 * is what torchvision's `Resize` runs on a PIL image. Pillow resamples separably (all rows horizontally, then all
 * columns vertically) with a triangle filter over half-pixel centres; the filter widens when shrinking (so it
 * antialiases). Coefficients are computed in double precision, normalised to sum 1, then turned into fixed point
 * with 22 fractional bits; each pass rounds (adds half, shifts) and clamps to 0..255 before the next one.
 * Pillow's own code is src/libImaging/Resample.c: precompute_coeffs, normalize_coeffs_8bpc,
 * ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc.
 */

/** Fractional bits of Pillow's fixed-point coefficients for 8-bit images (32 - 8 - 2). */
const PRECISION_BITS = 22;

/** Per output pixel: the first input index, how many inputs it reads, and their fixed-point weights. */
export interface ResampleCoefficients {
  /** Maximum number of taps per output pixel (the stride of `weights`). */
  readonly taps: number;
  /** `start[o]`: first input pixel read by output pixel `o`. */
  readonly start: Int32Array;
  /** `count[o]`: number of input pixels read by output pixel `o`. */
  readonly count: Int32Array;
  /** `weights[o * taps + k]`: fixed-point weight of input `start[o] + k`. */
  readonly weights: Int32Array;
}

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Per output pixel: the first input index, how many inputs it reads, and their weights (double, summing to 1). */
export interface ResampleWeights {
  readonly taps: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `weights[o * taps + k]`: weight of input `start[o] + k`. */
  readonly weights: Float64Array;
}

/** Pillow's precompute_coeffs for the bilinear filter over the whole input [0, inSize): double weights. */
export function bilinearWeights(inSize: number, outSize: number): ResampleWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  const k = new Float64Array(taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // Pillow converts with a C cast, which truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) / filterScale);
      k[x] = w;
      sum += w;
    }
    for (let x = 0; x < taps; x++)
      weights[o * taps + x] =
        x < xmax && sum !== 0 ? (k[x] as number) / sum : x < xmax ? (k[x] as number) : 0;
    start[o] = xmin;
    count[o] = xmax;
  }
  return { taps, start, count, weights };
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter over the whole input [0, inSize). */
export function bilinearCoefficients(inSize: number, outSize: number): ResampleCoefficients {
  const { taps, start, count, weights: w } = bilinearWeights(inSize, outSize);
  const weights = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const v = w[i] as number;
    weights[i] =
      v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
  }
  return { taps, start, count, weights };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resizes `count` images of `inH`x`inW` (row-major, packed) to `outH`x`outW` exactly as Pillow does for mode 'L'.
 * A pass whose size does not change is skipped, as Pillow skips it.
 */
export function resizeBilinear(
  pixels: Uint8Array,
  count: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Uint8Array {
  const out = new Uint8Array(count * outH * outW);
  const horizontal = outW !== inW ? bilinearCoefficients(inW, outW) : undefined;
  const vertical = outH !== inH ? bilinearCoefficients(inH, outH) : undefined;
  const mid = new Uint8Array(inH * outW);
  const half = 1 << (PRECISION_BITS - 1);
  for (let n = 0; n < count; n++) {
    const src = pixels.subarray(n * inH * inW, (n + 1) * inH * inW);
    // Horizontal pass: inH x inW -> inH x outW.
    if (horizontal) {
      const { taps, start, count: len, weights } = horizontal;
      for (let y = 0; y < inH; y++) {
        const row = y * inW;
        for (let x = 0; x < outW; x++) {
          const s = start[x] as number;
          const l = len[x] as number;
          let acc = half;
          for (let t = 0; t < l; t++) acc += (src[row + s + t] as number) * (weights[x * taps + t] as number);
          mid[y * outW + x] = clip8(acc);
        }
      }
    } else {
      mid.set(src);
    }
    // Vertical pass: inH x outW -> outH x outW.
    const dst = out.subarray(n * outH * outW, (n + 1) * outH * outW);
    if (vertical) {
      const { taps, start, count: len, weights } = vertical;
      for (let y = 0; y < outH; y++) {
        const s = start[y] as number;
        const l = len[y] as number;
        for (let x = 0; x < outW; x++) {
          let acc = half;
          for (let t = 0; t < l; t++)
            acc += (mid[(s + t) * outW + x] as number) * (weights[y * taps + t] as number);
          dst[y * outW + x] = clip8(acc);
        }
      }
    } else {
      dst.set(mid);
    }
  }
  return out;
}

/**
 * Resizes `count` float images of `inH`x`inW` to `outH`x`outW` as Pillow does for mode 'F' (32-bit float): the
 * same weights in double precision, no fixed point, each pass stored as float32. A pass whose size does not
 * change is skipped.
 */
export function resizeBilinearFloat(
  pixels: Float32Array,
  count: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  const out = new Float32Array(count * outH * outW);
  const horizontal = outW !== inW ? bilinearWeights(inW, outW) : undefined;
  const vertical = outH !== inH ? bilinearWeights(inH, outH) : undefined;
  const mid = new Float32Array(inH * outW);
  for (let n = 0; n < count; n++) {
    const src = pixels.subarray(n * inH * inW, (n + 1) * inH * inW);
    if (horizontal) {
      const { taps, start, count: len, weights } = horizontal;
      for (let y = 0; y < inH; y++)
        for (let x = 0; x < outW; x++) {
          const s = (start[x] as number) + y * inW;
          let acc = 0;
          for (let t = 0; t < (len[x] as number); t++)
            acc += (src[s + t] as number) * (weights[x * taps + t] as number);
          mid[y * outW + x] = acc;
        }
    } else mid.set(src);
    const dst = out.subarray(n * outH * outW, (n + 1) * outH * outW);
    if (vertical) {
      const { taps, start, count: len, weights } = vertical;
      for (let y = 0; y < outH; y++) {
        const s = start[y] as number;
        for (let x = 0; x < outW; x++) {
          let acc = 0;
          for (let t = 0; t < (len[y] as number); t++)
            acc += (mid[(s + t) * outW + x] as number) * (weights[y * taps + t] as number);
          dst[y * outW + x] = acc;
        }
      }
    } else dst.set(mid);
  }
  return out;
}

/**
 * The output size of torchvision's `Resize(size)` for an int `size`: the shorter side becomes `size`, the longer
 * one keeps the aspect ratio (truncated), as torchvision's `_compute_resized_output_size` does. Returns [h, w].
 */
export function resizedSize(height: number, width: number, size: number): [number, number] {
  if (height <= width) return [size, Math.trunc((size * width) / height)];
  return [Math.trunc((size * height) / width), size];
}

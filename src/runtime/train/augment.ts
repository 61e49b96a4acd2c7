/**
 * Training-image augmentation on normalized NCHW float32 batches, drawn from the run's seeded generator so a run
 * (and a resumed one) sees the same transforms: a random affine map (rotation, zoom, shift; bilinear, as
 * torchvision's RandomAffine with bilinear interpolation), then a random crop after zero padding (RandomCrop(size,
 * padding): an integer shift), then a horizontal flip. Uncovered pixels take `fill`, the normalized value of
 * black. Pure: no tfjs.
 */
import { augments, type Augmentation } from './config.js';
import type { Prng } from './prng.js';

/** A uniform number in [-1, 1) from the generator. */
function symmetric(prng: Prng): number {
  return (prng.nextUint32() / 2 ** 32) * 2 - 1;
}

/**
 * Augments `images` (`count` samples of [channels, height, width], sample-major) in place. The draws per sample
 * are fixed in number and order whatever is enabled, so switching one transform off does not change the others.
 */
export function augmentBatch(
  images: Float32Array,
  shape: readonly [number, number, number],
  count: number,
  a: Augmentation,
  prng: Prng,
  fill: number,
): void {
  if (!augments(a)) return;
  const [channels, height, width] = shape;
  const plane = height * width;
  const sample = channels * plane;
  const scratch = new Float32Array(sample);
  for (let n = 0; n < count; n++) {
    const angle = (symmetric(prng) * a.rotate * Math.PI) / 180;
    const zoom = 1 + symmetric(prng) * a.scale;
    const tx = symmetric(prng) * a.translate * width;
    const ty = symmetric(prng) * a.translate * height;
    const dx = a.cropPadding > 0 ? prng.nextInt(2 * a.cropPadding + 1) - a.cropPadding : 0;
    const dy = a.cropPadding > 0 ? prng.nextInt(2 * a.cropPadding + 1) - a.cropPadding : 0;
    const flip = prng.nextUint32() >= 2 ** 31 && a.hflip;
    const base = n * sample;
    const view = images.subarray(base, base + sample);
    if (a.rotate > 0 || a.scale > 0 || a.translate > 0) {
      affine(view, scratch, channels, height, width, angle, zoom, tx, ty, fill);
      view.set(scratch);
    }
    if (dx !== 0 || dy !== 0 || flip) {
      for (let c = 0; c < channels; c++)
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const sx = (flip ? width - 1 - x : x) + dx;
            const sy = y + dy;
            scratch[c * plane + y * width + x] =
              sx >= 0 && sx < width && sy >= 0 && sy < height
                ? (view[c * plane + sy * width + sx] ?? fill)
                : fill;
          }
      view.set(scratch);
    }
  }
}

/** out = the image rotated by `angle`, zoomed by `zoom` about its centre and shifted by (tx, ty); bilinear. */
function affine(
  src: Float32Array,
  out: Float32Array,
  channels: number,
  height: number,
  width: number,
  angle: number,
  zoom: number,
  tx: number,
  ty: number,
  fill: number,
): void {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  // Inverse map: source = R(-angle) (dest - centre - t) / zoom + centre.
  const cos = Math.cos(angle) / zoom;
  const sin = Math.sin(angle) / zoom;
  const plane = height * width;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const u = x - cx - tx;
      const v = y - cy - ty;
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (xx: number, yy: number): number =>
          xx >= 0 && xx < width && yy >= 0 && yy < height ? (src[c * plane + yy * width + xx] ?? fill) : fill;
        const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
        const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
        out[c * plane + y * width + x] = top * (1 - fy) + bottom * fy;
      }
    }
}

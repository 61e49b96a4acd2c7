/**
 * PNG and JPEG files decoded to 8-bit planes (through the npm packages pngjs and jpeg-js), as Pillow opens them
 * for torchvision's ImageFolder: the format is recognised by its magic bytes, whatever the file's name; 16-bit PNG
 * samples are scaled to 8 bits; alpha is dropped (Pillow's `convert('RGB')` drops it too, it does not composite
 * onto a background). An image whose pixels all have R = G = B is grey (1 channel), any other RGB (3 channels).
 */
import fs from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { readRegularFile } from '../files/read.js';
import { DataError } from '../errors.js';
import type { RawImages } from './types.js';

/** The image formats netspec reads. */
export type ImageFormat = 'png' | 'jpeg';

/** Largest image file read (256 MiB); a photo is a few MiB. */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;
/** Largest image decoded, in pixels (64 megapixels: 256 MiB of RGBA), so that a hostile header cannot exhaust memory. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** File names of images in an image folder (the extensions torchvision's ImageFolder takes for PNG and JPEG). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg'];

/** True when `name` ends in a PNG or JPEG extension, in any case. */
export function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** The format `bytes` start with (PNG's 8-byte signature, JPEG's SOI marker), or undefined. */
export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

function firstBytes(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.length === 0 ? 'it is empty' : `it starts with the bytes ${shown}`;
}

/** PNG's IHDR width and height (bytes 16..23), read before decoding so that the size can be refused first. */
function pngSize(bytes: Uint8Array): [number, number] | undefined {
  if (bytes.length < 24) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getUint32(16), view.getUint32(20)];
}

function decodeRgba(bytes: Uint8Array, format: ImageFormat, file: string): RawImages {
  const what = format === 'png' ? 'PNG' : 'JPEG';
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    if (format === 'png') {
      const size = pngSize(bytes);
      if (size && size[0] * size[1] > MAX_IMAGE_PIXELS)
        throw new Error(`it is ${size[0]}x${size[1]} pixels; netspec reads images of at most 64 megapixels`);
      decoded = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } else
      decoded = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / (1024 * 1024),
        maxMemoryUsageInMB: 1024,
      });
  } catch (e) {
    throw new DataError(`${file}: cannot decode the ${what} image: ${(e as Error).message}`, file);
  }
  const { width, height, data } = decoded;
  if (width < 1 || height < 1 || data.length < width * height * 4)
    throw new DataError(`${file}: cannot decode the ${what} image: it has no pixels`, file);
  const plane = width * height;
  let grey = true;
  for (let i = 0; i < plane && grey; i++)
    grey = data[4 * i] === data[4 * i + 1] && data[4 * i] === data[4 * i + 2];
  const channels = grey ? 1 : 3;
  const pixels = new Uint8Array(channels * plane);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < plane; i++) pixels[c * plane + i] = data[4 * i + c] as number;
  return { count: 1, channels, height, width, pixels };
}

/** Decodes a PNG or JPEG image (one image: grey or RGB planes); a {@link DataError} naming `file` otherwise. */
export function decodeImage(bytes: Uint8Array, file: string): RawImages {
  const format = imageFormatOf(bytes);
  if (format === undefined)
    throw new DataError(`${file}: not a PNG or JPEG image (${firstBytes(bytes)})`, file, 0);
  return decodeRgba(bytes, format, file);
}

/** Reads and decodes the image `file` (a regular file of at most {@link MAX_IMAGE_FILE_BYTES}). */
export function readImageFile(file: string): RawImages {
  return decodeImage(readRegularFile(file, 'image file', MAX_IMAGE_FILE_BYTES), file);
}

/** The PNG and JPEG files directly in `dir` (by extension), sorted by name (code units, as Python's sorted()). */
export function imageFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.isDirectory() && isImageName(e.name))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => path.join(dir, name));
}

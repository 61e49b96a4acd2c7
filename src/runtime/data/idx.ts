/**
 * IDX files as MNIST and Fashion-MNIST ship them: a big-endian header (two zero bytes, an element-type byte, a
 * dimension count, then one uint32 per dimension) followed by the raw elements. Only unsigned-byte images (3 dims)
 * and labels (1 dim) are read. Everything the header claims is checked against the file before anything is
 * allocated, and each error names the file and the byte offset where expectation and content part.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { READ_LIMITS, readRegularFile } from '../files/read.js';
import { DataError } from '../errors.js';
import type { RawImages, RawSet } from './types.js';

/** Largest image side accepted; real IDX image sets are 28x28, anything this big is a corrupt header. */
export const MAX_IDX_SIDE = 4096;
/**
 * Largest IDX file accepted (1 GiB), read or decompressed, so that a corrupt or hostile file cannot exhaust memory
 * (MNIST's largest is 47 MB).
 */
export const MAX_IDX_BYTES = READ_LIMITS.idx;

const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** The standard file names of an IDX data set (each may also end in .gz). */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function hex(n: number, digits: number): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A decoded IDX file: its bytes plus how to name positions in it (offsets of a .gz file are in its decompressed content). */
export interface IdxSource {
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly gzipped: boolean;
}

function fail(src: IdxSource, offset: number, message: string): never {
  const where = src.gzipped ? `byte ${offset} of the decompressed data` : `byte ${offset}`;
  throw new DataError(`${src.file}: ${where}: ${message}`, src.file, offset);
}

/** Decompresses gzip content (recognised by its magic bytes, whatever the file name) and labels the result. */
export function decodeIdxFile(raw: Uint8Array, file: string): IdxSource {
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      const bytes = gunzipSync(raw, { maxOutputLength: MAX_IDX_BYTES });
      return { file, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), gzipped: true };
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DataError(
          `${file}: decompresses to more than ${MAX_IDX_BYTES} bytes; not an IDX data set`,
          file,
        );
      }
      throw new DataError(`${file}: not a valid gzip file (${(e as Error).message})`, file);
    }
  }
  return { file, bytes: raw, gzipped: false };
}

/** Checks the 4-byte magic number: two zero bytes, element type 0x08, then `dims` dimensions. */
function checkMagic(src: IdxSource, dims: number, what: string): void {
  const b = src.bytes;
  const expected = (UNSIGNED_BYTE << 8) | dims;
  if (b.length < 4) {
    fail(
      src,
      b.length,
      `truncated header: expected a 4-byte magic number ${hex(expected, 8)}, found ${plural(b.length, 'byte')}`,
    );
  }
  const found =
    (((b[0] as number) << 24) | ((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number)) >>> 0;
  if (b[0] !== 0 || b[1] !== 0) {
    fail(
      src,
      0,
      `wrong magic number: expected ${hex(expected, 8)} (IDX ${what}), found ${hex(found, 8)}; not an IDX file`,
    );
  }
  const type = b[2] as number;
  if (type !== UNSIGNED_BYTE) {
    const name = TYPE_NAMES[type];
    fail(
      src,
      2,
      `wrong element type: expected ${hex(UNSIGNED_BYTE, 2)} (unsigned byte), found ${hex(type, 2)}${name ? ` (${name})` : ' (not an IDX type)'}`,
    );
  }
  if (b[3] !== dims) {
    fail(src, 3, `wrong number of dimensions: expected ${dims} (IDX ${what}), found ${b[3] as number}`);
  }
}

function readU32(b: Uint8Array, offset: number): number {
  return (
    (((b[offset] as number) << 24) |
      ((b[offset + 1] as number) << 16) |
      ((b[offset + 2] as number) << 8) |
      (b[offset + 3] as number)) >>>
    0
  );
}

function checkLength(src: IdxSource, headerBytes: number, bodyBytes: number, promise: string): void {
  const have = src.bytes.length - headerBytes;
  if (have < bodyBytes) {
    fail(
      src,
      src.bytes.length,
      `truncated data: the header promises ${promise} (${bodyBytes} bytes after the ${headerBytes}-byte header), found ${plural(have, 'byte')}`,
    );
  }
  if (have > bodyBytes) {
    fail(
      src,
      headerBytes + bodyBytes,
      `${plural(have - bodyBytes, 'unexpected byte')} after the ${promise} the header promises`,
    );
  }
}

/** Validates an IDX unsigned-byte image file (magic 0x00000803) and returns a view of its pixels. */
export function parseIdxImages(src: IdxSource): RawImages {
  checkMagic(src, 3, 'unsigned-byte images, 3 dimensions');
  const b = src.bytes;
  if (b.length < 16)
    fail(src, b.length, `truncated header: expected 16 bytes, found ${plural(b.length, 'byte')}`);
  const count = readU32(b, 4);
  const height = readU32(b, 8);
  const width = readU32(b, 12);
  if (count === 0) fail(src, 4, 'image count is 0: expected at least 1 image');
  if (height === 0 || height > MAX_IDX_SIDE) {
    fail(src, 8, `absurd image height ${height}: expected 1..${MAX_IDX_SIDE}`);
  }
  if (width === 0 || width > MAX_IDX_SIDE) {
    fail(src, 12, `absurd image width ${width}: expected 1..${MAX_IDX_SIDE}`);
  }
  checkLength(src, 16, count * height * width, `${plural(count, 'image')} of ${height}x${width}`);
  return { count, channels: 1, height, width, pixels: b.subarray(16) };
}

/** Validates an IDX unsigned-byte label file (magic 0x00000801); every label must be below `classes`. */
export function parseIdxLabels(src: IdxSource, classes: number): Uint8Array {
  checkMagic(src, 1, 'unsigned-byte labels, 1 dimension');
  const b = src.bytes;
  if (b.length < 8)
    fail(src, b.length, `truncated header: expected 8 bytes, found ${plural(b.length, 'byte')}`);
  const count = readU32(b, 4);
  if (count === 0) fail(src, 4, 'label count is 0: expected at least 1 label');
  checkLength(src, 8, count, plural(count, 'label'));
  const labels = b.subarray(8);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (label >= classes)
      fail(src, 8 + i, `label ${label} of item ${i} is out of range: expected 0..${classes - 1}`);
  }
  return labels;
}

/** Pairs an image file with its label file; their counts must agree. */
export function pairIdx(
  images: RawImages,
  labels: Uint8Array,
  imagesFile: string,
  labelsFile: string,
): RawSet {
  if (images.count !== labels.length) {
    throw new DataError(
      `${imagesFile} holds ${plural(images.count, 'image')} but ${labelsFile} holds ${plural(labels.length, 'label')}; they must match`,
      labelsFile,
      4,
    );
  }
  return { images, labels };
}

/** Finds `name` or `name.gz` in `dir`; undefined when neither exists. */
function findFile(dir: string, name: string): string | undefined {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return undefined;
}

async function readSet(
  dir: string,
  imagesName: string,
  labelsName: string,
  classes: number,
): Promise<RawSet | undefined> {
  const imagesPath = findFile(dir, imagesName);
  const labelsPath = findFile(dir, labelsName);
  if (imagesPath === undefined && labelsPath === undefined) return undefined;
  if (imagesPath === undefined || labelsPath === undefined) {
    const missing = imagesPath === undefined ? imagesName : labelsName;
    const present = imagesPath ?? labelsPath;
    throw new DataError(`${dir}: ${present} is there but ${missing} (or ${missing}.gz) is missing`, dir);
  }
  const read = (file: string): Uint8Array => readRegularFile(file, 'IDX file', MAX_IDX_BYTES);
  const images = parseIdxImages(decodeIdxFile(read(imagesPath), imagesPath));
  const labels = parseIdxLabels(decodeIdxFile(read(labelsPath), labelsPath), classes);
  return pairIdx(images, labels, imagesPath, labelsPath);
}

/** Reads an IDX directory: the training set is required, the t10k test set is optional. */
export async function readIdxDir(
  dir: string,
  classes: number,
): Promise<{ train: RawSet; test: RawSet | undefined }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`${dir}: no such directory (idx:DIR needs a directory of IDX files)`, dir);
  }
  const train = await readSet(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels, classes);
  if (train === undefined) {
    throw new DataError(
      `${dir}: no ${IDX_FILES.trainImages} and ${IDX_FILES.trainLabels} (plain or .gz) in this directory`,
      dir,
    );
  }
  const test = await readSet(dir, IDX_FILES.testImages, IDX_FILES.testLabels, classes);
  if (
    test !== undefined &&
    (test.images.height !== train.images.height || test.images.width !== train.images.width)
  ) {
    throw new DataError(
      `${dir}: test images are ${test.images.height}x${test.images.width} but training images are ${train.images.height}x${train.images.width}`,
      dir,
    );
  }
  return { train, test };
}

/**
 * `cifar10:DIR`, the CIFAR-10 binary version: `data_batch_1.bin` .. `data_batch_5.bin` and `test_batch.bin`,
 * each a run of records of 1 label byte and 3072 pixel bytes (the red plane of 32x32, then green, then blue, rows
 * top to bottom), and `batches.meta.txt` with the class names one a line. The training batches present are read
 * in order (at least one); the test batch is optional, as the t10k files of `idx:DIR` are. A record count that is
 * not the standard 10,000 is accepted, so that small excerpts work; a partial record is an error.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { READ_LIMITS, readRegularFile, readRegularText } from '../files/read.js';
import { DataError } from '../errors.js';
import type { RawSet } from './types.js';

/** Side of a CIFAR-10 image, in pixels. */
export const CIFAR_SIDE = 32;
/** Bytes of one record: the label byte and 3 planes of 32x32. */
export const CIFAR_RECORD_BYTES = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;
/** The training batches, in the order they are read. */
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The test batch. */
export const CIFAR_TEST_FILE = 'test_batch.bin';
/** The class names file. */
export const CIFAR_META_FILE = 'batches.meta.txt';

/** A CIFAR-10 folder read: the training records, the test records if present, the class names if present. */
export interface Cifar10 {
  readonly train: RawSet;
  readonly trainFiles: readonly string[];
  readonly test: RawSet | undefined;
  readonly classNames: readonly string[] | undefined;
}

/** Parses the records of one batch file; every label must be below `classes`. */
export function parseCifarBatch(bytes: Uint8Array, file: string, classes: number): RawSet {
  if (bytes.length === 0)
    throw new DataError(
      `${file}: byte 0: empty file: expected records of ${CIFAR_RECORD_BYTES} bytes`,
      file,
      0,
    );
  const count = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
  const rest = bytes.length - count * CIFAR_RECORD_BYTES;
  if (rest !== 0) {
    const at = count * CIFAR_RECORD_BYTES;
    throw new DataError(
      `${file}: byte ${at}: record ${count} is truncated: expected ${CIFAR_RECORD_BYTES} bytes ` +
        `(1 label byte and 3072 pixel bytes), found ${rest}`,
      file,
      at,
    );
  }
  const pixelBytes = CIFAR_RECORD_BYTES - 1;
  const pixels = new Uint8Array(count * pixelBytes);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const at = k * CIFAR_RECORD_BYTES;
    const label = bytes[at] as number;
    if (label >= classes)
      throw new DataError(
        `${file}: byte ${at}: label ${label} of record ${k} is out of range: expected 0..${classes - 1}`,
        file,
        at,
      );
    labels[k] = label;
    pixels.set(bytes.subarray(at + 1, at + CIFAR_RECORD_BYTES), k * pixelBytes);
  }
  return { images: { count, channels: 3, height: CIFAR_SIDE, width: CIFAR_SIDE, pixels }, labels };
}

function concat(sets: readonly RawSet[]): RawSet {
  const count = sets.reduce((n, s) => n + s.images.count, 0);
  const pixels = new Uint8Array(count * (CIFAR_RECORD_BYTES - 1));
  const labels = new Uint8Array(count);
  let at = 0;
  for (const s of sets) {
    pixels.set(s.images.pixels, at * (CIFAR_RECORD_BYTES - 1));
    labels.set(s.labels, at);
    at += s.images.count;
  }
  return { images: { count, channels: 3, height: CIFAR_SIDE, width: CIFAR_SIDE, pixels }, labels };
}

/** The class names of `batches.meta.txt` in `dir` (non-empty lines, trimmed), or undefined without that file. */
export function readCifarClassNames(dir: string): string[] | undefined {
  const file = join(dir, CIFAR_META_FILE);
  if (!existsSync(file)) return undefined;
  const names = readRegularText(file, 'class names file', READ_LIMITS.map)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return names.length ? names : undefined;
}

/** Reads a CIFAR-10 binary folder for a network of `classes` classes. */
export function readCifar10Dir(dir: string, classes: number): Cifar10 {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new DataError(
      `${dir}: no such folder (cifar10:DIR needs the folder of CIFAR-10's .bin batches)`,
      dir,
    );
  const read = (name: string): RawSet => {
    const file = join(dir, name);
    return parseCifarBatch(readRegularFile(file, 'CIFAR-10 batch', READ_LIMITS.idx), file, classes);
  };
  const trainFiles = CIFAR_TRAIN_FILES.filter((name) => existsSync(join(dir, name)));
  if (trainFiles.length === 0)
    throw new DataError(
      `${dir}: no CIFAR-10 training batches (data_batch_1.bin .. data_batch_5.bin) in this folder`,
      dir,
    );
  const train = concat(trainFiles.map(read));
  const test = existsSync(join(dir, CIFAR_TEST_FILE)) ? read(CIFAR_TEST_FILE) : undefined;
  return { train, trainFiles, test, classNames: readCifarClassNames(dir) };
}

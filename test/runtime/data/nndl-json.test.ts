import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/runtime/errors.js';
import { findJsonProblem } from '../../../src/runtime/data/json-locate.js';
import { parseNndlJson, readNndlJson } from '../../../src/runtime/data/nndl-json.js';

const dir = mkdtempSync(join(tmpdir(), 'netspec-nndl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A flat 784-value image whose pixel i is (seed + i) % 256. */
function image(seed: number): number[] {
  return Array.from({ length: 784 }, (_, i) => (seed + i) % 256);
}

/** A file with `n` samples per part; labels are the sample index mod 10. */
function dataset(n: [number, number, number]): unknown[] {
  return n.map((count, p) => [
    Array.from({ length: count }, (_, k) => image(p * 100 + k)),
    Array.from({ length: count }, (_, k) => k % 10),
  ]);
}

function errorOf(f: () => unknown): DataError {
  try {
    f();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error('expected a DataError');
}

function parse(value: unknown, counts: [number, number, number] = [2, 1, 1]) {
  return parseNndlJson(
    typeof value === 'string' ? value : JSON.stringify(value),
    'new_mnist.json',
    counts,
    10,
  );
}

describe('nndl-json', () => {
  it('takes the first samples of each part, in file order', () => {
    const [train, dev, test] = parse(dataset([3, 2, 2]), [2, 1, 2]);
    expect(train.images.count).toBe(2);
    expect(Array.from(train.labels)).toEqual([0, 1]);
    expect(train.images.pixels[784]).toBe(1); // sample 1 starts at (0 + 1) % 256
    expect(dev.images.pixels[0]).toBe(100);
    expect(Array.from(test.labels)).toEqual([0, 1]);
  });

  it('reads pixels like numpy astype(float32).astype(uint8): truncation toward zero', () => {
    const d = dataset([1, 1, 1]) as [[number[][], number[]], unknown, unknown];
    const img = d[0][0][0] as number[];
    img[0] = 254.9999;
    img[1] = 254.99999999; // rounds to 255 in float32 first
    img[2] = 0.7;
    const [train] = parse(d, [1, 1, 1]);
    expect(Array.from(train.images.pixels.subarray(0, 3))).toEqual([254, 255, 0]);
  });

  it('accepts 28 rows of 28 (what np.reshape would accept)', () => {
    const d = dataset([1, 1, 1]) as [[number[][], number[]], unknown, unknown];
    const flat = d[0][0][0] as number[];
    (d[0][0] as unknown[])[0] = Array.from({ length: 28 }, (_, y) => flat.slice(y * 28, y * 28 + 28));
    const [train] = parse(d, [1, 1, 1]);
    expect(Array.from(train.images.pixels)).toEqual(flat);
  });

  it('reports malformed JSON at file:line:col', () => {
    const text = '[\n  [[[1, 2,\n    3]], [0]],\n  [[], []] }';
    const e = errorOf(() => parse(text));
    expect(e.message).toBe(
      "new_mnist.json:4:12: invalid JSON: expected ',' or ']' after an array element, found '}' (in [1])",
    );
    expect(e.offset).toBe(text.indexOf('}'));
  });

  it.each([
    ['[1, 2,]', "new_mnist.json:1:7: invalid JSON: expected a value, found ']' (in [2])"],
    [
      '[[1], [2]',
      "new_mnist.json:1:10: invalid JSON: expected ',' or ']' after an array element, found end of file (in [1])",
    ],
    ['', 'new_mnist.json:1:1: invalid JSON: unexpected end of file: a value is missing'],
    ['[01]', 'new_mnist.json:1:2: invalid JSON: numbers must not have leading zeros (in [0])'],
    ['[1]\n\nx', "new_mnist.json:3:1: invalid JSON: unexpected 'x' after the end of the JSON value"],
    ['{"a" 1}', "new_mnist.json:1:6: invalid JSON: expected ':' after a property name, found '1'"],
    [
      '\ufeff[]',
      'new_mnist.json:1:1: invalid JSON: the file starts with a byte-order mark (BOM), which JSON does not allow',
    ],
  ])('locates the syntax error in %j', (text, message) => {
    expect(errorOf(() => parse(text)).message).toBe(message);
  });

  it('reports a Python NaN by its sample', () => {
    const d = JSON.stringify(dataset([2, 1, 1]));
    const at = d.indexOf('],[1,') + 3; // the first pixel of train sample 1
    const text = `${d.slice(0, at)}NaN${d.slice(at + 1)}`;
    const e = errorOf(() => parse(text));
    expect(e.message).toBe(
      `new_mnist.json:1:${at + 1}: train sample 1 ([0][0][1][0]) is NaN, expected a pixel value 0..255`,
    );
    expect(at + 1).toBe(2787);
    expect(text.slice(e.offset, (e.offset ?? 0) + 3)).toBe('NaN');
  });

  it('reports -Infinity by its sample', () => {
    const d = JSON.stringify(dataset([1, 2, 1]));
    const at = d.indexOf('[[[100,') + 3;
    const text = `${d.slice(0, at)}-Infinity${d.slice(at + 3)}`;
    expect(errorOf(() => parse(text, [1, 2, 1])).message).toMatch(
      /^new_mnist\.json:1:\d+: dev sample 0 \(\[1\]\[0\]\[0\]\[0\]\) is -Infinity, expected a pixel value 0\.\.255$/,
    );
  });

  it('reports ragged images by index path', () => {
    const d = dataset([2, 1, 1]) as [[number[][], number[]], unknown, unknown];
    (d[0][0][1] as number[]).pop();
    expect(errorOf(() => parse(d)).message).toBe('new_mnist.json: [0][0][1] has 783 values, expected 784');
    const rows = dataset([1, 1, 1]) as [unknown, unknown, [unknown[], number[]]];
    rows[2][0][0] = Array.from({ length: 28 }, (_, y) => Array.from({ length: y === 5 ? 27 : 28 }, () => 0));
    expect(errorOf(() => parse(rows, [1, 1, 1])).message).toBe(
      'new_mnist.json: [2][0][0][5] has 27 values, expected 28',
    );
  });

  it('reports non-numbers, out-of-range pixels and bad labels by sample', () => {
    const d = dataset([2, 1, 1]) as [[unknown[][], unknown[]], unknown, unknown];
    d[0][0][1]![17] = '12';
    expect(errorOf(() => parse(d)).message).toBe(
      'new_mnist.json: train sample 1: [0][0][1][17] is a string "12", expected a number 0..255',
    );
    d[0][0][1]![17] = null;
    expect(errorOf(() => parse(d)).message).toBe(
      'new_mnist.json: train sample 1: [0][0][1][17] is null, expected a number 0..255',
    );
    d[0][0][1]![17] = 256;
    expect(errorOf(() => parse(d)).message).toBe(
      'new_mnist.json: train sample 1: [0][0][1][17] is 256, outside 0..255',
    );
    d[0][0][1]![17] = 1;
    d[0][1][0] = 10;
    expect(errorOf(() => parse(d)).message).toBe(
      'new_mnist.json: train sample 0: label [0][1][0] is the number 10, expected an integer 0..9',
    );
    d[0][1][0] = 2.5;
    expect(errorOf(() => parse(d)).message).toContain(
      'label [0][1][0] is the number 2.5, expected an integer 0..9',
    );
  });

  it('reports 1e999 (which JSON.parse turns into Infinity) as a bad pixel', () => {
    const text = JSON.stringify(dataset([1, 1, 1])).replace('[[[0,', '[[[1e999,');
    expect(errorOf(() => parse(text, [1, 1, 1])).message).toBe(
      'new_mnist.json: train sample 0: [0][0][0][0] is Infinity, expected a number 0..255',
    );
  });

  it('checks the structure and the counts', () => {
    expect(errorOf(() => parse({ train: [] })).message).toBe(
      'new_mnist.json: expected the top level to be [train, dev, test], found an object',
    );
    expect(errorOf(() => parse([[[], []], [[]], [[], []]])).message).toBe(
      'new_mnist.json: [1] (dev) should be [images, labels], found an array of 1',
    );
    const d = dataset([2, 1, 1]) as [[unknown[], unknown[]], unknown, unknown];
    d[0][1].pop();
    expect(errorOf(() => parse(d)).message).toBe('new_mnist.json: [0] (train) has 2 images but 1 labels');
    expect(errorOf(() => parse(dataset([2, 1, 1]), [2, 1, 5])).message).toBe(
      'new_mnist.json: [2] (test) has 1 samples, but 5 were asked for (--test)',
    );
  });

  it('reads files and reports missing ones', async () => {
    const file = join(dir, 'new_mnist.json');
    writeFileSync(file, JSON.stringify(dataset([2, 2, 2])));
    const [train] = await readNndlJson(file, [2, 2, 2], 10);
    expect(train.images.count).toBe(2);
    await expect(readNndlJson(join(dir, 'nope.json'), [1, 1, 1], 10)).rejects.toThrow(
      `${join(dir, 'nope.json')}: no such file`,
    );
  });
});

describe('findJsonProblem', () => {
  it('accepts what JSON.parse accepts', () => {
    for (const text of [
      '[]',
      '{}',
      ' [1, -2.5e+3, "a\\"b\\u00e9", true, false, null, {"k": [{}]}] ',
      '0',
      '"x"',
    ]) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(findJsonProblem(text)).toBeUndefined();
    }
  });

  it('rejects what JSON.parse rejects', () => {
    for (const text of [
      '[1,]',
      '[-]',
      '[1.]',
      '[1e]',
      '{"a":1,}',
      '"a\nb"',
      '"\\x"',
      '[tru]',
      "['a']",
      '[.5]',
      'nul',
    ]) {
      expect(() => JSON.parse(text)).toThrow();
      expect(findJsonProblem(text)).toBeDefined();
    }
  });
});

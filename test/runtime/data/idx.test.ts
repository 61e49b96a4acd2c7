import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/runtime/errors.js';
import { decodeIdxFile, parseIdxImages, parseIdxLabels, readIdxDir } from '../../../src/runtime/data/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'netspec-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** An IDX image file: magic 0x00000803, count, rows, cols, then pixels (pixel i of image k is (k*7 + i) % 256). */
function imagesFile(count: number, rows: number, cols: number, body = count * rows * cols): Uint8Array {
  const pixels = Array.from(
    { length: body },
    (_, i) => (Math.floor(i / (rows * cols)) * 7 + (i % (rows * cols))) % 256,
  );
  return Uint8Array.from([0, 0, 8, 3, ...u32(count), ...u32(rows), ...u32(cols), ...pixels]);
}

function labelsFile(labels: number[]): Uint8Array {
  return Uint8Array.from([0, 0, 8, 1, ...u32(labels.length), ...labels]);
}

function images(bytes: Uint8Array, file = 'imgs') {
  return parseIdxImages(decodeIdxFile(bytes, file));
}

function labels(bytes: Uint8Array, file = 'lbls', classes = 10) {
  return parseIdxLabels(decodeIdxFile(bytes, file), classes);
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

describe('IDX images', () => {
  it('reads count, size and pixels', () => {
    const r = images(imagesFile(3, 2, 4));
    expect([r.count, r.height, r.width]).toEqual([3, 2, 4]);
    expect(Array.from(r.pixels.subarray(8, 12))).toEqual([7, 8, 9, 10]);
  });

  it('reads gzip content whatever the file name', () => {
    const r = images(gzipSync(imagesFile(2, 3, 3)), 'plain-name');
    expect(r.count).toBe(2);
    expect(r.pixels[9]).toBe(7);
  });

  it.each([
    [
      'labels magic',
      Uint8Array.from([0, 0, 8, 1, ...u32(1), 5]),
      'imgs: byte 3: wrong number of dimensions: expected 3 (IDX unsigned-byte images, 3 dimensions), found 1',
    ],
    [
      'not IDX',
      Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]),
      'imgs: byte 0: wrong magic number: expected 0x00000803 (IDX unsigned-byte images, 3 dimensions), found 0x504b0304; not an IDX file',
    ],
    [
      'float32 type',
      Uint8Array.from([0, 0, 0x0d, 3, ...u32(1), ...u32(1), ...u32(1), 0, 0, 0, 0]),
      'imgs: byte 2: wrong element type: expected 0x08 (unsigned byte), found 0x0d (float32)',
    ],
    [
      'unknown type',
      Uint8Array.from([0, 0, 0x42, 3]),
      'imgs: byte 2: wrong element type: expected 0x08 (unsigned byte), found 0x42 (not an IDX type)',
    ],
    [
      '3-byte file',
      Uint8Array.from([0, 0, 8]),
      'imgs: byte 3: truncated header: expected a 4-byte magic number 0x00000803, found 3 bytes',
    ],
    [
      'truncated header',
      Uint8Array.from([0, 0, 8, 3, ...u32(1), 0, 0]),
      'imgs: byte 10: truncated header: expected 16 bytes, found 10 bytes',
    ],
    ['zero count', imagesFile(0, 28, 28), 'imgs: byte 4: image count is 0: expected at least 1 image'],
    [
      'absurd height',
      Uint8Array.from([0, 0, 8, 3, ...u32(1), ...u32(70000), ...u32(28)]),
      'imgs: byte 8: absurd image height 70000: expected 1..4096',
    ],
    [
      'zero width',
      Uint8Array.from([0, 0, 8, 3, ...u32(1), ...u32(28), ...u32(0)]),
      'imgs: byte 12: absurd image width 0: expected 1..4096',
    ],
    [
      'truncated body',
      imagesFile(3, 2, 2, 10),
      'imgs: byte 26: truncated data: the header promises 3 images of 2x2 (12 bytes after the 16-byte header), found 10 bytes',
    ],
    [
      'huge count',
      Uint8Array.from([0, 0, 8, 3, ...u32(0xffffffff), ...u32(4096), ...u32(4096)]),
      'imgs: byte 16: truncated data: the header promises 4294967295 images of 4096x4096 (72057594021150720 bytes after the 16-byte header), found 0 bytes',
    ],
    [
      'trailing bytes',
      imagesFile(1, 2, 2, 6),
      'imgs: byte 20: 2 unexpected bytes after the 1 image of 2x2 the header promises',
    ],
  ])('rejects %s with the offset', (_name, bytes, message) => {
    const e = errorOf(() => images(bytes));
    expect(e.message).toBe(message);
    expect(e.file).toBe('imgs');
    expect(e.message).toContain(`byte ${e.offset}:`);
  });

  it('names offsets of gzip files as offsets in the decompressed data', () => {
    const e = errorOf(() => images(gzipSync(imagesFile(3, 2, 2, 10)), 'x.gz'));
    expect(e.message).toBe(
      'x.gz: byte 26 of the decompressed data: truncated data: the header promises 3 images of 2x2 (12 bytes after the 16-byte header), found 10 bytes',
    );
  });

  it('rejects a corrupt gzip file', () => {
    const gz = gzipSync(imagesFile(3, 2, 2));
    const e = errorOf(() => images(gz.subarray(0, gz.length - 12), 'x.gz'));
    expect(e.message).toBe('x.gz: not a valid gzip file (unexpected end of file)');
  });
});

describe('IDX labels', () => {
  it('reads labels', () => {
    expect(Array.from(labels(labelsFile([3, 0, 9])))).toEqual([3, 0, 9]);
  });

  it.each([
    [
      'images magic',
      imagesFile(1, 1, 1),
      'lbls: byte 3: wrong number of dimensions: expected 1 (IDX unsigned-byte labels, 1 dimension), found 3',
    ],
    [
      'int32 labels',
      Uint8Array.from([0, 0, 0x0c, 1, ...u32(1), 0, 0, 0, 1]),
      'lbls: byte 2: wrong element type: expected 0x08 (unsigned byte), found 0x0c (int32)',
    ],
    [
      'truncated header',
      Uint8Array.from([0, 0, 8, 1, 0]),
      'lbls: byte 5: truncated header: expected 8 bytes, found 5 bytes',
    ],
    [
      'truncated body',
      Uint8Array.from([0, 0, 8, 1, ...u32(5), 1, 2]),
      'lbls: byte 10: truncated data: the header promises 5 labels (5 bytes after the 8-byte header), found 2 bytes',
    ],
    [
      'label 10',
      labelsFile([1, 2, 10, 3]),
      'lbls: byte 10: label 10 of item 2 is out of range: expected 0..9',
    ],
  ])('rejects %s with the offset', (_name, bytes, message) => {
    expect(errorOf(() => labels(bytes)).message).toBe(message);
  });

  it('checks labels against the number of classes', () => {
    expect(errorOf(() => labels(labelsFile([0, 1, 2]), 'lbls', 2)).message).toBe(
      'lbls: byte 10: label 2 of item 2 is out of range: expected 0..1',
    );
  });
});

describe('IDX directories', () => {
  /** A fresh directory holding exactly `files`. */
  function mk(sub: string, files: Record<string, Uint8Array> = {}): string {
    const d = join(dir, sub);
    mkdirSync(d, { recursive: true });
    for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
    return d;
  }

  it('reads train (plain) and t10k (gzipped) files', async () => {
    const d = mk('ok', {
      'train-images-idx3-ubyte': imagesFile(4, 2, 2),
      'train-labels-idx1-ubyte': labelsFile([1, 2, 3, 4]),
      't10k-images-idx3-ubyte.gz': gzipSync(imagesFile(2, 2, 2)),
      't10k-labels-idx1-ubyte.gz': gzipSync(labelsFile([5, 6])),
    });
    const { train, test } = await readIdxDir(d, 10);
    expect(train.images.count).toBe(4);
    expect(Array.from(test?.labels ?? [])).toEqual([5, 6]);
  });

  it('makes the test set optional', async () => {
    const d = mk('no-test', {
      'train-images-idx3-ubyte': imagesFile(2, 2, 2),
      'train-labels-idx1-ubyte': labelsFile([1, 2]),
    });
    expect((await readIdxDir(d, 10)).test).toBeUndefined();
  });

  it('rejects an image/label count mismatch', async () => {
    const d = mk('mismatch', {
      'train-images-idx3-ubyte': imagesFile(3, 2, 2),
      'train-labels-idx1-ubyte': labelsFile([1, 2]),
    });
    await expect(readIdxDir(d, 10)).rejects.toThrow(
      `${d}/train-images-idx3-ubyte holds 3 images but ${d}/train-labels-idx1-ubyte holds 2 labels; they must match`,
    );
  });

  it('rejects half a test set', async () => {
    const d = mk('half', {
      'train-images-idx3-ubyte': imagesFile(2, 2, 2),
      'train-labels-idx1-ubyte': labelsFile([1, 2]),
      't10k-images-idx3-ubyte': imagesFile(2, 2, 2),
    });
    await expect(readIdxDir(d, 10)).rejects.toThrow(
      `${d}: ${d}/t10k-images-idx3-ubyte is there but t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz) is missing`,
    );
  });

  it('rejects a missing directory and a directory without training files', async () => {
    await expect(readIdxDir(join(dir, 'nope'), 10)).rejects.toThrow(
      `${join(dir, 'nope')}: no such directory`,
    );
    const d = mk('empty');
    await expect(readIdxDir(d, 10)).rejects.toThrow(
      `${d}: no train-images-idx3-ubyte and train-labels-idx1-ubyte (plain or .gz) in this directory`,
    );
  });
});

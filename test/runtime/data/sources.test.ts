/**
 * The folder:DIR, cifar10:DIR and npy:X,Y sources, on tiny files made here: their splits (as the other sources
 * draw them), their preprocessing (the same tables and resize), their class names, and their errors (file and
 * byte offset).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import {
  classNamesOf,
  loadDataset,
  parseDataSource,
  seededPermutation,
} from '../../../src/runtime/data/index.js';
import { parseNpy } from '../../../src/runtime/data/npy.js';
import { normalizationTable } from '../../../src/runtime/data/preprocess.js';
import { DataError } from '../../../src/runtime/errors.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-sources-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const table = normalizationTable(0.5, 0.5);

/** A solid PNG of `side`x`side` in colour `rgb`. */
function solidPng(side: number, rgb: readonly number[]): Buffer {
  const png = new PNG({ width: side, height: side });
  for (let i = 0; i < side * side; i++) png.data.set([...rgb, 255], 4 * i);
  return PNG.sync.write(png);
}

/** A .npy file (format 1.0) of `descr` and `shape` holding `bytes`. */
export function npyFile(descr: string, shape: readonly number[], bytes: Uint8Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), bytes]);
}

const base = { train: 2, dev: 1, test: 1, seed: 0, size: 4, classes: 3 };

describe('parseDataSource', () => {
  it('parses the new forms', () => {
    expect(parseDataSource('folder:data/pets')).toEqual({ kind: 'folder', dir: 'data/pets' });
    expect(parseDataSource('cifar10:/data/cifar-10-batches-bin')).toEqual({
      kind: 'cifar10',
      dir: '/data/cifar-10-batches-bin',
    });
    expect(parseDataSource('npy:x.npy,y.npy')).toEqual({ kind: 'npy', images: 'x.npy', labels: 'y.npy' });
    expect(() => parseDataSource('npy:x.npy')).toThrow(
      "data source 'npy:x.npy': npy: takes two files separated by one comma, images then labels (npy:X.npy,Y.npy)",
    );
    expect(() => parseDataSource('foldr:x')).toThrow("(did you mean 'folder'?)");
  });
});

describe('folder:DIR', () => {
  let dir: string;
  beforeAll(() => {
    dir = path.join(tmp, 'pets');
    // Classes by sorted folder name: cat 0, dog 1; a dot folder is no class; a text file is no image.
    const files: [string, Buffer][] = [
      ['cat/1.png', solidPng(8, [200, 200, 200])],
      ['cat/2.png', solidPng(6, [100, 100, 100])],
      ['dog/a.png', solidPng(4, [255, 0, 0])],
      ['dog/b.png', solidPng(4, [0, 0, 255])],
      ['.ipynb_checkpoints/x.png', solidPng(4, [1, 2, 3])],
    ];
    for (const [name, bytes] of files) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), bytes);
    }
    fs.writeFileSync(path.join(dir, 'dog', 'notes.txt'), 'not an image');
  });

  it('reads one class per folder, resized to size x size, RGB when any image has colour, with class names', async () => {
    const d = await loadDataset(`folder:${dir}`, { ...base, train: 4, dev: 0, test: 0 });
    expect(d.classNames).toEqual(['cat', 'dog']);
    expect(d.inputShape).toEqual([3, 4, 4]);
    expect(d.description).toContain(`image folder ${dir}: 4 images of 2 classes (cat, dog)`);
    const perm = seededPermutation(4, 0);
    const want: [number, number[]][] = [
      [0, [200, 200, 200]],
      [0, [100, 100, 100]],
      [1, [255, 0, 0]],
      [1, [0, 0, 255]],
    ];
    for (let i = 0; i < 4; i++) {
      const [label, rgb] = want[perm[i] as number] as [number, number[]];
      expect(d.train.labels[i]).toBe(label);
      // A solid image stays solid through the resize; each plane is its colour, normalized.
      for (let c = 0; c < 3; c++) expect(d.train.images[i * 48 + c * 16 + 5]).toBe(table[rgb[c] as number]);
    }
    expect(classNamesOf(`folder:${dir}`)).toEqual(['cat', 'dog']);
  });

  it('converts to grey by luma when the network takes one channel', async () => {
    const d = await loadDataset(`folder:${dir}`, { ...base, train: 4, dev: 0, test: 0, channels: 1 });
    expect(d.inputShape).toEqual([1, 4, 4]);
    const values = new Set(d.train.images);
    // luma(255, 0, 0) = 76, luma(0, 0, 255) = 29.
    expect([...values].sort()).toEqual([200, 100, 76, 29].map((v) => table[v] as number).sort());
  });

  it('names an unreadable image, a class folder without images, and too many classes', async () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(path.join(bad, 'a'), { recursive: true });
    fs.mkdirSync(path.join(bad, 'b'), { recursive: true });
    fs.writeFileSync(path.join(bad, 'a', 'x.png'), solidPng(2, [1, 1, 1]));
    await expect(loadDataset(`folder:${bad}`, base)).rejects.toThrow(
      `${path.join(bad, 'b')}: no PNG or JPEG images in this class folder (.png, .jpg, .jpeg)`,
    );
    fs.writeFileSync(path.join(bad, 'b', 'y.jpg'), 'GIF89a');
    await expect(loadDataset(`folder:${bad}`, base)).rejects.toThrow(
      new DataError(
        `${path.join(bad, 'b', 'y.jpg')}: not a PNG or JPEG image (it starts with the bytes 47 49 46 38 39 61)`,
        path.join(bad, 'b', 'y.jpg'),
        0,
      ),
    );
    await expect(loadDataset(`folder:${dir}`, { ...base, classes: 1 })).rejects.toThrow(
      `${dir}: 2 class folders (cat, dog), but the network has 1 classes`,
    );
    await expect(loadDataset(`folder:${path.join(tmp, 'none')}`, base)).rejects.toThrow(
      'no such folder (folder:DIR needs a folder with one subfolder per class)',
    );
    await expect(loadDataset(`folder:${dir}`, { ...base, train: 5 })).rejects.toThrow(
      `${dir} holds 4 samples; --train 5 --dev 1 --test 1 asks for 7`,
    );
  });
});

describe('cifar10:DIR', () => {
  const RECORD = 3073;
  /** `labels.length` records; record k's pixels are all `k * 10 + plane` in plane order (R, G, B). */
  function batch(labels: readonly number[]): Buffer {
    const bytes = Buffer.alloc(labels.length * RECORD);
    labels.forEach((label, k) => {
      bytes[k * RECORD] = label;
      for (let c = 0; c < 3; c++)
        bytes.fill(k * 10 + c, k * RECORD + 1 + c * 1024, k * RECORD + 1 + (c + 1) * 1024);
    });
    return bytes;
  }
  let dir: string;
  beforeAll(() => {
    dir = path.join(tmp, 'cifar');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'data_batch_1.bin'), batch([0, 1, 2]));
    fs.writeFileSync(path.join(dir, 'data_batch_2.bin'), batch([2, 1]));
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch([1, 0]));
    fs.writeFileSync(path.join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\n\n');
  });

  it('reads the batches in order, R, G, B planes of 32x32, test from test_batch.bin, names from batches.meta.txt', async () => {
    const d = await loadDataset(`cifar10:${dir}`, { ...base, size: 32, train: 3, dev: 2, test: 2 });
    expect(d.inputShape).toEqual([3, 32, 32]);
    expect(d.classNames).toEqual(['airplane', 'automobile', 'bird']);
    expect(d.description).toContain('(data_batch_1.bin, data_batch_2.bin)');
    expect(d.description).toContain('test = the first 2 records of test_batch.bin');
    const perm = seededPermutation(5, 0);
    const trainLabels = [0, 1, 2, 2, 1];
    // Record k of the 5 training records: its batch index is k (batch 1) or k - 3 (batch 2).
    for (let i = 0; i < 3; i++) {
      const k = perm[i] as number;
      const within = k < 3 ? k : k - 3;
      expect(d.train.labels[i]).toBe(trainLabels[k]);
      for (let c = 0; c < 3; c++)
        expect(d.train.images[i * 3072 + c * 1024 + 500]).toBe(table[within * 10 + c]);
    }
    expect(Array.from(d.test.labels)).toEqual([1, 0]);
    expect(d.test.images[1024 + 7]).toBe(table[1]);
    expect(classNamesOf(`cifar10:${dir}`)).toEqual(['airplane', 'automobile', 'bird']);
  });

  it('resizes and converts like the others (32x32 to 16x16 grey)', async () => {
    const d = await loadDataset(`cifar10:${dir}`, { ...base, size: 16, channels: 1 });
    expect(d.inputShape).toEqual([1, 16, 16]);
  });

  it('names the file and byte offset of a truncated record and of a label out of range', async () => {
    const cut = path.join(tmp, 'cifar-cut');
    fs.mkdirSync(cut);
    fs.writeFileSync(path.join(cut, 'data_batch_1.bin'), batch([0, 1]).subarray(0, RECORD + 100));
    const file = path.join(cut, 'data_batch_1.bin');
    await expect(loadDataset(`cifar10:${cut}`, base)).rejects.toThrow(
      new DataError(
        `${file}: byte ${RECORD}: record 1 is truncated: expected 3073 bytes (1 label byte and 3072 pixel bytes), found 100`,
        file,
        RECORD,
      ),
    );
    fs.writeFileSync(file, batch([0, 7]));
    await expect(loadDataset(`cifar10:${cut}`, base)).rejects.toThrow(
      `${file}: byte ${RECORD}: label 7 of record 1 is out of range: expected 0..2`,
    );
    fs.rmSync(file);
    await expect(loadDataset(`cifar10:${cut}`, base)).rejects.toThrow(
      `${cut}: no CIFAR-10 training batches (data_batch_1.bin .. data_batch_5.bin) in this folder`,
    );
  });
});

describe('npy:X.npy,Y.npy', () => {
  it('reads uint8 [N, H, W] images (scaled by 255) and int64 labels, split by a seeded permutation', async () => {
    const x = path.join(tmp, 'x.npy');
    const y = path.join(tmp, 'y.npy');
    fs.writeFileSync(
      x,
      npyFile(
        '|u1',
        [4, 4, 4],
        Uint8Array.from({ length: 64 }, (_, i) => i * 3),
      ),
    );
    const labels = new BigInt64Array([2n, 0n, 1n, 1n]);
    fs.writeFileSync(y, npyFile('<i8', [4], new Uint8Array(labels.buffer)));
    const d = await loadDataset(`npy:${x},${y}`, base);
    expect(d.inputShape).toEqual([1, 4, 4]);
    const perm = seededPermutation(4, 0);
    expect(Array.from(d.train.labels)).toEqual([0, 1].map((i) => Number(labels[perm[i] as number])));
    const first = perm[0] as number;
    expect(Array.from(d.train.images.subarray(0, 16))).toEqual(
      Array.from({ length: 16 }, (_, i) => table[(first * 16 + i) * 3]),
    );
  });

  it('takes float32 [N, C, H, W] images as [0, 1] values: normalized, not divided by 255', async () => {
    const x = path.join(tmp, 'xf.npy');
    const y = path.join(tmp, 'yf.npy');
    fs.writeFileSync(x, npyFile('<f4', [4, 1, 4, 4], new Uint8Array(new Float32Array(64).fill(0.75).buffer)));
    fs.writeFileSync(y, npyFile('|u1', [4], Uint8Array.of(0, 1, 2, 0)));
    const d = await loadDataset(`npy:${x},${y}`, base);
    expect(new Set(d.train.images)).toEqual(new Set([Math.fround(Math.fround(0.75 - 0.5) / 0.5)]));
  });

  it('names the file and byte offset of what is wrong', async () => {
    // Each file's header is 128 bytes here (NumPy pads it to a multiple of 64).
    const x = path.join(tmp, 'bad-x.npy');
    const y = path.join(tmp, 'bad-y.npy');
    fs.writeFileSync(x, npyFile('|u1', [4, 4, 4], new Uint8Array(60)));
    fs.writeFileSync(y, npyFile('|u1', [4], Uint8Array.of(0, 1, 5, 0)));
    await expect(loadDataset(`npy:${x},${y}`, base)).rejects.toThrow(
      `${x}: byte 188: truncated data: the shape (4, 4, 4) needs 64 bytes after the 128-byte header, found 60`,
    );
    fs.writeFileSync(x, npyFile('|u1', [4, 4, 4], new Uint8Array(64)));
    await expect(loadDataset(`npy:${x},${y}`, base)).rejects.toThrow(
      `${y}: byte 130: label 5 of item 2 is out of range: expected 0..2`,
    );
    fs.writeFileSync(y, npyFile('|u1', [3], Uint8Array.of(0, 1, 2)));
    await expect(loadDataset(`npy:${x},${y}`, base)).rejects.toThrow(
      `${x} holds 4 images but ${y} holds 3 labels; they must match`,
    );
    expect(() => parseNpy(npyFile('<f8', [1], new Uint8Array(8)), 'd.npy')).toThrow(
      "d.npy: byte 10: dtype '<f8' is not read here: expected float32 or uint8 images, integer labels",
    );
    expect(() => parseNpy(Buffer.from('PK\x03\x04'), 'z.npz')).toThrow(
      'z.npz: byte 0: not a .npy file: expected the magic bytes \\x93NUMPY',
    );
    const nan = npyFile('<f4', [1, 2, 2], new Uint8Array(Float32Array.of(0, NaN, 0, 0).buffer));
    fs.writeFileSync(x, nan);
    await expect(loadDataset(`npy:${x},${y}`, base)).rejects.toThrow(
      `${x}: byte 132: element 1 is NaN: images must be finite`,
    );
  });
});

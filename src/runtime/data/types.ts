/** The shapes the data loaders return; the trainer reads only these. */

/** One split, ready for a model: images are NCHW float32 after resize and normalization. */
export interface Split {
  /** `count * channels * height * width` values, sample-major (NCHW). */
  readonly images: Float32Array;
  /** Class index per sample, 0-based. */
  readonly labels: Int32Array;
  /** Number of samples. */
  readonly count: number;
}

/** A loaded data source with its three splits. */
export interface Dataset {
  /** The source string as given (`mnist-sample`, `idx:DIR`, `nndl-json:FILE`). */
  readonly source: string;
  /** One line saying what was read and how it was split, for run logs. */
  readonly description: string;
  /** Number of classes (labels are 0..classes-1). */
  readonly classes: number;
  /** The classes' names in index order, when the source has them (folder: its subfolders; cifar10: batches.meta.txt). */
  readonly classNames?: readonly string[];
  /** [channels, height, width] of one sample after preprocessing. */
  readonly inputShape: readonly [number, number, number];
  readonly train: Split;
  readonly dev: Split;
  readonly test: Split;
}

/** Options of {@link loadDataset}; sizes are sample counts. */
export interface LoadOptions {
  readonly train: number;
  readonly dev: number;
  readonly test: number;
  /** Seed of the split permutation (ignored by nndl-json, which takes the first samples like the seed code). */
  readonly seed: number;
  /** torchvision `Resize(size)`: the shorter side becomes `size` (default 32). */
  readonly size?: number;
  /** `Normalize(mean, std)` after scaling to [0, 1] (defaults 0.5 and 0.5). */
  readonly mean?: number;
  readonly std?: number;
  /** Number of classes labels must stay below (default 10). */
  readonly classes?: number;
  /**
   * Channels of the network input (1 or 3): RGB images are turned grey by ITU-R 601 luma (Pillow's `convert('L')`)
   * and grey ones repeated into R, G and B (`convert('RGB')`). Default: as the source holds them.
   */
  readonly channels?: number;
}

/**
 * Decoded images before preprocessing: `count` images of `channels` planes of `height`x`width` (CHW, row-major,
 * packed). Bytes are 0..255 (ToTensor divides them by 255); float32 values are already on ToTensor's [0, 1] scale.
 */
export interface RawImages {
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly pixels: Uint8Array | Float32Array;
}

/** Images with their labels, as a loader decodes them. */
export interface RawSet {
  readonly images: RawImages;
  readonly labels: Uint8Array;
}

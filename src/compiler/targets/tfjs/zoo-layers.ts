/**
 * netspec's tfjs runtime, continued: the layers and initializer that the zoo's architectures brought (ceil-mode and
 * adaptive pooling, slices and channel shuffles, stochastic depth, and the token layers of transformers: layer
 * norm, learnable parameters, select, attention; PyTorch's normal init), each with PyTorch's semantics.
 *
 * Like torch-layers.ts it is both imported by the in-memory tfjs target and copied verbatim into generated
 * TypeScript, but only into models that use one of its layers or its initializer, so that the generated code of
 * every other model (and torch-layers.ts itself) keeps its bytes. New layer classes go here, not into
 * torch-layers.ts. Keep it self-contained: import '@tensorflow/tfjs' and nothing else (the few helpers it shares
 * with torch-layers.ts are repeated below), and use only ops every tfjs backend implements (cpu, wasm, webgl,
 * tensorflow).
 *
 * Tensors are NHWC inside models, tokens [N, T, E]; weights keep tfjs layouts and are converted to PyTorch's
 * layouts only at the state-dict boundary.
 */
import * as tf from '@tensorflow/tfjs';

/** Arguments every tfjs layer accepts (name, trainable, ...). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** A tfjs weight initializer. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type ShapeLike = tf.Shape | tf.Shape[];

/** PyTorch pads max pooling with -inf; the lowest float32 behaves the same and is safe on every backend. */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** torch-layers.ts's deriveSeed (FNV-1a of seed and key), repeated so that this file imports only tfjs. */
function deriveSeed(seed: number, key: string): number {
  const text = `${seed}/${key}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** N(0, std), PyTorch's normal_ (a parameter's `normal` init); `key` picks the seeded stream as for torchUniform. */
export function torchNormal(std: number, seed: number | undefined, key: string): Initializer {
  return tf.initializers.randomNormal({
    mean: 0,
    stddev: std,
    ...(seed === undefined ? {} : { seed: deriveSeed(seed, key) }),
  });
}

function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    const [first] = inputs;
    if (inputs.length !== 1 || first === undefined)
      throw new Error(`expected one input, got ${inputs.length}`);
    return first;
  }
  return inputs;
}

function singleShape(shape: ShapeLike): tf.Shape {
  const first = shape[0];
  return Array.isArray(first) ? first : (shape as tf.Shape);
}

function dim(shape: tf.Shape, axis: number): number | null {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  return d === undefined ? null : d;
}

/**
 * PyTorch's pooling output length (dilation 1): floor, or with ceil mode the ceiling less a last window that would
 * start in the right padding.
 */
function poolLength(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  ceilMode: boolean,
): number {
  const span = size + 2 * padding - kernel;
  if (!ceilMode) return Math.floor(span / stride) + 1;
  const out = Math.floor((span + stride - 1) / stride) + 1;
  return (out - 1) * stride >= size + padding ? out - 1 : out;
}

/** What a pooling of one axis needs beyond its symmetric padding at the far end for its last (ceil mode) window. */
function overhang(size: number, kernel: number, stride: number, padding: number, ceilMode: boolean): number {
  const out = poolLength(size, kernel, stride, padding, ceilMode);
  return Math.max(0, (out - 1) * stride + kernel - (size + 2 * padding));
}

/** The NHWC paddings of a pooling: `padding` on both sides of H and W, plus the ceil-mode overhang at the ends. */
function poolPaddings(
  x: tf.Tensor4D,
  poolSize: [number, number],
  strides: [number, number],
  padding: [number, number],
  ceilMode: boolean,
): [[0, 0], [number, number], [number, number], [0, 0]] {
  const [, h, w] = x.shape;
  const [ph, pw] = padding;
  const eh = overhang(h, poolSize[0], strides[0], ph, ceilMode);
  const ew = overhang(w, poolSize[1], strides[1], pw, ceilMode);
  return [
    [0, 0],
    [ph, ph + eh],
    [pw, pw + ew],
    [0, 0],
  ];
}

/** Arguments of {@link TorchCeilMaxPool2d}. */
export interface TorchPool2dArgs extends BaseLayerArgs {
  poolSize: [number, number];
  strides: [number, number];
  /** Symmetric padding [top/bottom, left/right]. */
  padding: [number, number];
}

/** Arguments of {@link TorchAvgPool2d}. */
export interface TorchAvgPool2dArgs extends TorchPool2dArgs {
  /** PyTorch's ceil_mode: the output length rounds up (the last window may hang over the end). */
  ceilMode?: boolean;
}

/** The output shape of a PyTorch pooling of NHWC `inputShape`. */
function pooledShape(
  inputShape: ShapeLike,
  layer: { poolSize: [number, number]; strides: [number, number]; padding: [number, number] },
  ceilMode: boolean,
): tf.Shape {
  const s = singleShape(inputShape);
  const length = (axis: 0 | 1): number | null => {
    const size = dim(s, axis + 1);
    const [k, st, p] = [layer.poolSize[axis], layer.strides[axis], layer.padding[axis]];
    return size === null ? null : poolLength(size, k, st, p, ceilMode);
  };
  return [dim(s, 0), length(0), length(1), dim(s, 3)];
}

/**
 * Max pooling with PyTorch's ceil mode and explicit padding, on NHWC tensors: the symmetric padding and the
 * overhang of the last window are filled with the lowest float, so they never win. (Without ceil mode the plan
 * uses tfjs's MaxPooling2D or torch-layers.ts's TorchMaxPool2d.)
 */
export class TorchCeilMaxPool2d extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchCeilMaxPool2d';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: [number, number];

  constructor(args: TorchPool2dArgs) {
    super(args);
    this.poolSize = [args.poolSize[0], args.poolSize[1]];
    this.strides = [args.strides[0], args.strides[1]];
    this.padding = [args.padding[0], args.padding[1]];
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    return pooledShape(inputShape, this, true);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const pads = poolPaddings(x, this.poolSize, this.strides, this.padding, true);
      const padded = pads.flat().some((p) => p > 0) ? tf.pad(x, pads, LOWEST_FLOAT32) : x;
      return tf.maxPool(padded, this.poolSize, this.strides, 'valid');
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/**
 * Average pooling with PyTorch's ceil mode, on NHWC tensors: the padding's zeros count (count_include_pad=True),
 * the ceil-mode overhang past the padded input does not. Zero padding with the overhang and a valid average
 * divide every window by kh*kw; the windows that hang over are rescaled by kh*kw / (the part inside the padded
 * input), a constant per output position. (Without ceil mode the plan uses tfjs's own layers.)
 */
export class TorchAvgPool2d extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchAvgPool2d';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;

  constructor(args: TorchAvgPool2dArgs) {
    super(args);
    this.poolSize = [args.poolSize[0], args.poolSize[1]];
    this.strides = [args.strides[0], args.strides[1]];
    this.padding = [args.padding[0], args.padding[1]];
    this.ceilMode = args.ceilMode === true;
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    return pooledShape(inputShape, this, this.ceilMode);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const pads = poolPaddings(x, this.poolSize, this.strides, this.padding, this.ceilMode);
      const padded = pads.flat().some((p) => p > 0) ? tf.pad(x, pads) : x;
      const y = tf.avgPool(padded, this.poolSize, this.strides, 'valid');
      const scale = avgPoolScale(x.shape, this.poolSize, this.strides, this.padding, this.ceilMode);
      return scale === null ? y : tf.mul(y, scale);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const ceil = this.ceilMode ? { ceilMode: true } : {};
    return {
      ...super.getConfig(),
      poolSize: this.poolSize,
      strides: this.strides,
      padding: this.padding,
      ...ceil,
    };
  }
}

/**
 * Per axis, kernel / (the part of each window inside the padded input): PyTorch's divisor with
 * count_include_pad=True is min(start + k, size + padding) - start; only ceil-mode windows hang over.
 */
export function avgPoolAxisScale(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  ceilMode: boolean,
): number[] {
  const out = poolLength(size, kernel, stride, padding, ceilMode);
  return Array.from({ length: out }, (_, i) => {
    const start = i * stride - padding;
    return kernel / (Math.min(start + kernel, size + padding) - start);
  });
}

/** The [1, oh, ow, 1] rescaling of a ceil-mode average pooling, or null when no window hangs over. */
function avgPoolScale(
  shape: [number, number, number, number],
  poolSize: [number, number],
  strides: [number, number],
  padding: [number, number],
  ceilMode: boolean,
): tf.Tensor4D | null {
  const rows = avgPoolAxisScale(shape[1], poolSize[0], strides[0], padding[0], ceilMode);
  const columns = avgPoolAxisScale(shape[2], poolSize[1], strides[1], padding[1], ceilMode);
  if (rows.every((r) => r === 1) && columns.every((c) => c === 1)) return null;
  const grid = rows.flatMap((r) => columns.map((c) => r * c));
  return tf.tensor4d(grid, [1, rows.length, columns.length, 1]);
}

/** Arguments of {@link TorchAdaptiveAvgPool2d}. */
export interface TorchAdaptiveAvgPool2dArgs extends BaseLayerArgs {
  /** The output [h, w]. */
  outputSize: [number, number];
}

/**
 * The [out, size] averaging matrix of PyTorch's adaptive average pooling along one axis: row i averages bin
 * floor(i*size/out) to ceil((i+1)*size/out).
 */
export function adaptivePoolMatrix(size: number, out: number): number[] {
  const m = new Array<number>(out * size).fill(0);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return m;
}

/**
 * nn.AdaptiveAvgPool2d on NHWC tensors as two matrix products with constant averaging matrices (every backend has
 * matMul and its gradient): the width, then the height, each contracted as the last axis of a 2-D product.
 */
export class TorchAdaptiveAvgPool2d extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchAdaptiveAvgPool2d';
  readonly outputSize: [number, number];

  constructor(args: TorchAdaptiveAvgPool2dArgs) {
    super(args);
    this.outputSize = [args.outputSize[0], args.outputSize[1]];
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    const s = singleShape(inputShape);
    return [dim(s, 0), this.outputSize[0], this.outputSize[1], dim(s, 3)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const [oh, ow] = this.outputSize;
      const byWidth = tf.tensor2d(adaptivePoolMatrix(w, ow), [ow, w]);
      const byHeight = tf.tensor2d(adaptivePoolMatrix(h, oh), [oh, h]);
      // [n, h, c, w] x [w, ow] -> [n, h, c, ow]; then [n, c, ow, h] x [h, oh] -> [n, c, ow, oh].
      const rows = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [n * h * c, w]);
      const pooledW = tf.reshape(tf.matMul(rows, byWidth, false, true), [n, h, c, ow]);
      const columns = tf.reshape(tf.transpose(pooledW, [0, 2, 3, 1]), [n * c * ow, h]);
      const pooled = tf.reshape(tf.matMul(columns, byHeight, false, true), [n, c, ow, oh]);
      return tf.transpose(pooled, [0, 3, 2, 1]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputSize: this.outputSize };
  }
}

/** Arguments of {@link TorchSlice}. */
export interface TorchSliceArgs extends BaseLayerArgs {
  /** The axis of the stored tensor (1 or more: the batch is 0). */
  axis: number;
  start: number;
  size: number;
}

/** `size` elements from `start` of one axis (torch.narrow, a piece of torch.chunk), differentiable. */
export class TorchSlice extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchSlice';
  readonly axis: number;
  readonly start: number;
  readonly size: number;

  constructor(args: TorchSliceArgs) {
    super(args);
    this.axis = args.axis;
    this.start = args.start;
    this.size = args.size;
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    return singleShape(inputShape).map((d, i) => (i === this.axis ? this.size : d));
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const begin = x.shape.map((_, i) => (i === this.axis ? this.start : 0));
      const size = x.shape.map((d, i) => (i === this.axis ? this.size : d));
      return tf.slice(x, begin, size);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, start: this.start, size: this.size };
  }
}

/** Arguments of {@link TorchChannelShuffle}. */
export interface TorchChannelShuffleArgs extends BaseLayerArgs {
  groups: number;
}

/**
 * torchvision's channel_shuffle on NHWC tensors: the channels viewed as [groups, C/groups] and transposed, so
 * output channel k*groups + g is input channel g*(C/groups) + k. Rank-3 reshapes and a transpose.
 */
export class TorchChannelShuffle extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchChannelShuffle';
  readonly groups: number;

  constructor(args: TorchChannelShuffleArgs) {
    super(args);
    this.groups = args.groups;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const channels = x.shape[x.rank - 1] ?? 1;
      const grouped = tf.reshape(x, [-1, this.groups, channels / this.groups]);
      return tf.reshape(tf.transpose(grouped, [0, 2, 1]), x.shape);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups };
  }
}

/** Arguments of {@link TorchStochasticDepth}. */
export interface TorchStochasticDepthArgs extends BaseLayerArgs {
  /** The probability of dropping a sample, in [0, 1). */
  rate: number;
}

/**
 * torchvision's StochasticDepth(p, 'row'): in training each sample's whole tensor is kept with probability 1 - p
 * and scaled by 1/(1 - p), or zeroed; in inference (and for p = 0) the identity. The draws are tfjs's unseeded
 * randomUniform, as tfjs's Dropout layer (netspec's dropout) draws them.
 */
export class TorchStochasticDepth extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchStochasticDepth';
  readonly rate: number;

  constructor(args: TorchStochasticDepthArgs) {
    super(args);
    this.rate = args.rate;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      if (kwargs['training'] !== true || this.rate === 0) return x;
      const keep = 1 - this.rate;
      const rows = [x.shape[0] ?? 1, ...x.shape.slice(1).map(() => 1)];
      // floor(u + keep) is 1 with probability keep (u uniform in [0, 1)), as torch's bernoulli_(keep).
      const mask = tf.div(tf.floor(tf.add(tf.randomUniform(rows), keep)), keep);
      return tf.mul(x, mask);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

/** Arguments of {@link TorchLayerNorm}. */
export interface TorchLayerNormArgs extends BaseLayerArgs {
  /** The axis normalized over, counting the batch axis (0), in the tensor as stored (NHWC for maps). */
  axis: number;
  /** Added to the variance before the square root (PyTorch's default 1e-5). */
  eps: number;
  /** Whether the layer has a learnable scale (`weight`) and shift (`bias`) along the axis. */
  affine: boolean;
  weightInitializer?: Initializer;
  biasInitializer?: Initializer;
}

/**
 * Layer normalization over one axis with PyTorch's semantics (nn.LayerNorm on the last axis, torchvision's
 * LayerNorm2d on a map's channels): (x - mean) * rsqrt(biased variance + eps) * weight + bias, the statistics
 * taken along `axis` for every other position, the same in training and inference. Differentiated op by op.
 */
export class TorchLayerNorm extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchLayerNorm';
  readonly axis: number;
  readonly eps: number;
  readonly affine: boolean;
  private readonly weightInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: TorchLayerNormArgs) {
    super(args);
    this.axis = args.axis;
    this.eps = args.eps;
    this.affine = args.affine;
    this.weightInitializer = args.weightInitializer ?? tf.initializers.ones();
    this.biasInitializer = args.biasInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: ShapeLike): void {
    const features = dim(singleShape(inputShape), this.axis);
    if (features === null) throw new Error(`${this.name}: the normalized dimension must be known`);
    if (this.affine) {
      this.gamma = this.addWeight('weight', [features], 'float32', this.weightInitializer);
      this.beta = this.addWeight('bias', [features], 'float32', this.biasInitializer);
    }
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const mean = tf.mean(x, this.axis, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), this.axis, true);
      const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      if (this.gamma === null || this.beta === null) return normalized;
      // weight and bias lie along `axis`: shaped [..., features, 1, ...] to broadcast over the other axes.
      const shape = x.shape.map((d, k) => (k === this.axis ? d : 1));
      const scale = tf.reshape(this.gamma.read(), shape);
      return tf.add(tf.mul(normalized, scale), tf.reshape(this.beta.read(), shape));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, eps: this.eps, affine: this.affine };
  }
}

/** Arguments of {@link TorchParameter}. */
export interface TorchParameterArgs extends BaseLayerArgs {
  /** The tensor's shape per sample, as stored (a map's [C, H, W] as [H, W, C]). */
  shape: number[];
  weightInitializer?: Initializer;
}

/**
 * A learnable tensor (`weight`, PyTorch's nn.Parameter) repeated for every sample of the batch: the input is read
 * only for its batch size, which is known only when the layer runs. The gradient of the repetition sums over the batch.
 */
export class TorchParameter extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchParameter';
  readonly shape: number[];
  private readonly weightInitializer: Initializer;
  private weight: tf.LayerVariable | null = null;

  constructor(args: TorchParameterArgs) {
    super(args);
    this.shape = [...args.shape];
    this.weightInitializer = args.weightInitializer ?? tf.initializers.zeros();
  }

  override build(): void {
    this.weight = this.addWeight('weight', this.shape, 'float32', this.weightInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    return [dim(singleShape(inputShape), 0), ...this.shape];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (this.weight === null) throw new Error(`${this.name}: called before build`);
      const batch = single(inputs).shape[0] ?? 1;
      return tf.tile(tf.expandDims(this.weight.read(), 0), [batch, ...this.shape.map(() => 1)]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), shape: this.shape };
  }
}

/** Arguments of {@link TorchSelect}. */
export interface TorchSelectArgs extends BaseLayerArgs {
  /** The axis, counting the batch axis (0), in the tensor as stored. */
  axis: number;
  /** The position along it, 0 or more. */
  index: number;
}

/** PyTorch's x.select(dim, index): the slice at `index` of `axis`, that axis dropped (ViT's class token x[:, 0]). */
export class TorchSelect extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchSelect';
  readonly axis: number;
  readonly index: number;

  constructor(args: TorchSelectArgs) {
    super(args);
    this.axis = args.axis;
    this.index = args.index;
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    return singleShape(inputShape).filter((_, k) => k !== this.axis);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const begin = x.shape.map((_, k) => (k === this.axis ? this.index : 0));
      const size = x.shape.map((d, k) => (k === this.axis ? 1 : d));
      return tf.reshape(
        tf.slice(x, begin, size),
        x.shape.filter((_, k) => k !== this.axis),
      );
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axis, index: this.index };
  }
}

/** Arguments of {@link TorchAttention}. */
export interface TorchAttentionArgs extends BaseLayerArgs {
  heads: number;
  /** Dropout on the attention weights, while training. */
  dropout: number;
  /** Whether the input and output projections have biases. */
  useBias: boolean;
  inProjWeightInitializer?: Initializer;
  inProjBiasInitializer?: Initializer;
  outProjWeightInitializer?: Initializer;
  outProjBiasInitializer?: Initializer;
}

/**
 * Multi-head self-attention on tokens [N, T, E] as PyTorch's nn.MultiheadAttention(E, heads, batch_first=True)
 * computes attn(x, x, x, need_weights=False)[0], with its weights in PyTorch's layout and names (in_proj_weight
 * [3E, E] = the query, key and value projections stacked, in_proj_bias [3E], out_proj_weight [E, E], out_proj_bias
 * [E]): q, k, v = split(x W^T + b), per head softmax((q / sqrt(E / heads)) k^T) v, joined and projected.
 */
export class TorchAttention extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchAttention';
  readonly heads: number;
  readonly dropout: number;
  readonly useBias: boolean;
  private readonly initializers: Record<'inWeight' | 'inBias' | 'outWeight' | 'outBias', Initializer>;
  private inProjWeight: tf.LayerVariable | null = null;
  private inProjBias: tf.LayerVariable | null = null;
  private outProjWeight: tf.LayerVariable | null = null;
  private outProjBias: tf.LayerVariable | null = null;

  constructor(args: TorchAttentionArgs) {
    super(args);
    this.heads = args.heads;
    this.dropout = args.dropout;
    this.useBias = args.useBias;
    this.initializers = {
      inWeight: args.inProjWeightInitializer ?? tf.initializers.glorotUniform({}),
      inBias: args.inProjBiasInitializer ?? tf.initializers.zeros(),
      outWeight: args.outProjWeightInitializer ?? tf.initializers.glorotUniform({}),
      outBias: args.outProjBiasInitializer ?? tf.initializers.zeros(),
    };
  }

  override build(inputShape: ShapeLike): void {
    const embed = dim(singleShape(inputShape), -1);
    if (embed === null) throw new Error(`${this.name}: the embedding dimension must be known`);
    if (embed % this.heads !== 0)
      throw new Error(`${this.name}: embedding ${embed} does not divide into ${this.heads} heads`);
    const { inWeight, inBias, outWeight, outBias } = this.initializers;
    this.inProjWeight = this.addWeight('in_proj_weight', [3 * embed, embed], 'float32', inWeight);
    if (this.useBias) this.inProjBias = this.addWeight('in_proj_bias', [3 * embed], 'float32', inBias);
    this.outProjWeight = this.addWeight('out_proj_weight', [embed, embed], 'float32', outWeight);
    if (this.useBias) this.outProjBias = this.addWeight('out_proj_bias', [embed], 'float32', outBias);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (this.inProjWeight === null || this.outProjWeight === null)
        throw new Error(`${this.name}: called before build`);
      const x = single(inputs);
      const [n = 1, t = 1, e = 1] = x.shape;
      const h = this.heads;
      const d = e / h;
      // x W^T + b on every token, as nn.Linear (and F.linear inside nn.MultiheadAttention).
      const project = (v: tf.Tensor, w: tf.LayerVariable, b: tf.LayerVariable | null): tf.Tensor => {
        const y = tf.matMul(v as tf.Tensor2D, w.read() as tf.Tensor2D, false, true);
        return b === null ? y : tf.add(y, b.read());
      };
      const qkv = project(tf.reshape(x, [n * t, e]), this.inProjWeight, this.inProjBias);
      const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      // [N * T, E] to [N, heads, T, E / heads].
      const perHead = (m: tf.Tensor): tf.Tensor4D =>
        tf.transpose(tf.reshape(m, [n, t, h, d]), [0, 2, 1, 3]) as tf.Tensor4D;
      const scores = tf.matMul(tf.div(perHead(q), Math.sqrt(d)), perHead(k), false, true);
      const softmax = tf.softmax(scores);
      const weights =
        kwargs['training'] === true && this.dropout > 0 ? tf.dropout(softmax, this.dropout) : softmax;
      const context = tf.matMul(weights, perHead(v));
      const joined = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [n * t, e]);
      return tf.reshape(project(joined, this.outProjWeight, this.outProjBias), [n, t, e]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, dropout: this.dropout, useBias: this.useBias };
  }
}
tf.serialization.registerClass(TorchCeilMaxPool2d);
tf.serialization.registerClass(TorchAvgPool2d);
tf.serialization.registerClass(TorchAdaptiveAvgPool2d);
tf.serialization.registerClass(TorchSlice);
tf.serialization.registerClass(TorchChannelShuffle);
tf.serialization.registerClass(TorchStochasticDepth);
tf.serialization.registerClass(TorchLayerNorm);
tf.serialization.registerClass(TorchParameter);
tf.serialization.registerClass(TorchSelect);
tf.serialization.registerClass(TorchAttention);

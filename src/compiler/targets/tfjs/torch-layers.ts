/**
 * netspec's tfjs runtime: the custom layers and initializers that give tfjs models PyTorch's semantics.
 *
 * This one file is both imported by the in-memory tfjs target and copied verbatim into generated TypeScript
 * (`netspec compile`), so in-memory and generated models share a single implementation. Keep it
 * self-contained: import '@tensorflow/tfjs' and nothing else, and use only ops every tfjs backend implements
 * (cpu, wasm, webgl, tensorflow).
 *
 * Tensors are NHWC inside models; weights keep tfjs layouts (kernels HWIO) and are converted to PyTorch's
 * layouts only at the state-dict boundary.
 */
import * as tf from '@tensorflow/tfjs';

/** Arguments every tfjs layer accepts (name, trainable, ...). */
export type BaseLayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** A tfjs weight initializer. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type ShapeLike = tf.Shape | tf.Shape[];

/** A 32-bit seed derived from the model seed and a parameter key (FNV-1a), so each weight draws its own stream. */
export function deriveSeed(seed: number, key: string): number {
  const text = `${seed}/${key}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * U(-bound, bound), PyTorch's default for conv and linear weights and biases (bound = 1/sqrt(fanIn)).
 * With a seed, `key` (the parameter's state-dict name) picks a reproducible stream; without one, draws are random.
 */
export function torchUniform(bound: number, seed: number | undefined, key: string): Initializer {
  return tf.initializers.randomUniform({
    minval: -bound,
    maxval: bound,
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

function pooledLength(size: number | null, kernel: number, stride: number, padding: number): number | null {
  return size === null ? null : Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/**
 * Training-mode batch normalization over every axis but the last, as one op with a closed-form gradient.
 * Differentiating tf.moments + tf.batchNorm op by op costs some eighty kernels per layer and step (a quarter of
 * them Identity copies of saved tensors); this runs about thirty, fourteen of them full-size:
 *   forward   xc = x - mean(x), var = mean(xc^2), k = gamma * rsqrt(var + eps), y = xc * k + beta
 *   backward  dbeta = sum(dy), dgamma = rstd * sum(dy * xc),
 *             dx = k * (dy - xc * (rstd * dgamma / n) - dbeta / n)
 * with xc, rstd and k saved from the forward. Plain broadcast multiply/add rather than FusedBatchNorm, which wasm runs
 * as a scalar loop with a division per element (some ten times slower). `onMoments` receives the batch mean and
 * biased variance while the op runs, where nothing is taped, so whatever it computes is not differentiated.
 */
function batchNormTrainingImpl(
  x: tf.Tensor,
  scale: tf.Tensor | undefined,
  offset: tf.Tensor | undefined,
  eps: number,
  onMoments: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor {
  const affine = scale !== undefined && offset !== undefined;
  if (x.dtype === 'float32' && fusedBatchNormRegistered()) {
    const fused = fusedBatchNormTraining(eps, onMoments);
    return affine ? fused(x, scale, offset) : fused(x);
  }
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const n = x.size / (x.shape[x.rank - 1] ?? 1);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [input, gamma, beta] = args.slice(0, -1) as [tf.Tensor, tf.Tensor?, tf.Tensor?];
    const mean = tf.mean(input, axes);
    const centered = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centered), axes);
    onMoments(mean, variance);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    const k = gamma === undefined ? rstd : tf.mul(gamma, rstd);
    const scaled = tf.mul(centered, k);
    save([centered, rstd, k]);
    return {
      value: beta === undefined ? scaled : tf.add(scaled, beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xc, r, kk] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.mul(tf.sum(tf.mul(dy, xc), axes), r);
        const inner = tf.sub(tf.sub(dy, tf.mul(xc, tf.mul(dGamma, tf.div(r, n)))), tf.div(dBeta, n));
        const dx = tf.mul(inner, kk);
        return affine ? [dx, dGamma, dBeta] : [dx];
      },
    };
  });
  return affine ? op(x, scale, offset) : op(x);
}

/**
 * netspec's kernels for training-mode batch normalization, forward and gradient, as the native backend registers
 * them (runtime/backends/names.ts, BATCH_NORM_TRAINING_KERNELS, documents them; this file spells the names itself
 * because its JavaScript twin imports nothing but tfjs). They compute what the composite form above computes.
 */
export const FUSED_BATCH_NORM_KERNELS = {
  forward: 'NetspecBatchNormTraining',
  gradient: 'NetspecBatchNormTrainingGrad',
} as const;

/** Whether the active backend runs {@link FUSED_BATCH_NORM_KERNELS}. */
function fusedBatchNormRegistered(): boolean {
  const backend = tf.getBackend();
  return (
    tf.getKernel(FUSED_BATCH_NORM_KERNELS.forward, backend) !== undefined &&
    tf.getKernel(FUSED_BATCH_NORM_KERNELS.gradient, backend) !== undefined
  );
}

/**
 * batchNormTrainingImpl's op on {@link FUSED_BATCH_NORM_KERNELS}: one kernel forward, one backward; affine when it
 * is given gamma and beta.
 */
function fusedBatchNormTraining(
  eps: number,
  onMoments: (mean: tf.Tensor, variance: tf.Tensor) => void,
): (...inputs: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [input, gamma, beta] = args.slice(0, -1) as [tf.Tensor, tf.Tensor?, tf.Tensor?];
    const inputs: tf.NamedTensorMap = gamma && beta ? { x: input, gamma, beta } : { x: input };
    const [y, mean, variance, rstd] = tf
      .engine()
      .runKernel(FUSED_BATCH_NORM_KERNELS.forward, inputs, { epsilon: eps }) as tf.Tensor[];
    if (!y || !mean || !variance || !rstd)
      throw new Error(`${FUSED_BATCH_NORM_KERNELS.forward}: expected 4 outputs`);
    onMoments(mean, variance);
    save(gamma ? [input, mean, rstd, gamma] : [input, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, m, r, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
        const gradInputs: tf.NamedTensorMap = g
          ? { dy, x: xs, mean: m, rstd: r, gamma: g }
          : { dy, x: xs, mean: m, rstd: r };
        return tf.engine().runKernel(FUSED_BATCH_NORM_KERNELS.gradient, gradInputs, {}) as tf.Tensor[];
      },
    };
  });
}

/** The op scope makes tf.profile list the kernels inside, not an anonymous scope around them. */
const batchNormTraining = tf.op({ batchNormTraining: batchNormTrainingImpl });

/** Arguments of {@link TorchBatchNorm}. */
export interface TorchBatchNormArgs extends BaseLayerArgs {
  /** Added to the variance before the square root (PyTorch's default 1e-5). */
  eps: number;
  /** Weight of the new batch statistic in the running averages (PyTorch's default 0.1). */
  momentum: number;
  /** Whether the layer has a learnable scale (`weight`) and shift (`bias`). */
  affine: boolean;
  weightInitializer?: Initializer;
  biasInitializer?: Initializer;
  runningMeanInitializer?: Initializer;
  runningVarInitializer?: Initializer;
}

/**
 * BatchNorm with PyTorch's semantics over the last (channel) axis of NHWC or [N, F] tensors. Training
 * normalizes with the biased batch variance and updates the running statistics once per call as
 * `running = (1 - momentum) * running + momentum * batch`, using the unbiased variance (n / (n - 1)) for
 * `running_var`; inference normalizes with the running statistics. tfjs's BatchNormalization differs in
 * the momentum convention and in using the biased variance for its moving average.
 */
export class TorchBatchNorm extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchBatchNorm';
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  private readonly initializers: Record<'weight' | 'bias' | 'mean' | 'var', Initializer>;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private runningMean: tf.LayerVariable | null = null;
  private runningVar: tf.LayerVariable | null = null;

  constructor(args: TorchBatchNormArgs) {
    super(args);
    this.eps = args.eps;
    this.momentum = args.momentum;
    this.affine = args.affine;
    this.initializers = {
      weight: args.weightInitializer ?? tf.initializers.ones(),
      bias: args.biasInitializer ?? tf.initializers.zeros(),
      mean: args.runningMeanInitializer ?? tf.initializers.zeros(),
      var: args.runningVarInitializer ?? tf.initializers.ones(),
    };
  }

  override build(inputShape: ShapeLike): void {
    const channels = dim(singleShape(inputShape), -1);
    if (channels === null) throw new Error(`${this.name}: the channel dimension must be known`);
    if (this.affine) {
      this.gamma = this.addWeight('weight', [channels], 'float32', this.initializers.weight);
      this.beta = this.addWeight('bias', [channels], 'float32', this.initializers.bias);
    }
    this.runningMean = this.addWeight(
      'running_mean',
      [channels],
      'float32',
      this.initializers.mean,
      undefined,
      false,
    );
    this.runningVar = this.addWeight(
      'running_var',
      [channels],
      'float32',
      this.initializers.var,
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const runningMean = this.runningMean;
      const runningVar = this.runningVar;
      if (runningMean === null || runningVar === null) throw new Error(`${this.name}: called before build`);
      const scale = this.gamma?.read();
      const offset = this.beta?.read();
      if (kwargs['training'] !== true) {
        return tf.batchNorm(x, runningMean.read(), runningVar.read(), offset, scale, this.eps);
      }
      const channels = x.shape[x.rank - 1] ?? 1;
      const n = x.size / channels;
      if (n < 2)
        throw new Error(
          `${this.name}: training needs more than 1 value per channel, got input shape [${x.shape.join(', ')}]`,
        );
      const m = this.momentum;
      return batchNormTraining(x, scale, offset, this.eps, (mean, variance) => {
        runningMean.write(tf.add(tf.mul(runningMean.read(), 1 - m), tf.mul(mean, m)));
        runningVar.write(tf.add(tf.mul(runningVar.read(), 1 - m), tf.mul(variance, (m * n) / (n - 1))));
      });
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), eps: this.eps, momentum: this.momentum, affine: this.affine };
  }
}

/** Arguments of {@link TorchMaxPool2d}. */
export interface TorchMaxPool2dArgs extends BaseLayerArgs {
  poolSize: [number, number];
  strides: [number, number];
  /** Symmetric padding [top/bottom, left/right], filled with the lowest float so padding never wins. */
  padding: [number, number];
}

/** Max pooling with PyTorch's explicit padding (padded cells never win), on NHWC tensors. */
export class TorchMaxPool2d extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchMaxPool2d';
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: [number, number];

  constructor(args: TorchMaxPool2dArgs) {
    super(args);
    this.poolSize = [args.poolSize[0], args.poolSize[1]];
    this.strides = [args.strides[0], args.strides[1]];
    this.padding = [args.padding[0], args.padding[1]];
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    const s = singleShape(inputShape);
    return [
      dim(s, 0),
      pooledLength(dim(s, 1), this.poolSize[0], this.strides[0], this.padding[0]),
      pooledLength(dim(s, 2), this.poolSize[1], this.strides[1], this.padding[1]),
      dim(s, 3),
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      const [ph, pw] = this.padding;
      // Explicit padding, which every backend's MaxPool and MaxPoolGrad leave out of the windows: the same maxima
      // as PyTorch's -inf padding (a window always holds an input), without a padded copy of the input forward and
      // a slice of its gradient backward.
      const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
        ph > 0 || pw > 0
          ? [
              [0, 0],
              [ph, ph],
              [pw, pw],
              [0, 0],
            ]
          : 'valid';
      return tf.maxPool(x, this.poolSize, this.strides, pad);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }
}

/** Arguments of {@link TorchConv2d}. */
export interface TorchConv2dArgs extends BaseLayerArgs {
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  groups: number;
  /** PyTorch's symmetric zero padding [rows, columns] (each added on both sides); [0, 0] when absent. */
  padding?: [number, number];
  useBias: boolean;
  kernelInitializer?: Initializer;
  biasInitializer?: Initializer;
}

/**
 * Convolution with PyTorch's semantics where tfjs's Conv2D layer falls short: explicit symmetric padding (tfjs's
 * 'same' pads the far side for stride 2, PyTorch the near side), groups and dilation.
 * The padding goes to the convolution itself rather than to a separate zero-padding layer: backends then skip
 * the taps that fall on padding (oneDNN does; on ResNet18's 1x1 and 2x2 maps a padded copy made the 3x3
 * convolutions up to 9x the work) and no padded copy is made or differentiated.
 * tfjs has no grouped convolution and no gradient for dilated kernels (nor dilation together with stride), so
 * the kernel is dilated by inserting zeros (differentiable) and convolved densely; groups run as one depthwise
 * convolution when each group has one input channel, else as one convolution per group.
 * The kernel is [kh, kw, in / groups, out] (HWIO per group), PyTorch's [out, in / groups, kh, kw] transposed.
 */
export class TorchConv2d extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchConv2d';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly groups: number;
  readonly padding: [number, number];
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: TorchConv2dArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = [args.kernelSize[0], args.kernelSize[1]];
    this.strides = [args.strides[0], args.strides[1]];
    this.dilationRate = [args.dilationRate[0], args.dilationRate[1]];
    this.groups = args.groups;
    this.padding = args.padding ? [args.padding[0], args.padding[1]] : [0, 0];
    this.useBias = args.useBias;
    this.kernelInitializer = args.kernelInitializer ?? tf.initializers.zeros();
    this.biasInitializer = args.biasInitializer ?? tf.initializers.zeros();
  }

  override build(inputShape: ShapeLike): void {
    const inChannels = dim(singleShape(inputShape), -1);
    if (inChannels === null) throw new Error(`${this.name}: the channel dimension must be known`);
    if (inChannels % this.groups !== 0 || this.filters % this.groups !== 0)
      throw new Error(
        `${this.name}: ${inChannels} -> ${this.filters} channels do not divide into ${this.groups} groups`,
      );
    const [kh, kw] = this.kernelSize;
    const shape = [kh, kw, inChannels / this.groups, this.filters];
    this.kernel = this.addWeight('kernel', shape, 'float32', this.kernelInitializer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: ShapeLike): tf.Shape {
    const s = singleShape(inputShape);
    const [kh, kw] = this.kernelSize;
    const [dh, dw] = this.dilationRate;
    return [
      dim(s, 0),
      pooledLength(dim(s, 1), dh * (kh - 1) + 1, this.strides[0], this.padding[0]),
      pooledLength(dim(s, 2), dw * (kw - 1) + 1, this.strides[1], this.padding[1]),
      this.filters,
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (this.kernel === null) throw new Error(`${this.name}: called before build`);
      const x = single(inputs) as tf.Tensor4D;
      const kernel = dilateKernel(this.kernel.read() as tf.Tensor4D, this.dilationRate);
      const inChannels = x.shape[3];
      const [ph, pw] = this.padding;
      const pad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] =
        ph === 0 && pw === 0
          ? 'valid'
          : [
              [0, 0],
              [ph, ph],
              [pw, pw],
              [0, 0],
            ];
      if (this.groups === 1) {
        // Inference fuses the bias into the convolution. Training does not: tfjs differentiates a fused
        // convolution all at once, input gradient included, where the plain op's gradient skips what is not
        // needed (the first layer's input gradient: ~5 ms of a ~120 ms ResNet18 step on the native backend).
        if (this.bias !== null && kwargs['training'] !== true)
          return tf.fused.conv2d({
            x,
            filter: kernel,
            strides: this.strides,
            pad,
            bias: this.bias.read() as tf.Tensor1D,
          });
        const y = tf.conv2d(x, kernel, this.strides, pad);
        return this.bias === null ? y : tf.add(y, this.bias.read());
      }
      let y: tf.Tensor4D;
      if (this.groups === inChannels) {
        const [kh, kw] = kernel.shape;
        const depthwise = tf.reshape(kernel, [kh, kw, inChannels, this.filters / inChannels]) as tf.Tensor4D;
        y = tf.depthwiseConv2d(x, depthwise, this.strides, pad);
      } else {
        const xs = tf.split(x, this.groups, 3) as tf.Tensor4D[];
        const ks = tf.split(kernel, this.groups, 3) as tf.Tensor4D[];
        const ys = xs.map((xg, g) => {
          const kg = ks[g];
          if (kg === undefined) throw new Error(`${this.name}: missing kernel group ${g}`);
          return tf.conv2d(xg, kg, this.strides, pad);
        });
        y = tf.concat(ys, 3) as tf.Tensor4D;
      }
      return this.bias === null ? y : tf.add(y, this.bias.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      dilationRate: this.dilationRate,
      groups: this.groups,
      padding: this.padding,
      useBias: this.useBias,
    };
  }
}

/**
 * Spreads a [kh, kw, i, o] kernel to its dilated extent with zeros between taps, using differentiable ops of rank
 * at most 4, one axis at a time (tfjs's webgpu backend cannot compile a pad of rank 6).
 */
function dilateKernel(kernel: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  if (dh === 1 && dw === 1) return kernel;
  const [kh, kw, i, o] = kernel.shape;
  const rows = tf.pad(tf.reshape(kernel, [kh, 1, kw * i * o]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
  ]);
  const h = (kh - 1) * dh + 1;
  const tall = tf.slice(tf.reshape(rows, [kh * dh, kw * i * o]), [0, 0], [h, kw * i * o]);
  const columns = tf.pad(tf.reshape(tall, [h, kw, 1, i * o]), [
    [0, 0],
    [0, 0],
    [0, dw - 1],
    [0, 0],
  ]);
  const grid = tf.reshape(columns, [h, kw * dw, i, o]) as tf.Tensor4D;
  return tf.slice(grid, [0, 0, 0, 0], [h, (kw - 1) * dw + 1, i, o]);
}

/** Arguments of {@link TorchElu}. */
export interface TorchEluArgs extends BaseLayerArgs {
  alpha: number;
}

/** ELU with any alpha (tfjs's ELU layer supports only alpha = 1): relu(x) + alpha * expm1(min(x, 0)). */
export class TorchElu extends tf.layers.Layer {
  /** The name this class is registered under for (de)serialization. */
  static className = 'NetspecTorchElu';
  readonly alpha: number;

  constructor(args: TorchEluArgs) {
    super(args);
    this.alpha = args.alpha;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    // min(x, 0) keeps expm1 finite, so the gradient has no inf * 0 for large positive inputs.
    return tf.tidy(() => {
      const x = single(inputs);
      return tf.add(tf.relu(x), tf.mul(this.alpha, tf.expm1(tf.minimum(x, 0))));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

tf.serialization.registerClass(TorchBatchNorm);
tf.serialization.registerClass(TorchMaxPool2d);
tf.serialization.registerClass(TorchConv2d);
tf.serialization.registerClass(TorchElu);

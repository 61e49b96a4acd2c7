/**
 * The 'native' tfjs backend: tfjs-backend-cpu's storage and kernels, with the hot training kernels running in
 * netspec's C++ addon: Conv2D, FusedConv2D (bias and activation fused into oneDNN), Conv2DBackpropInput,
 * Conv2DBackpropFilter and BatchMatMul on oneDNN; pooling and its gradients, Transpose, elementwise arithmetic
 * and Sum/Mean over leading axes as OpenMP loops. Tile, Slice and PadV2 use netspec's block copies. Anything a
 * native kernel does not handle (NCHW, PReLU, general broadcasts, other dtypes) goes to the cpu backend's
 * kernel, so results never depend on which path ran.
 *
 * The addon is optional: without it (no compiler, no libdnnl-dev, not built) {@link nativeBackendHook}'s load
 * says why, and `--backend auto` moves on to wasm.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  _FusedMatMul,
  backend_util,
  BatchMatMul,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedBatchNorm,
  FusedConv2D,
  getKernel,
  getKernelsForBackend,
  Add,
  AvgPool,
  AvgPoolGrad,
  MaxPool,
  MaxPoolGrad,
  Mean,
  Multiply,
  Neg,
  PadV2,
  RealDiv,
  Relu,
  Rsqrt,
  Square,
  Step,
  Sub,
  Transpose,
  registerBackend,
  registerKernel,
  Slice,
  slice_util,
  Sum,
  Tile,
  util,
} from '@tensorflow/tfjs-core';
import type {
  _FusedMatMulAttrs,
  _FusedMatMulInputs,
  DataId,
  DataType,
  BatchMatMulAttrs,
  BatchMatMulInputs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  Conv2DInputs,
  FusedConv2DAttrs,
  FusedConv2DInputs,
  KernelFunc,
  AvgPoolAttrs,
  AvgPoolGradAttrs,
  AvgPoolGradInputs,
  MaxPoolAttrs,
  MaxPoolGradAttrs,
  MaxPoolGradInputs,
  NamedAttrMap,
  SliceAttrs,
  SliceInputs,
  TensorInfo,
  TileAttrs,
  TileInputs,
  TransposeAttrs,
  TypedArray,
} from '@tensorflow/tfjs-core';
import { broadcastKind, leadingAxes, padInto, sliceInto, tileInto, type BinaryOp } from './array-kernels.js';
import { SCALED_ADD_KERNEL } from './names.js';
import type { NativeBackendHook } from './native-hook.js';

/** The tfjs backend name. */
export const NATIVE_BACKEND = 'native';

/** Where the build puts the addon; the same relative path works from src/ and from dist/. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../../native/build/netspec_native.node', import.meta.url),
);

/** What the C++ addon exports (native/src/netspec_native.cc). */
export interface NativeAddon {
  /**
   * kind 0: dst = activation(conv(src, weights) + bias); 1: src = input gradient of dst; 2: weights = filter
   * gradient. dims: N, H, W, Ci, Co, kh, kw, Ho, Wo, strides, dilations (1 = dense), padTop, padLeft. bias (Co
   * values) and activation ({@link ACTIVATION_CODES}, `alpha` the leaky relu slope) apply to kind 0 only, as
   * does `weightsKey`: a number naming the filter's data, whose reordered copy the addon keeps from the second
   * forward convolution with it until forgetWeights. Returns oneDNN's implementation name.
   */
  conv2d(
    kind: 0 | 1 | 2,
    src: Float32Array,
    weights: Float32Array,
    dst: Float32Array,
    dims: Int32Array,
    bias?: Float32Array | null,
    activation?: number,
    alpha?: number,
    weightsKey?: number,
  ): string;
  /** Drops the forward-layout copy conv2d keeps of the filter named `weightsKey` (see NativeBackend.weightsKey). */
  forgetWeights(weightsKey: number): void;
  /** How many filters the addon keeps in a forward layout. */
  keptWeights(): number;
  /** c = a @ b over batches; dims: batchA, batchB, M, K, N, transposeA, transposeB. */
  matMul(a: Float32Array, b: Float32Array, c: Float32Array, dims: Int32Array): void;
  /** out = a op b (0 add, 1 sub, 2 mul, 3 div); each operand out-sized or a repeating block, one out-sized. */
  binary(op: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** out = relu(x) (op 0), step(x, alpha) (1), x * x (2), -x (3), 1 / sqrt(x) (4); NaN kept. */
  unary(op: 0 | 1 | 2 | 3 | 4, x: Float32Array, out: Float32Array, alpha: number): void;
  /** out[c] = scale * sum of x viewed as [x.length / out.length, out.length] down column c. */
  sumRows(x: Float32Array, out: Float32Array, scale: number): void;
  /** out = x + alpha * y (the product rounded to float32 first), one pass. */
  scaledAdd(x: Float32Array, y: Float32Array, alpha: number, out: Float32Array): void;
  /** out = (x - mean) * scale / sqrt(variance + epsilon) + offset, channels-last, parameters of 1 or C values. */
  batchNorm(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array,
    scale: Float32Array,
    out: Float32Array,
    epsilon: number,
  ): void;
  /**
   * y = max (op 0) or average (op 1) pooling of x, NHWC; dims: N, H, W, C, Ho, Wo, kh, kw, strides, padTop,
   * padLeft. Padding is never part of a window.
   */
  pool(op: 0 | 1, x: Float32Array, y: Float32Array, dims: Int32Array): void;
  /** dx = dy routed to the first row-major maximum of each window of x (dims as for pool). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** dx = the sum of dy over the windows holding each input, / (kh * kw) (dims as for pool). */
  avgPoolGrad(dy: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /** out = x with axes permuted (out axis i = x axis perm[i]); 4-byte elements, moved as bits. */
  transpose(
    x: Float32Array | Int32Array,
    out: Float32Array | Int32Array,
    shape: Int32Array,
    perm: Int32Array,
  ): void;
  setThreads(threads: number): void;
  info(): string;
}

/** The addon's codes for the activations FusedConv2D applies in oneDNN (others run on the cpu kernel). */
export const ACTIVATION_CODES: ReadonlyMap<string, number> = new Map([
  ['linear', 0],
  ['relu', 1],
  ['relu6', 2],
  ['leakyrelu', 3],
  ['elu', 4],
  ['sigmoid', 5],
]);

let addon: NativeAddon | undefined;

/** Loads the addon (from `file`, by default where the build puts it), or returns the reason it cannot be used. */
export function loadNativeAddon(file: string = NATIVE_ADDON_PATH): NativeAddon | string {
  if (addon && file === NATIVE_ADDON_PATH) return addon;
  if (!fs.existsSync(file))
    return `${path.relative(process.cwd(), file)} is not built (node native/build.mjs; needs g++ and libdnnl-dev)`;
  let loaded: NativeAddon;
  const restore = limitThreadSpinning();
  try {
    loaded = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    return `the addon does not load: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
  } finally {
    restore();
  }
  loaded.setThreads(nativeThreads());
  if (file === NATIVE_ADDON_PATH) addon = loaded;
  return loaded;
}

/**
 * How long (in pause instructions, ~19 ns each on the machine we measured) an OpenMP thread that ran out of work
 * spins before it sleeps, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT say otherwise.
 */
export const NATIVE_SPIN_COUNT = 10_000;

/**
 * Sets GOMP_SPINCOUNT for libgomp, the OpenMP runtime of oneDNN and the addon, which reads it once, when the
 * addon loads it; returns what puts the environment back (child processes such as PyTorch's keep their own
 * default). By default libgomp spins for 300,000 pauses (~6 ms) after each parallel loop. On a machine with as
 * many cores as threads that something else also uses, the spinning thread takes the core that the thread with
 * work is waiting for, and each kernel call then lasts a scheduler time slice (~8 ms): ResNet18 steps went from
 * 110 ms to 1.4-2.4 s with one busy process beside them, and were 170-330 ms without spinning.
 * Measured with `netspec bench --backend native` (ResNet18 step / forward ms, medians of two runs each):
 * 2,000 pauses: quiet 121-135 / 28, one busy process beside it 184 / 34; 10,000: quiet 108-115 / 26-27,
 * busy 186 / 42; 30,000: quiet 103-104 / 20-21, busy 245 / 59. 10,000 is the middle ground.
 */
function limitThreadSpinning(): () => void {
  if (process.env['OMP_WAIT_POLICY'] !== undefined || process.env['GOMP_SPINCOUNT'] !== undefined)
    return () => undefined;
  process.env['GOMP_SPINCOUNT'] = String(NATIVE_SPIN_COUNT);
  return () => {
    delete process.env['GOMP_SPINCOUNT'];
  };
}

/** Threads oneDNN uses: NETSPEC_NATIVE_THREADS, else every core Node may use. */
export function nativeThreads(): number {
  const fromEnv = Number(process.env['NETSPEC_NATIVE_THREADS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
}

/** Smallest array (in floats) worth recycling; smaller ones cost little to allocate. */
const POOL_MIN_FLOATS = 16 * 1024;
/** Most memory (bytes) kept for reuse. */
const POOL_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * The cpu backend under another name (so its kernels can be swapped without touching 'cpu'), plus recycling of
 * float32 arrays. Touching fresh memory costs a page fault per 4 KiB, which on virtual machines dominated the
 * elementwise kernels (~20 us per page measured here: 45 ms to first write 9 MiB, 3 ms to write it again). So
 * arrays of disposed tensors are kept by length and handed to the native kernels for their outputs.
 * Safe because: arrays that came from outside (write, move: a caller may still hold them) are never reused;
 * reads return copies, so no caller holds a reusable array; and an output of a delegated cpu kernel that
 * shares an input's buffer (a subarray view, as its contiguous Slice makes) is copied (see registerNativeBackend).
 */
export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly foreign = new WeakSet<ArrayBufferLike>();
  /** Set while a kernel stores its output (makeTensorInfo calls write): those arrays are the kernel's own. */
  private kernelOutput = false;
  private readonly weightKeys = new Map<DataId, number>();
  private nextWeightKey = 1;

  /**
   * A number naming the data of `dataId` for the addon's filter cache. tfjs never changes the values of a data
   * id (a variable's assign takes the new value's id), so a key stands for fixed values until disposeData.
   */
  weightsKey(dataId: DataId): number {
    let key = this.weightKeys.get(dataId);
    if (key === undefined) {
      key = this.nextWeightKey++;
      this.weightKeys.set(dataId, key);
    }
    return key;
  }

  /** A float32 array of `length` elements with arbitrary contents, reused when one is free. */
  allocFloats(length: number): Float32Array {
    const reused = this.pool.get(length)?.pop();
    if (reused === undefined) return new Float32Array(length);
    this.pooledBytes -= reused.byteLength;
    return reused;
  }

  /** The same, zero-filled. */
  zeroFloats(length: number): Float32Array {
    const reused = this.pool.get(length)?.pop();
    if (reused === undefined) return new Float32Array(length);
    this.pooledBytes -= reused.byteLength;
    return reused.fill(0);
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    if (!this.kernelOutput) this.markForeign(values);
    return super.write(values, shape, dtype);
  }

  override makeTensorInfo(
    shape: number[],
    dtype: DataType,
    values?: backend_util.BackendValues | string[],
  ): TensorInfo {
    this.kernelOutput = true;
    try {
      return super.makeTensorInfo(shape, dtype, values);
    } finally {
      this.kernelOutput = false;
    }
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.markForeign(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return values instanceof Float32Array ? values.slice() : values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    const values = await super.read(dataId);
    return values instanceof Float32Array ? values.slice() : values;
  }

  override disposeData(dataId: DataId, force?: boolean): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const gone = super.disposeData(dataId, force);
    const key = gone ? this.weightKeys.get(dataId) : undefined;
    if (key !== undefined) {
      addon?.forgetWeights(key);
      this.weightKeys.delete(dataId);
    }
    if (
      gone &&
      values instanceof Float32Array &&
      values.length >= POOL_MIN_FLOATS &&
      values.byteOffset === 0 &&
      values.byteLength === values.buffer.byteLength &&
      !this.foreign.has(values.buffer) &&
      this.pooledBytes + values.byteLength <= POOL_MAX_BYTES
    ) {
      const list = this.pool.get(values.length);
      if (list) list.push(values);
      else this.pool.set(values.length, [values]);
      this.pooledBytes += values.byteLength;
    }
    return gone;
  }

  override dispose(): void {
    for (const key of this.weightKeys.values()) addon?.forgetWeights(key);
    this.weightKeys.clear();
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }

  private markForeign(values: backend_util.BackendValues | null | undefined): void {
    if (values && ArrayBuffer.isView(values)) this.foreign.add(values.buffer);
  }
}

function theAddon(): NativeAddon {
  if (addon === undefined) throw new Error('the native addon is not loaded');
  return addon;
}

function valuesOf(backend: MathBackendCPU, t: TensorInfo): TypedArray {
  return backend.data.get(t.dataId).values as TypedArray;
}

function floatsOf(backend: NativeBackend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** The cpu backend's kernel of the same name, run on this backend (they share the storage). */
function cpuKernel(name: string): KernelFunc {
  const kernel = getKernel(name, 'cpu');
  if (kernel === undefined) throw new Error(`tfjs-backend-cpu has no '${name}' kernel`);
  return kernel.kernelFunc;
}

/** The addon's dims for a convolution (it derives the far padding from the output size), or undefined. */
function convDims(info: backend_util.Conv2DInfo): Int32Array | undefined {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
  const { outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = info;
  if (padInfo.top < 0 || padInfo.left < 0) return undefined;
  return Int32Array.from([
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padInfo.top,
    padInfo.left,
  ]);
}

function isFloat(...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32');
}

/**
 * The geometry of a channels-last convolution and the addon's dims for it, or undefined when the addon does not
 * take it (another layout or rank, negative padding): the kernel then runs the cpu one.
 */
function nativeConvGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'> & {
    dilations?: Conv2DAttrs['dilations'];
  },
): { info: backend_util.Conv2DInfo; dims: Int32Array } | undefined {
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (format !== 'channelsLast' || inputShape.length !== 4 || filterShape.length !== 4) return undefined;
  const info = backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    format,
  );
  const dims = convDims(info);
  return dims === undefined ? undefined : { info, dims };
}

/** Native convolution forward; undefined when it does not apply. */
function convForward(
  backend: NativeBackend,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  epilogue: { bias: Float32Array | null; activation: number; alpha: number } = {
    bias: null,
    activation: 0,
    alpha: 0,
  },
): { info: backend_util.Conv2DInfo; out: Float32Array } | undefined {
  const geometry = isFloat(x, filter) ? nativeConvGeometry(x.shape, filter.shape, attrs) : undefined;
  if (geometry === undefined || util.sizeFromShape(geometry.info.outShape) === 0) return undefined;
  const { info, dims } = geometry;
  const out = backend.allocFloats(util.sizeFromShape(info.outShape));
  const { bias, activation, alpha } = epilogue;
  const key = filter.dtype === 'float32' ? backend.weightsKey(filter.dataId) : 0;
  theAddon().conv2d(
    0,
    floatsOf(backend, x),
    floatsOf(backend, filter),
    out,
    dims,
    bias,
    activation,
    alpha,
    key,
  );
  return { info, out };
}

const conv2d: KernelFunc = (args) => {
  const { x, filter } = args.inputs as Conv2DInputs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || filter === undefined) throw new Error('Conv2D needs inputs x and filter');
  const done = convForward(backend, x, filter, args.attrs as unknown as Conv2DAttrs);
  if (done === undefined) return cpuKernel(Conv2D)(args);
  return backend.makeTensorInfo(done.info.outShape, 'float32', done.out);
};

const fusedConv2d: KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as FusedConv2DInputs;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || filter === undefined) throw new Error('FusedConv2D needs inputs x and filter');
  const activation = ACTIVATION_CODES.get(attrs.activation ?? 'linear');
  const co = filter.shape[3] ?? 0;
  // A bias of Co values along the last axis ([Co], [1, 1, 1, Co]); other broadcasts go to the cpu kernel.
  const simpleBias =
    bias === undefined ||
    bias === null ||
    (bias.shape[bias.shape.length - 1] === co && util.sizeFromShape(bias.shape) === co);
  if (activation === undefined || preluActivationWeights || !simpleBias || (bias && !isFloat(bias)))
    return cpuKernel(FusedConv2D)(args);
  const done = convForward(backend, x, filter, attrs, {
    bias: bias ? floatsOf(backend, bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0.2,
  });
  if (done === undefined) return cpuKernel(FusedConv2D)(args);
  return backend.makeTensorInfo(done.info.outShape, 'float32', done.out);
};

const conv2dBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as Conv2DBackpropInputInputs;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const backend = args.backend as NativeBackend;
  if (dy === undefined || filter === undefined)
    throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const geometry = isFloat(dy, filter)
    ? nativeConvGeometry(attrs.inputShape, filter.shape, attrs)
    : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.inputShape) === 0)
    return cpuKernel(Conv2DBackpropInput)(args);
  const { dims } = geometry;
  const dx = backend.allocFloats(util.sizeFromShape(attrs.inputShape));
  theAddon().conv2d(1, dx, floatsOf(backend, filter), floatsOf(backend, dy), dims);
  return backend.makeTensorInfo([...attrs.inputShape], 'float32', dx);
};

const conv2dBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Conv2DBackpropFilterInputs;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const geometry = isFloat(x, dy) ? nativeConvGeometry(x.shape, attrs.filterShape, attrs) : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.filterShape) === 0)
    return cpuKernel(Conv2DBackpropFilter)(args);
  const { dims } = geometry;
  const dw = backend.allocFloats(util.sizeFromShape(attrs.filterShape));
  theAddon().conv2d(2, floatsOf(backend, x), dw, floatsOf(backend, dy), dims);
  return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
};

/** a @ b on the addon (BatchMatMul's semantics), or undefined for what it does not take. */
function matMulOf(
  backend: NativeBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): { shape: number[]; c: Float32Array } | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (!isFloat(a, b) || ra < 2 || rb < 2) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  // One batch against many, or equal batch shapes; other broadcasts go to the cpu kernel.
  const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!sameOuter && batchA !== 1 && batchB !== 1) return undefined;
  const m = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) as number;
  const k = (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) as number;
  const kb = (transposeB ? b.shape[rb - 1] : b.shape[rb - 2]) as number;
  const n = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) as number;
  if (k !== kb) throw new Error(`BatchMatMul: inner dimensions ${k} and ${kb} differ`);
  const outer = batchA >= batchB ? outerA : outerB;
  const shape = [...outer, m, n];
  if (m * n * k * Math.max(batchA, batchB) === 0) return undefined;
  const c = backend.allocFloats(util.sizeFromShape(shape));
  const dims = Int32Array.from([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]);
  theAddon().matMul(floatsOf(backend, a), floatsOf(backend, b), c, dims);
  return { shape, c };
}

const batchMatMul: KernelFunc = (args) => {
  const { a, b } = args.inputs as BatchMatMulInputs;
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as NativeBackend;
  if (a === undefined || b === undefined) throw new Error('BatchMatMul needs inputs a and b');
  const done = matMulOf(backend, a, b, transposeA, transposeB);
  if (done === undefined) return cpuKernel(BatchMatMul)(args);
  return backend.makeTensorInfo(done.shape, 'float32', done.c);
};

/** A dense layer's product, bias (N values along the last axis) and relu or no activation; else the cpu kernel. */
const fusedMatMul: KernelFunc = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as _FusedMatMulInputs;
  const { transposeA, transposeB, activation } = args.attrs as unknown as _FusedMatMulAttrs;
  const backend = args.backend as NativeBackend;
  if (a === undefined || b === undefined) throw new Error('_FusedMatMul needs inputs a and b');
  const n = (transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1]) ?? 0;
  const simpleBias =
    bias === undefined ||
    bias === null ||
    (isFloat(bias) && bias.shape[bias.shape.length - 1] === n && util.sizeFromShape(bias.shape) === n);
  if ((activation !== 'linear' && activation !== 'relu') || preluActivationWeights || !simpleBias)
    return cpuKernel(_FusedMatMul)(args);
  const done = matMulOf(backend, a, b, transposeA, transposeB);
  if (done === undefined) return cpuKernel(_FusedMatMul)(args);
  const { c, shape } = done;
  if (bias) theAddon().binary(0, c, floatsOf(backend, bias), c);
  if (activation === 'relu') theAddon().unary(0, c, c, 0);
  return backend.makeTensorInfo(shape, 'float32', c);
};

const tile: KernelFunc = (args) => {
  const { x } = args.inputs as TileInputs;
  const { reps } = args.attrs as unknown as TileAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Tile needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(Tile)(args);
  const shape = x.shape.map((d, i) => d * (reps[i] ?? 1));
  const src = valuesOf(backend, x);
  const size = util.sizeFromShape(shape);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(size)
      : (util.getTypedArrayFromDType(x.dtype, size) as TypedArray);
  if (out.length > 0) tileInto(src, x.shape, reps, out);
  return backend.makeTensorInfo(shape, x.dtype, out);
};

const slice: KernelFunc = (args) => {
  const { x } = args.inputs as SliceInputs;
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Slice needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(Slice)(args);
  const [begin_, size_] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x, begin_, size_);
  const count = util.sizeFromShape(size_);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(count)
      : (util.getTypedArrayFromDType(x.dtype, count) as TypedArray);
  if (out.length > 0) sliceInto(valuesOf(backend, x), x.shape, begin_, size_, out);
  return backend.makeTensorInfo(size_, x.dtype, out);
};

function reduceKernel(name: typeof Sum | typeof Mean): KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as TensorInfo | undefined;
    const { axis, keepDims } = args.attrs as NamedAttrMap & { axis: number | number[]; keepDims: boolean };
    const backend = args.backend as NativeBackend;
    if (x === undefined) throw new Error(`${name} needs input x`);
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : undefined;
    if (k === undefined || util.sizeFromShape(x.shape) === 0) return cpuKernel(name)(args);
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    const colShape = x.shape.slice(k);
    const out = backend.allocFloats(util.sizeFromShape(colShape));
    theAddon().sumRows(floatsOf(backend, x), out, name === Mean ? 1 / rows : 1);
    const shape = keepDims ? backend_util.expandShapeToKeepDim(colShape, [...Array(k).keys()]) : colShape;
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

/** The addon's pooling dims (N, H, W, C, Ho, Wo, kh, kw, strides, padTop, padLeft). */
function poolDims(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ]);
}

/** Pooling geometry for a float32 NHWC input, or undefined for what the addon does not take. */
function poolInfo(
  input: TensorInfo,
  attrs: Pick<AvgPoolAttrs, 'filterSize' | 'strides' | 'pad'> &
    Partial<Pick<AvgPoolAttrs, 'dimRoundingMode'>>,
): backend_util.Conv2DInfo | undefined {
  if (input.shape.length !== 4) return undefined;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const empty = util.sizeFromShape(info.outShape) === 0 || util.sizeFromShape(input.shape) === 0;
  if (empty || info.padInfo.top < 0 || info.padInfo.left < 0) return undefined;
  return info;
}

function poolKernel(name: typeof MaxPool | typeof AvgPool, op: 0 | 1): KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as TensorInfo | undefined;
    const backend = args.backend as NativeBackend;
    if (x === undefined) throw new Error(`${name} needs input x`);
    const info = isFloat(x) ? poolInfo(x, args.attrs as unknown as MaxPoolAttrs) : undefined;
    // A 1x1 window that keeps the shape is the identity, which the cpu kernel returns without copying.
    const identity =
      info?.filterHeight === 1 && info.filterWidth === 1 && util.arraysEqual(info.inShape, info.outShape);
    if (info === undefined || identity) return cpuKernel(name)(args);
    const out = backend.allocFloats(util.sizeFromShape(info.outShape));
    theAddon().pool(op, floatsOf(backend, x), out, poolDims(info));
    return backend.makeTensorInfo(info.outShape, 'float32', out);
  };
}

const batchNorm: KernelFunc = (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as {
    x?: TensorInfo;
    mean?: TensorInfo;
    variance?: TensorInfo;
    offset?: TensorInfo | null;
    scale?: TensorInfo | null;
  };
  const { varianceEpsilon } = args.attrs as { varianceEpsilon?: number };
  const backend = args.backend as NativeBackend;
  if (x === undefined || mean === undefined || variance === undefined)
    throw new Error('FusedBatchNorm needs inputs x, mean and variance');
  const params = [mean, variance, offset, scale].filter(
    (t): t is TensorInfo => t !== undefined && t !== null,
  );
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const fits = params.every((t) => {
    const size = util.sizeFromShape(t.shape);
    return size === 1 || size === channels;
  });
  if (!isFloat(x, ...params) || !fits || util.sizeFromShape(x.shape) === 0)
    return cpuKernel(FusedBatchNorm)(args);
  const out = backend.allocFloats(util.sizeFromShape(x.shape));
  theAddon().batchNorm(
    floatsOf(backend, x),
    floatsOf(backend, mean),
    floatsOf(backend, variance),
    offset ? floatsOf(backend, offset) : new Float32Array([0]),
    scale ? floatsOf(backend, scale) : new Float32Array([1]),
    out,
    varianceEpsilon ?? 0.001,
  );
  return backend.makeTensorInfo([...x.shape], 'float32', out);
};

/** MaxPoolGrad / AvgPoolGrad: dx of the pooling of `input`, computed by `run` (the cpu kernel when it does not apply). */
function poolGradKernel(
  name: typeof MaxPoolGrad | typeof AvgPoolGrad,
  run: (input: Float32Array, dy: Float32Array, dx: Float32Array, dims: Int32Array) => void,
): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as MaxPoolGradInputs | AvgPoolGradInputs;
    const backend = args.backend as NativeBackend;
    if (dy === undefined || input === undefined) throw new Error(`${name} needs inputs dy and input`);
    const attrs = args.attrs as unknown as MaxPoolGradAttrs | AvgPoolGradAttrs;
    const info = isFloat(dy, input) ? poolInfo(input, attrs) : undefined;
    if (info === undefined) return cpuKernel(name)(args);
    const dx = backend.allocFloats(util.sizeFromShape(input.shape));
    run(floatsOf(backend, input), floatsOf(backend, dy), dx, poolDims(info));
    return backend.makeTensorInfo([...input.shape], 'float32', dx);
  };
}

const maxPoolGrad = poolGradKernel(MaxPoolGrad, (input, dy, dx, dims) =>
  theAddon().maxPoolGrad(input, dy, dx, dims),
);
const avgPoolGrad = poolGradKernel(AvgPoolGrad, (_input, dy, dx, dims) =>
  theAddon().avgPoolGrad(dy, dx, dims),
);

const transpose: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo | undefined;
  const { perm } = args.attrs as unknown as TransposeAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Transpose needs input x');
  const values = valuesOf(backend, x);
  const size = util.sizeFromShape(x.shape);
  if (!(values instanceof Float32Array || values instanceof Int32Array) || size === 0)
    return cpuKernel(Transpose)(args);
  const shape = perm.map((axis) => x.shape[axis] as number);
  const out = values instanceof Float32Array ? backend.allocFloats(size) : new Int32Array(size);
  theAddon().transpose(values, out, Int32Array.from(x.shape), Int32Array.from(perm));
  return backend.makeTensorInfo(shape, x.dtype, out);
};

const BINARY_CODES = { add: 0, sub: 1, mul: 2, div: 3 } as const;

function unaryKernel(
  name: typeof Relu | typeof Step | typeof Square | typeof Neg | typeof Rsqrt,
  op: 0 | 1 | 2 | 3 | 4,
): KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as TensorInfo | undefined;
    const backend = args.backend as NativeBackend;
    if (x === undefined) throw new Error(`${name} needs input x`);
    if (!isFloat(x)) return cpuKernel(name)(args);
    const out = backend.allocFloats(util.sizeFromShape(x.shape));
    const alpha = name === Step ? ((args.attrs as { alpha?: number }).alpha ?? 0) : 0;
    if (out.length > 0) theAddon().unary(op, floatsOf(backend, x), out, alpha);
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  };
}

function binaryKernel(name: string, op: BinaryOp): KernelFunc {
  return (args) => {
    const a = args.inputs['a'] as TensorInfo | undefined;
    const b = args.inputs['b'] as TensorInfo | undefined;
    const backend = args.backend as NativeBackend;
    if (a === undefined || b === undefined) throw new Error(`${name} needs inputs a and b`);
    if (!isFloat(a, b)) return cpuKernel(name)(args);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const ka = broadcastKind(a.shape, shape);
    const kb = broadcastKind(b.shape, shape);
    // Both repeating (e.g. [C] op [1, C] into [N, C]) or a general broadcast: the cpu kernel's index mapping.
    if (ka === undefined || kb === undefined || (ka === 'tail' && kb === 'tail'))
      return cpuKernel(name)(args);
    const out = backend.allocFloats(util.sizeFromShape(shape));
    if (out.length > 0) theAddon().binary(BINARY_CODES[op], floatsOf(backend, a), floatsOf(backend, b), out);
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

const padV2: KernelFunc = (args) => {
  const { x } = args.inputs as { x?: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as {
    paddings: [number, number][];
    constantValue: number;
  };
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('PadV2 needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(PadV2)(args);
  const shape = x.shape.map((d, i) => (paddings[i]?.[0] ?? 0) + d + (paddings[i]?.[1] ?? 0));
  const size = util.sizeFromShape(shape);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(size)
      : (util.getTypedArrayFromDType(x.dtype, size) as TypedArray);
  // A reused array holds old values, so the pad value is always written.
  out.fill(constantValue);
  if (util.sizeFromShape(x.shape) > 0)
    padInto(
      valuesOf(backend, x),
      x.shape,
      paddings.map((p) => p[0]),
      out,
      shape,
    );
  return backend.makeTensorInfo(shape, x.dtype, out);
};

/** netspec's SCALED_ADD_KERNEL: x + alpha * y over float32 tensors of one size, the SGD update in one pass. */
const scaledAdd: KernelFunc = (args) => {
  const { x, y } = args.inputs as { x?: TensorInfo; y?: TensorInfo };
  const { alpha } = args.attrs as { alpha?: number };
  const backend = args.backend as NativeBackend;
  if (x === undefined || y === undefined || typeof alpha !== 'number')
    throw new Error(`${SCALED_ADD_KERNEL} needs inputs x and y and a number alpha`);
  const size = util.sizeFromShape(x.shape);
  if (!isFloat(x, y) || util.sizeFromShape(y.shape) !== size)
    throw new Error(`${SCALED_ADD_KERNEL} needs float32 x and y of one size`);
  const out = backend.allocFloats(size);
  if (size > 0) theAddon().scaledAdd(floatsOf(backend, x), floatsOf(backend, y), alpha, out);
  return backend.makeTensorInfo([...x.shape], 'float32', out);
};

/** The kernels the native backend runs itself; every other kernel is the cpu backend's. */
export const NATIVE_KERNELS: ReadonlyMap<string, KernelFunc> = new Map<string, KernelFunc>([
  [Conv2D, conv2d],
  [FusedConv2D, fusedConv2d],
  [Conv2DBackpropInput, conv2dBackpropInput],
  [Conv2DBackpropFilter, conv2dBackpropFilter],
  [BatchMatMul, batchMatMul],
  [_FusedMatMul, fusedMatMul],
  [Tile, tile],
  [Slice, slice],
  [Sum, reduceKernel(Sum)],
  [Mean, reduceKernel(Mean)],
  [MaxPoolGrad, maxPoolGrad],
  [AvgPoolGrad, avgPoolGrad],
  [Transpose, transpose],
  [Add, binaryKernel(Add, 'add')],
  [Sub, binaryKernel(Sub, 'sub')],
  [Multiply, binaryKernel(Multiply, 'mul')],
  [RealDiv, binaryKernel(RealDiv, 'div')],
  [PadV2, padV2],
  [MaxPool, poolKernel(MaxPool, 0)],
  [AvgPool, poolKernel(AvgPool, 1)],
  [FusedBatchNorm, batchNorm],
  [Relu, unaryKernel(Relu, 0)],
  [Step, unaryKernel(Step, 1)],
  [Square, unaryKernel(Square, 2)],
  [Neg, unaryKernel(Neg, 3)],
  [Rsqrt, unaryKernel(Rsqrt, 4)],
]);

/**
 * A cpu kernel whose outputs never share memory with its inputs: an output that views an input's buffer (the
 * cpu Slice returns subarrays, and Split, Unpack, StridedSlice use it) gets its own copy, so that recycling the
 * input's array later cannot change it.
 */
function unshared(kernelFunc: KernelFunc): KernelFunc {
  return (args) => {
    const result = kernelFunc(args);
    const backend = args.backend as NativeBackend;
    const inputs = Object.values(args.inputs).filter((t): t is TensorInfo => t !== null && t !== undefined);
    for (const out of Array.isArray(result) ? result : [result]) {
      if (!backend.data.has(out.dataId) || inputs.some((t) => t.dataId === out.dataId)) continue;
      const entry = backend.data.get(out.dataId);
      const values = entry.values;
      if (!values || !ArrayBuffer.isView(values)) continue;
      const shares = inputs.some((t) => {
        const v = backend.data.has(t.dataId) ? backend.data.get(t.dataId).values : undefined;
        return v !== undefined && ArrayBuffer.isView(v) && v.buffer === values.buffer;
      });
      if (shares) entry.values = (values as TypedArray).slice();
    }
    return result;
  };
}

let registered = false;

/** Registers the 'native' backend and its kernels (once); the addon must load first. */
export function registerNativeBackend(): void {
  if (registered) return;
  if (getKernelsForBackend('cpu').length === 0) throw new Error('tfjs-backend-cpu is not loaded');
  registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  for (const config of getKernelsForBackend('cpu')) {
    const own = NATIVE_KERNELS.get(config.kernelName);
    registerKernel({
      ...config,
      backendName: NATIVE_BACKEND,
      kernelFunc: own ?? unshared(config.kernelFunc),
    });
  }
  registerKernel({ kernelName: SCALED_ADD_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: scaledAdd });
  registered = true;
}

/** The hook selectBackend uses for 'native': loads the addon and registers the backend, or says why not. */
export const nativeBackendHook: NativeBackendHook = {
  name: NATIVE_BACKEND,
  async load() {
    const loaded = loadNativeAddon();
    if (typeof loaded === 'string') return loaded;
    registerNativeBackend();
    return undefined;
  },
  describe: () => nativeBackendInfo(),
};

/** One line on what the native backend runs on (oneDNN version, threads). */
export function nativeBackendInfo(): string {
  const loaded = loadNativeAddon();
  return typeof loaded === 'string' ? loaded : loaded.info();
}

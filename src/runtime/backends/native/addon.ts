/**
 * The C++ addon (native/src, built by native/build.mjs): where it is, what it exports, and loading it once per
 * process with the thread count and OpenMP spinning netspec wants. The kernels reach it through {@link theAddon}.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build puts the addon; the same relative path works from src/ and from dist/. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../../../native/build/netspec_native.node', import.meta.url),
);

/** What the C++ addon exports (native/src/netspec_native.cc). */
export interface NativeAddon {
  /**
   * kind 0: dst = activation(conv(src, weights) + bias); 1: src = input gradient of dst; 2: weights = filter
   * gradient. dims: N, H, W, Ci, Co, kh, kw, Ho, Wo, strides, dilations (1 = dense), padTop, padLeft, groups
   * (the filter is [kh, kw, Ci / groups, Co]; a depthwise one has groups = Ci). bias (Co
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
  /**
   * out = a op b (0 add, 1 sub, 2 mul, 3 div, 4 minimum, 5 maximum as Math.min/max); one operand out-sized, the
   * other too, or a block that repeats (`spread` 1, the default), or with each element serving `spread`
   * consecutive outputs.
   */
  binary(
    op: 0 | 1 | 2 | 3 | 4 | 5,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    spread?: number,
  ): void;
  /** out = 1 where a op b (0 greater, 1 greater-or-equal, 2 less, 3 less-or-equal), else 0; operands as binary's. */
  compare(op: 0 | 1 | 2 | 3, a: Float32Array, b: Float32Array, out: Uint8Array, spread?: number): void;
  /** out = relu(x) (op 0), step(x, alpha) (1), x * x (2), -x (3), 1 / sqrt(x) (4), exp (5), log (6); NaN kept. */
  unary(op: 0 | 1 | 2 | 3 | 4 | 5 | 6, x: Float32Array, out: Float32Array, alpha: number): void;
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
   * Training-mode batch normalization of x viewed as [rows, C] (C = mean.length): writes the batch mean, biased
   * variance, rstd = 1 / sqrt(variance + epsilon) and y = (x - mean) * gamma * rstd + beta (gamma and beta both
   * null: no affine transform).
   */
  batchNormTraining(
    x: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    epsilon: number,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    rstd: Float32Array,
  ): void;
  /** The gradient of batchNormTraining's y: writes dx, and dgamma, dbeta when gamma is given (else all three null). */
  batchNormTrainingGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    gamma: Float32Array | null,
    dx: Float32Array,
    dgamma: Float32Array | null,
    dbeta: Float32Array | null,
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

/** The addon loaded from {@link NATIVE_ADDON_PATH}, or undefined before the first successful load. */
export function loadedNativeAddon(): NativeAddon | undefined {
  return addon;
}

/** The loaded addon, for kernels (which run only on a backend registered after it loaded). */
export function theAddon(): NativeAddon {
  if (addon === undefined) throw new Error('the native addon is not loaded');
  return addon;
}

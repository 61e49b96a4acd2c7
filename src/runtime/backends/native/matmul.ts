/** Matrix products on oneDNN (native/src/matmul.cc): BatchMatMul and the dense layer's _FusedMatMul. */
import { _FusedMatMul, BatchMatMul, util } from '@tensorflow/tfjs-core';
import type {
  _FusedMatMulAttrs,
  _FusedMatMulInputs,
  BatchMatMulAttrs,
  BatchMatMulInputs,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, floatsOf, isFloat } from './support.js';

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

/** BatchMatMul on oneDNN (one batch against many, or equal batch shapes). */
export const batchMatMul: KernelFunc = (args) => {
  const { a, b } = args.inputs as BatchMatMulInputs;
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as NativeBackend;
  if (a === undefined || b === undefined) throw new Error('BatchMatMul needs inputs a and b');
  const done = matMulOf(backend, a, b, transposeA, transposeB);
  if (done === undefined) return cpuKernel(BatchMatMul)(args);
  return backend.makeTensorInfo(done.shape, 'float32', done.c);
};

/** A dense layer's product, bias (N values along the last axis) and relu or no activation; else the cpu kernel. */
export const fusedMatMul: KernelFunc = (args) => {
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

/**
 * Elementwise arithmetic and column sums in the addon's OpenMP loops (native/src/elementwise.cc), and netspec's
 * own SCALED_ADD_KERNEL.
 */
import { backend_util, Mean, Step, util } from '@tensorflow/tfjs-core';
import type { Exp, Log, Neg, Relu, Rsqrt, Square, Sum } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { broadcastKind, leadingAxes, type BinaryOp } from '../array-kernels.js';
import { SCALED_ADD_KERNEL } from '../names.js';
import { theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, floatsOf, isFloat } from './support.js';

const BINARY_CODES = { add: 0, sub: 1, mul: 2, div: 3, minimum: 4, maximum: 5 } as const;

/** The addon's compare `op` of each comparison kernel. */
const COMPARE_CODES = { Greater: 0, GreaterEqual: 1, Less: 2, LessEqual: 3 } as const;

/** Relu, Step, Square, Neg, Rsqrt, Exp or Log (the addon's unary `op`) on float32; else the cpu kernel. */
export function unaryKernel(
  name: typeof Relu | typeof Step | typeof Square | typeof Neg | typeof Rsqrt | typeof Exp | typeof Log,
  op: 0 | 1 | 2 | 3 | 4 | 5 | 6,
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

/**
 * How many consecutive outputs each element of `shape` serves when, padded with leading 1s to the output's rank,
 * it equals the leading axes of `outShape` and is 1 on the rest ([N, 1] against [N, K]: K); else undefined.
 */
function spreadOver(shape: readonly number[], outShape: readonly number[]): number | undefined {
  const padded = [...Array<number>(Math.max(0, outShape.length - shape.length)).fill(1), ...shape];
  if (padded.length !== outShape.length) return undefined;
  let k = 0;
  while (k < padded.length && padded[k] === outShape[k]) k++;
  if (k === 0 || padded.slice(k).some((d) => d !== 1)) return undefined;
  return util.sizeFromShape(outShape.slice(k));
}

/**
 * A binary kernel's float32 operands, output shape and the addon's `spread` when the addon takes them: one operand
 * full, the other full, repeating as a block (spread 1) or spread over the trailing axes; undefined otherwise (the
 * cpu kernel's index mapping then runs).
 */
function addonOperands(
  args: Parameters<KernelFunc>[0],
  name: string,
): { a: TensorInfo; b: TensorInfo; shape: number[]; spread: number } | undefined {
  const a = args.inputs['a'] as TensorInfo | undefined;
  const b = args.inputs['b'] as TensorInfo | undefined;
  if (a === undefined || b === undefined) throw new Error(`${name} needs inputs a and b`);
  if (!isFloat(a, b)) return undefined;
  const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const ka = broadcastKind(a.shape, shape);
  const kb = broadcastKind(b.shape, shape);
  if (ka === 'full' && kb === 'full') return { a, b, shape, spread: 1 };
  // One full operand, the other a block that repeats (per-channel vectors, scalars) or spreads (row statistics).
  const small = ka === 'full' ? b : kb === 'full' ? a : undefined;
  if (small === undefined) return undefined;
  if ((small === a ? ka : kb) === 'tail') return { a, b, shape, spread: 1 };
  const spread = spreadOver(small.shape, shape);
  return spread === undefined ? undefined : { a, b, shape, spread };
}

/**
 * Add, Sub, Multiply, RealDiv, Minimum or Maximum with one full operand and the other full, repeating or spread
 * (see addonOperands); else the cpu kernel.
 */
export function binaryKernel(name: string, op: BinaryOp | 'minimum' | 'maximum'): KernelFunc {
  return (args) => {
    const operands = addonOperands(args, name);
    if (operands === undefined) return cpuKernel(name)(args);
    const { a, b, shape, spread } = operands;
    const backend = args.backend as NativeBackend;
    const out = backend.allocFloats(util.sizeFromShape(shape));
    if (out.length > 0)
      theAddon().binary(BINARY_CODES[op], floatsOf(backend, a), floatsOf(backend, b), out, spread);
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

/**
 * Greater, GreaterEqual, Less or LessEqual (bool out) on float32 operands laid out as for {@link binaryKernel};
 * else the cpu kernel. Minimum's and Maximum's gradients run them on every activation (ReLU6 is tfjs-layers'
 * minimum(6, relu(x))), where the cpu kernel's scalar broadcast costs ~30 ns an element.
 */
export function compareKernel(name: keyof typeof COMPARE_CODES): KernelFunc {
  return (args) => {
    const operands = addonOperands(args, name);
    if (operands === undefined) return cpuKernel(name)(args);
    const { a, b, shape, spread } = operands;
    const backend = args.backend as NativeBackend;
    const out = new Uint8Array(util.sizeFromShape(shape));
    if (out.length > 0)
      theAddon().compare(COMPARE_CODES[name], floatsOf(backend, a), floatsOf(backend, b), out, spread);
    return backend.makeTensorInfo(shape, 'bool', out);
  };
}

/** Sum or Mean of float32 over leading axes as column sums; other reductions run the cpu kernel. */
export function reduceKernel(name: typeof Sum | typeof Mean): KernelFunc {
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

/** netspec's SCALED_ADD_KERNEL: x + alpha * y over float32 tensors of one size, the SGD update in one pass. */
export const scaledAdd: KernelFunc = (args) => {
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

/** Max and average pooling and their gradients in the addon's loops (native/src/pool.cc). */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { AvgPool, MaxPool } from '@tensorflow/tfjs-core';
import { AvgPoolGrad, MaxPoolGrad } from '@tensorflow/tfjs-core';
import type {
  AvgPoolAttrs,
  AvgPoolGradInputs,
  KernelFunc,
  MaxPoolAttrs,
  MaxPoolGradAttrs,
  MaxPoolGradInputs,
  AvgPoolGradAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, floatsOf, isFloat } from './support.js';

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

/** MaxPool (op 0) or AvgPool (op 1), NHWC float32; the identity window and other cases run the cpu kernel. */
export function poolKernel(name: typeof MaxPool | typeof AvgPool, op: 0 | 1): KernelFunc {
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

/** MaxPoolGrad: dy to the first row-major maximum of each window, as the cpu kernel does. */
export const maxPoolGrad = poolGradKernel(MaxPoolGrad, (input, dy, dx, dims) =>
  theAddon().maxPoolGrad(input, dy, dx, dims),
);
/** AvgPoolGrad: dy spread over each window, divided by the whole window size. */
export const avgPoolGrad = poolGradKernel(AvgPoolGrad, (_input, dy, dx, dims) =>
  theAddon().avgPoolGrad(dy, dx, dims),
);

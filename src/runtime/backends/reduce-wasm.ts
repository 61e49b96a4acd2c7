/**
 * Sum and Mean for the wasm backend when the reduced axes are the leading ones (a float32 [rows, channels] view
 * summed down its columns): what BatchNorm's statistics and gradients ask for on NHWC tensors (axes 0, 1, 2).
 * tfjs-backend-wasm reduces only innermost axes, so it first transposes the whole tensor to put the channels
 * first; here the rows are added into per-channel float64 accumulators in one pass. Every other reduction goes
 * to the built-in kernel.
 */
import { backend_util, Mean, Sum, util } from '@tensorflow/tfjs-core';
import { leadingAxes, sumLeadingRows } from './array-kernels.js';
import { builtinWasmKernel, heapFloat32, replaceWasmKernel, WASM_BACKEND } from './wasm-heap.js';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

function makeReduce(kernelName: typeof Sum | typeof Mean): KernelFunc {
  return (args) => {
    const x = args.inputs['x'] as TensorInfo | undefined;
    const { axis, keepDims } = args.attrs as NamedAttrMap & { axis: number | number[]; keepDims: boolean };
    if (x === undefined) throw new Error(`${kernelName} needs input x`);
    const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : undefined;
    if (k === undefined || util.sizeFromShape(x.shape) === 0) {
      const builtin = builtinWasmKernel(kernelName);
      if (builtin === undefined)
        throw new Error(`the ${WASM_BACKEND} backend has no built-in '${kernelName}' kernel`);
      return builtin.kernelFunc(args);
    }
    const backend = args.backend as WasmHeapBackend;
    const rows = util.sizeFromShape(x.shape.slice(0, k));
    const colShape = x.shape.slice(k);
    const outShape = keepDims ? backend_util.expandShapeToKeepDim(colShape, [...Array(k).keys()]) : colShape;
    const out = backend.makeOutput(outShape, 'float32');
    sumLeadingRows(
      heapFloat32(backend, x),
      rows,
      util.sizeFromShape(colShape),
      heapFloat32(backend, out),
      kernelName === Mean ? 1 / rows : 1,
    );
    return out;
  };
}

/** The Sum kernel function. */
export const sumWasm: KernelFunc = makeReduce(Sum);
/** The Mean kernel function. */
export const meanWasm: KernelFunc = makeReduce(Mean);

/** Replaces wasm's own Sum and Mean (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmReductions(): boolean {
  const sum = replaceWasmKernel(Sum, sumWasm);
  const mean = replaceWasmKernel(Mean, meanWasm);
  return sum || mean;
}

/**
 * MaxPoolGrad for the wasm backend: each output pixel's gradient goes to the first (row-major) largest input of
 * its window, as the cpu backend decides it. Written over whole channel rows in the wasm heap, where
 * tfjs-backend-wasm's own kernel walks every input pixel and every window that could hold it.
 */
import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs-core';
import { maxPoolGradInto } from './array-kernels.js';
import { heapFloat32, replaceWasmKernel } from './wasm-heap.js';
import type { KernelFunc, MaxPoolGradAttrs, MaxPoolGradInputs } from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

/** The kernel function (NHWC float32, no dilation: what tfjs's maxPool gradient produces). */
export const maxPoolGradWasm: KernelFunc = ({ inputs, backend: kernelBackend, attrs }) => {
  const { dy, input } = inputs as MaxPoolGradInputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  if (dy === undefined || input === undefined) throw new Error('MaxPoolGrad needs inputs dy and input');
  if (dy.dtype !== 'float32' || input.dtype !== 'float32')
    throw new Error('wasm MaxPoolGrad supports float32 only');
  const backend = kernelBackend as WasmHeapBackend;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const out = backend.makeOutput([n, h, w, c], 'float32');
  maxPoolGradInto(heapFloat32(backend, input), heapFloat32(backend, dy), heapFloat32(backend, out), info);
  return out;
};

/** Replaces wasm's own MaxPoolGrad with this one (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmMaxPoolGrad(): boolean {
  return replaceWasmKernel(MaxPoolGrad, maxPoolGradWasm);
}

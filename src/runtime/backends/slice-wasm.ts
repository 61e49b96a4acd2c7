/**
 * Slice for the wasm backend as copies of contiguous runs inside the wasm heap. tfjs-backend-wasm's Slice first
 * copies the whole input out of the heap and then moves a few elements at a time; the gradient of every
 * ZeroPadding2D (the padding ResNet's convolutions use) is such a slice of a large activation gradient.
 * Here the trailing dimensions that are taken whole merge into one run, and each run is one copyWithin-like
 * `set` between heap views. String tensors go to the built-in kernel.
 */
import { Slice, slice_util, util } from '@tensorflow/tfjs-core';
import { sliceInto } from './array-kernels.js';
import { builtinWasmKernel, replaceWasmKernel } from './wasm-heap.js';
import type { KernelFunc, SliceAttrs, SliceInputs } from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

/** The kernel function. */
export const sliceWasm: KernelFunc = (args) => {
  const { x } = args.inputs as SliceInputs;
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  if (x === undefined) throw new Error('Slice needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    // wasm's own kernel, kept when it was replaced, handles strings.
    const builtin = builtinWasmKernel(Slice);
    if (builtin === undefined) throw new Error(`wasm Slice does not support ${x.dtype}`);
    return builtin.kernelFunc(args);
  }
  const [begin_, size_] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x, begin_, size_);
  const backend = args.backend as WasmHeapBackend;
  const out = backend.makeOutput(size_, x.dtype);
  if (util.sizeFromShape(size_) > 0)
    sliceInto(backend.typedArrayFromHeap(x), x.shape, begin_, size_, backend.typedArrayFromHeap(out));
  return out;
};

/** Replaces wasm's own Slice with this one (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmSlice(): boolean {
  return replaceWasmKernel(Slice, sliceWasm);
}

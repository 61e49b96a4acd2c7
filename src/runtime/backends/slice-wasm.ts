/**
 * Slice for the wasm backend as copies of contiguous runs inside the wasm heap. tfjs-backend-wasm's Slice first
 * copies the whole input out of the heap and then moves a few elements at a time; the gradient of every
 * ZeroPadding2D (the padding ResNet's convolutions use) is such a slice of a large activation gradient.
 * Here the trailing dimensions that are taken whole merge into one run, and each run is one copyWithin-like
 * `set` between heap views. String tensors go to the built-in kernel.
 */
import { getKernel, registerKernel, Slice, slice_util, unregisterKernel, util } from '@tensorflow/tfjs-core';
import { sliceInto } from './array-kernels.js';
import type {
  DataType,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  SliceAttrs,
  SliceInputs,
  TensorInfo,
  TypedArray,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): TypedArray;
}

/** wasm's own kernel, kept when it is replaced: strings. */
let builtin: KernelConfig | undefined;

/** The kernel function. */
export const sliceWasm: KernelFunc = (args) => {
  const { x } = args.inputs as SliceInputs;
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  if (x === undefined) throw new Error('Slice needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') {
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

/** Kernel config registered by {@link registerWasmSlice}. */
export const sliceWasmConfig: KernelConfig = {
  kernelName: Slice,
  backendName: BACKEND,
  kernelFunc: sliceWasm,
};

/** Replaces wasm's own Slice with this one (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmSlice(): boolean {
  const current = getKernel(Slice, BACKEND);
  if (current?.kernelFunc === sliceWasm) return false;
  if (current !== undefined) {
    builtin = current;
    unregisterKernel(Slice, BACKEND);
  }
  const setupFunc = builtin?.setupFunc;
  registerKernel({ ...sliceWasmConfig, ...(setupFunc ? { setupFunc } : {}) });
  return true;
}

/**
 * What netspec's wasm kernels share: the view of tfjs-backend-wasm's backend they write through (tensors as views
 * of the wasm heap), running another wasm kernel from inside one, and installing a replacement for a built-in
 * kernel while keeping the built-in (for the cases a replacement hands back, and to put it back).
 */
import { findBackend, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type {
  DataType,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
  TypedArray,
} from '@tensorflow/tfjs-core';

/** The backend name the kernels here are registered for. */
export const WASM_BACKEND = 'wasm';

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use (its class type drags in emscripten typings). */
export interface WasmHeapBackend extends KernelBackend {
  /** Allocates a tensor in the wasm heap; growing the heap detaches every view taken before. */
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view of the tensor's bytes in the heap, typed by its dtype (float32 → Float32Array). */
  typedArrayFromHeap(info: TensorInfo): TypedArray;
}

/** The Float32Array view of a float32 tensor in the wasm heap. */
export function heapFloat32(backend: WasmHeapBackend, info: TensorInfo): Float32Array {
  // Callers check dtypes up front; this keeps a wrong one from being read as floats silently.
  if (info.dtype !== 'float32')
    throw new Error(`expected a float32 tensor in the wasm heap, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Runs another kernel registered for wasm, as tfjs-backend-wasm's own kernels compose. */
export function runWasmKernel(
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: KernelBackend,
): TensorInfo {
  const kernel = getKernel(name, WASM_BACKEND);
  if (kernel === undefined) throw new Error(`the ${WASM_BACKEND} backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs where one was expected`);
  return out;
}

/** The wasm kernels that netspec's replaced, by kernel name. */
const builtins = new Map<string, KernelConfig>();

/** The built-in wasm kernel that {@link replaceWasmKernel} took the place of, if any. */
export function builtinWasmKernel(kernelName: string): KernelConfig | undefined {
  return builtins.get(kernelName);
}

/**
 * Registers `kernelFunc` for wasm in place of the kernel there (tfjs keeps one kernel per name and backend, so
 * that one is unregistered and kept). Call after tfjs-backend-wasm is imported. Returns true when this call
 * installed it, false when it already was.
 */
export function replaceWasmKernel(kernelName: string, kernelFunc: KernelFunc): boolean {
  const current = getKernel(kernelName, WASM_BACKEND);
  if (current?.kernelFunc === kernelFunc) return false;
  if (current !== undefined) {
    builtins.set(kernelName, current);
    unregisterKernel(kernelName, WASM_BACKEND);
  }
  // The built-in's setup (binding its C++ function) still has to run when the backend initialises, or falling
  // back to it fails.
  const setupFunc = builtins.get(kernelName)?.setupFunc;
  registerKernel({ kernelName, backendName: WASM_BACKEND, kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
  return true;
}

/** Puts back the built-in kernel that `kernelFunc` replaced; true when it did (not replaced: false). */
export function restoreWasmKernel(kernelName: string, kernelFunc: KernelFunc): boolean {
  const builtin = builtins.get(kernelName);
  if (getKernel(kernelName, WASM_BACKEND)?.kernelFunc !== kernelFunc || builtin === undefined) return false;
  unregisterKernel(kernelName, WASM_BACKEND);
  registerKernel(builtin);
  // Its setup runs at backend initialisation, which may have happened before it was registered again.
  const backend = findBackend(WASM_BACKEND);
  if (backend !== null) builtin.setupFunc?.(backend);
  return true;
}

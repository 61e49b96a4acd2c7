/** What the native kernels share: typed views of a tensor's storage, dtype checks, and the cpu fallback. */
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './backend.js';

/** The values tfjs stores for `t` on this backend, as they are (no copy). */
export function valuesOf(backend: MathBackendCPU, t: TensorInfo): TypedArray {
  return backend.data.get(t.dataId).values as TypedArray;
}

/** `t`'s values as float32: the stored array itself when it is one, else a converted copy. */
export function floatsOf(backend: NativeBackend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/** The cpu backend's kernel of the same name, run on this backend (they share the storage). */
export function cpuKernel(name: string): KernelFunc {
  const kernel = getKernel(name, 'cpu');
  if (kernel === undefined) throw new Error(`tfjs-backend-cpu has no '${name}' kernel`);
  return kernel.kernelFunc;
}

/** True when every tensor is float32, the one dtype the addon's arithmetic takes. */
export function isFloat(...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32');
}

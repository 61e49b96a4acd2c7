/** Transpose in the addon (native/src/transpose.cc): tiled or gathered moves of 4-byte elements. */
import { Transpose, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo, TransposeAttrs } from '@tensorflow/tfjs-core';
import { theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, valuesOf } from './support.js';

/** Transpose of any 4-byte dtype in the addon; others and empty tensors run the cpu kernel. */
export const transpose: KernelFunc = (args) => {
  const x = args.inputs['x'] as TensorInfo | undefined;
  const { perm } = args.attrs as unknown as TransposeAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Transpose needs input x');
  const values = valuesOf(backend, x);
  const size = util.sizeFromShape(x.shape);
  if (!(values instanceof Float32Array || values instanceof Int32Array) || size === 0)
    return cpuKernel(Transpose)(args);
  const shape = perm.map((axis) => x.shape[axis] as number);
  const out = values instanceof Float32Array ? backend.allocFloats(size) : new Int32Array(size);
  theAddon().transpose(values, out, Int32Array.from(x.shape), Int32Array.from(perm));
  return backend.makeTensorInfo(shape, x.dtype, out);
};

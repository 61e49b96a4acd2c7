/**
 * Tile, Slice and PadV2 as block copies (array-kernels.ts, in JavaScript: no addon call), writing into the
 * backend's recycled arrays.
 */
import { PadV2, Slice, slice_util, Tile, util } from '@tensorflow/tfjs-core';
import type {
  KernelFunc,
  SliceAttrs,
  SliceInputs,
  TensorInfo,
  TileAttrs,
  TileInputs,
  TypedArray,
} from '@tensorflow/tfjs-core';
import { padInto, sliceInto, tileInto } from '../array-kernels.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, valuesOf } from './support.js';

/** Tile as block copies (tileInto), into a recycled array for float32. */
export const tile: KernelFunc = (args) => {
  const { x } = args.inputs as TileInputs;
  const { reps } = args.attrs as unknown as TileAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Tile needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(Tile)(args);
  const shape = x.shape.map((d, i) => d * (reps[i] ?? 1));
  const src = valuesOf(backend, x);
  const size = util.sizeFromShape(shape);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(size)
      : (util.getTypedArrayFromDType(x.dtype, size) as TypedArray);
  if (out.length > 0) tileInto(src, x.shape, reps, out);
  return backend.makeTensorInfo(shape, x.dtype, out);
};

/** Slice as block copies (sliceInto) into an array of its own, never a view of the input. */
export const slice: KernelFunc = (args) => {
  const { x } = args.inputs as SliceInputs;
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('Slice needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(Slice)(args);
  const [begin_, size_] = slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x, begin_, size_);
  const count = util.sizeFromShape(size_);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(count)
      : (util.getTypedArrayFromDType(x.dtype, count) as TypedArray);
  if (out.length > 0) sliceInto(valuesOf(backend, x), x.shape, begin_, size_, out);
  return backend.makeTensorInfo(size_, x.dtype, out);
};

/** PadV2 as a fill then block copies (padInto). */
export const padV2: KernelFunc = (args) => {
  const { x } = args.inputs as { x?: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as {
    paddings: [number, number][];
    constantValue: number;
  };
  const backend = args.backend as NativeBackend;
  if (x === undefined) throw new Error('PadV2 needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64') return cpuKernel(PadV2)(args);
  const shape = x.shape.map((d, i) => (paddings[i]?.[0] ?? 0) + d + (paddings[i]?.[1] ?? 0));
  const size = util.sizeFromShape(shape);
  const out =
    x.dtype === 'float32'
      ? backend.allocFloats(size)
      : (util.getTypedArrayFromDType(x.dtype, size) as TypedArray);
  // A reused array holds old values, so the pad value is always written.
  out.fill(constantValue);
  if (util.sizeFromShape(x.shape) > 0)
    padInto(
      valuesOf(backend, x),
      x.shape,
      paddings.map((p) => p[0]),
      out,
      shape,
    );
  return backend.makeTensorInfo(shape, x.dtype, out);
};

/**
 * Convolutions on oneDNN (native/src/conv2d.cc): forward, fused forward, and both gradients, dense and depthwise
 * (a grouped convolution with one group per input channel).
 */
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  FusedConv2D,
  util,
} from '@tensorflow/tfjs-core';
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  Conv2DInputs,
  DepthwiseConv2dNativeAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropFilterInputs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropInputInputs,
  DepthwiseConv2dNativeInputs,
  FusedConv2DAttrs,
  FusedConv2DInputs,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { ACTIVATION_CODES, theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, floatsOf, isFloat } from './support.js';

/**
 * The addon's dims for a convolution (it derives the far padding from the output size), or undefined. A depthwise
 * convolution has one group per input channel: tfjs's [kh, kw, C, multiplier] filter is the addon's grouped
 * [kh, kw, 1, C * multiplier].
 */
function convDims(info: backend_util.Conv2DInfo, depthwise: boolean): Int32Array | undefined {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
  const { outHeight, outWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = info;
  if (padInfo.top < 0 || padInfo.left < 0) return undefined;
  return Int32Array.from([
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padInfo.top,
    padInfo.left,
    depthwise ? inChannels : 1,
  ]);
}

/**
 * The geometry of a channels-last convolution and the addon's dims for it, or undefined when the addon does not
 * take it (another layout or rank, negative padding): the kernel then runs the cpu one.
 */
function nativeConvGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<Conv2DAttrs, 'strides' | 'pad' | 'dimRoundingMode'> & {
    dataFormat?: Conv2DAttrs['dataFormat'];
    dilations?: Conv2DAttrs['dilations'];
  },
  depthwise = false,
): { info: backend_util.Conv2DInfo; dims: Int32Array } | undefined {
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  if (format !== 'channelsLast' || inputShape.length !== 4 || filterShape.length !== 4) return undefined;
  const info = backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    format,
  );
  const dims = convDims(info, depthwise);
  return dims === undefined ? undefined : { info, dims };
}

/** Native convolution forward; undefined when it does not apply. */
function convForward(
  backend: NativeBackend,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs | DepthwiseConv2dNativeAttrs,
  epilogue: { bias: Float32Array | null; activation: number; alpha: number } = {
    bias: null,
    activation: 0,
    alpha: 0,
  },
  depthwise = false,
): { info: backend_util.Conv2DInfo; out: Float32Array } | undefined {
  const geometry = isFloat(x, filter)
    ? nativeConvGeometry(x.shape, filter.shape, attrs, depthwise)
    : undefined;
  if (geometry === undefined || util.sizeFromShape(geometry.info.outShape) === 0) return undefined;
  const { info, dims } = geometry;
  const out = backend.allocFloats(util.sizeFromShape(info.outShape));
  const { bias, activation, alpha } = epilogue;
  const key = filter.dtype === 'float32' ? backend.weightsKey(filter.dataId) : 0;
  theAddon().conv2d(
    0,
    floatsOf(backend, x),
    floatsOf(backend, filter),
    out,
    dims,
    bias,
    activation,
    alpha,
    key,
  );
  return { info, out };
}

/** Conv2D on oneDNN for float32 NHWC; other cases run the cpu kernel. */
export const conv2d: KernelFunc = (args) => {
  const { x, filter } = args.inputs as Conv2DInputs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || filter === undefined) throw new Error('Conv2D needs inputs x and filter');
  const done = convForward(backend, x, filter, args.attrs as unknown as Conv2DAttrs);
  if (done === undefined) return cpuKernel(Conv2D)(args);
  return backend.makeTensorInfo(done.info.outShape, 'float32', done.out);
};

/** FusedConv2D with a per-channel bias and an activation of {@link ACTIVATION_CODES} fused into oneDNN. */
export const fusedConv2d: KernelFunc = (args) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as FusedConv2DInputs;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || filter === undefined) throw new Error('FusedConv2D needs inputs x and filter');
  const activation = ACTIVATION_CODES.get(attrs.activation ?? 'linear');
  const co = filter.shape[3] ?? 0;
  // A bias of Co values along the last axis ([Co], [1, 1, 1, Co]); other broadcasts go to the cpu kernel.
  const simpleBias =
    bias === undefined ||
    bias === null ||
    (bias.shape[bias.shape.length - 1] === co && util.sizeFromShape(bias.shape) === co);
  if (activation === undefined || preluActivationWeights || !simpleBias || (bias && !isFloat(bias)))
    return cpuKernel(FusedConv2D)(args);
  const done = convForward(backend, x, filter, attrs, {
    bias: bias ? floatsOf(backend, bias) : null,
    activation,
    alpha: attrs.leakyreluAlpha ?? 0.2,
  });
  if (done === undefined) return cpuKernel(FusedConv2D)(args);
  return backend.makeTensorInfo(done.info.outShape, 'float32', done.out);
};

/** Conv2DBackpropInput (the input gradient) on oneDNN's backward-data primitive. */
export const conv2dBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as Conv2DBackpropInputInputs;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const backend = args.backend as NativeBackend;
  if (dy === undefined || filter === undefined)
    throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const geometry = isFloat(dy, filter)
    ? nativeConvGeometry(attrs.inputShape, filter.shape, attrs)
    : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.inputShape) === 0)
    return cpuKernel(Conv2DBackpropInput)(args);
  const { dims } = geometry;
  const dx = backend.allocFloats(util.sizeFromShape(attrs.inputShape));
  theAddon().conv2d(1, dx, floatsOf(backend, filter), floatsOf(backend, dy), dims);
  return backend.makeTensorInfo([...attrs.inputShape], 'float32', dx);
};

/** Conv2DBackpropFilter (the filter gradient) on oneDNN's backward-weights primitive. */
export const conv2dBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as Conv2DBackpropFilterInputs;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const geometry = isFloat(x, dy) ? nativeConvGeometry(x.shape, attrs.filterShape, attrs) : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.filterShape) === 0)
    return cpuKernel(Conv2DBackpropFilter)(args);
  const { dims } = geometry;
  const dw = backend.allocFloats(util.sizeFromShape(attrs.filterShape));
  theAddon().conv2d(2, floatsOf(backend, x), dw, floatsOf(backend, dy), dims);
  return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
};

/** DepthwiseConv2dNative on oneDNN's grouped convolution (one group per channel), float32 NHWC. */
export const depthwiseConv2d: KernelFunc = (args) => {
  const { x, filter } = args.inputs as DepthwiseConv2dNativeInputs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || filter === undefined)
    throw new Error('DepthwiseConv2dNative needs inputs x and filter');
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeAttrs;
  const done = convForward(backend, x, filter, attrs, undefined, true);
  if (done === undefined) return cpuKernel(DepthwiseConv2dNative)(args);
  return backend.makeTensorInfo(done.info.outShape, 'float32', done.out);
};

/** DepthwiseConv2dNativeBackpropInput on oneDNN's grouped backward-data primitive. */
export const depthwiseConv2dBackpropInput: KernelFunc = (args) => {
  const { dy, filter } = args.inputs as DepthwiseConv2dNativeBackpropInputInputs;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const backend = args.backend as NativeBackend;
  if (dy === undefined || filter === undefined)
    throw new Error('DepthwiseConv2dNativeBackpropInput needs inputs dy and filter');
  const geometry = isFloat(dy, filter)
    ? nativeConvGeometry(attrs.inputShape, filter.shape, attrs, true)
    : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.inputShape) === 0)
    return cpuKernel(DepthwiseConv2dNativeBackpropInput)(args);
  const dx = backend.allocFloats(util.sizeFromShape(attrs.inputShape));
  theAddon().conv2d(1, dx, floatsOf(backend, filter), floatsOf(backend, dy), geometry.dims);
  return backend.makeTensorInfo([...attrs.inputShape], 'float32', dx);
};

/** DepthwiseConv2dNativeBackpropFilter on oneDNN's grouped backward-weights primitive. */
export const depthwiseConv2dBackpropFilter: KernelFunc = (args) => {
  const { x, dy } = args.inputs as DepthwiseConv2dNativeBackpropFilterInputs;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const backend = args.backend as NativeBackend;
  if (x === undefined || dy === undefined)
    throw new Error('DepthwiseConv2dNativeBackpropFilter needs inputs x and dy');
  const geometry = isFloat(x, dy) ? nativeConvGeometry(x.shape, attrs.filterShape, attrs, true) : undefined;
  if (geometry === undefined || util.sizeFromShape(attrs.filterShape) === 0)
    return cpuKernel(DepthwiseConv2dNativeBackpropFilter)(args);
  const dw = backend.allocFloats(util.sizeFromShape(attrs.filterShape));
  theAddon().conv2d(2, floatsOf(backend, x), dw, floatsOf(backend, dy), geometry.dims);
  return backend.makeTensorInfo([...attrs.filterShape], 'float32', dw);
};

/**
 * Conv2DBackpropFilter for the wasm backend, which ships without it (so conv layers cannot train there).
 *
 * The filter gradient is itself a convolution: with x NHWC [N, H, W, Ci] and dy [N, Ho, Wo, Co],
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xpad[n, oh*s + kh, ow*s + kw, ci] * dy[n, oh, ow, co].
 * Reading x as a batch of Ci single images with N channels ([Ci, H, W, N]) and dy as a filter
 * ([Ho, Wo, N, Co]), that sum is a forward Conv2D with stride 1 and dilation s, which the backend runs on
 * XNNPACK; its output [Ci, kh', kw', Co] is cropped to the filter size and transposed to [kh, kw, Ci, Co].
 * Only the backend's own registered kernels are used, and every intermediate is disposed before returning.
 */
import { backend_util, Conv2DBackpropFilter, getKernel, registerKernel } from '@tensorflow/tfjs-core';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

/** Runs another kernel registered for the same backend, as tfjs-backend-wasm's own kernels compose. */
function runKernel(
  name: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: KernelBackend,
): TensorInfo {
  const kernel = getKernel(name, BACKEND);
  if (kernel === undefined) throw new Error(`the ${BACKEND} backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`kernel '${name}' returned several outputs where one was expected`);
  return out;
}

function transpose(x: TensorInfo, perm: number[], backend: KernelBackend): TensorInfo {
  return runKernel('Transpose', { x }, { perm }, backend);
}

/** The kernel function; exported for tests that call it without the registry. */
export const conv2dBackpropFilterWasm: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as KernelBackend;
  const { x, dy } = inputs as Conv2DBackpropFilterInputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') {
    // The wasm Conv2D this relies on supports channelsLast only; tfjs-layers always feeds it NHWC.
    throw new Error(`wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const { padInfo, strideHeight, strideWidth, filterHeight, filterWidth, inChannels, outChannels } = info;

  const temps: TensorInfo[] = [];
  try {
    const xT = transpose(x, [3, 1, 2, 0], backend); // [Ci, H, W, N]
    temps.push(xT);
    const dyT = transpose(dy, [1, 2, 0, 3], backend); // [Ho, Wo, N, Co]
    temps.push(dyT);
    const explicitPad = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    const conv = runKernel(
      'Conv2D',
      { x: xT, filter: dyT },
      { strides: [1, 1], dilations: [strideHeight, strideWidth], pad: explicitPad, dataFormat: 'NHWC' },
      backend,
    );
    temps.push(conv);
    // With 'valid' padding and (H - kh) not a multiple of the stride, the last input rows/cols are never read by
    // the forward conv, so this conv yields extra positions past the filter size: they are dropped here.
    let cropped = conv;
    if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
      cropped = runKernel(
        'Slice',
        { x: conv },
        { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
        backend,
      );
      temps.push(cropped);
    }
    return transpose(cropped, [1, 2, 0, 3], backend); // [kh, kw, Ci, Co]
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
};

/** Kernel config registered by {@link registerWasmConv2DBackpropFilter}. */
export const conv2dBackpropFilterWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2dBackpropFilterWasm,
};

/** Registers the kernel for 'wasm' unless one is already there; returns true when this call registered it. */
export function registerWasmConv2DBackpropFilter(): boolean {
  if (getKernel(Conv2DBackpropFilter, BACKEND) !== undefined) return false;
  registerKernel(conv2dBackpropFilterWasmConfig);
  return true;
}

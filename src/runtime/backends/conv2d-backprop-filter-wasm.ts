/**
 * Conv2DBackpropFilter for the wasm backend, which ships without it (so conv layers cannot train there).
 *
 * With x NHWC [N, H, W, Ci] and dy [N, Ho, Wo, Co], the filter gradient is
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xpad[n, oh*s + kh, ow*s + kw, ci] * dy[n, oh, ow, co],
 * one matrix product of K = N*Ho*Wo terms. Two ways to hand it to XNNPACK are implemented:
 * - 'im2col' (the default): gather the patches into A^T [kh*kw*Ci, K] in the wasm heap, then one BatchMatMul
 *   A^T @ dy[K, Co], which the backend runs as an XNNPACK fully-connected operator; the result is already
 *   [kh, kw, Ci, Co]. Measured fastest or level on every ResNet18 layer shape (see the README).
 * - 'conv': read x as Ci images of N channels ([Ci, H, W, N]) and dy as a filter ([Ho, Wo, N, Co]): the sum is
 *   then a forward Conv2D with stride 1 and dilation s, cropped to kh x kw and transposed. Slower when Ci is
 *   small, but it needs no patch matrix, so it takes over when that matrix would be too large.
 * Only the backend's own registered kernels are called, and every intermediate is disposed before returning.
 */
import { backend_util, Conv2DBackpropFilter, getKernel, registerKernel } from '@tensorflow/tfjs-core';
import { heapFloat32, runWasmKernel, WASM_BACKEND } from './wasm-heap.js';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

/** Largest patch matrix (in floats, 256 MiB) the im2col strategy builds before falling back to 'conv'. */
export const IM2COL_MAX_FLOATS = 64 * 1024 * 1024;

/** How the filter gradient is computed; 'auto' picks im2col unless its patch matrix is too large. */
export type BackpropFilterStrategy = 'auto' | 'im2col' | 'conv';

function transpose(x: TensorInfo, perm: number[], backend: KernelBackend): TensorInfo {
  return runWasmKernel('Transpose', { x }, { perm }, backend);
}

/** A^T [kh*kw*Ci, K] @ dy [K, Co]. */
function viaIm2col(
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: WasmHeapBackend,
): TensorInfo {
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outChannels: co,
    outHeight: ho,
    outWidth: wo,
  } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const k = n * ho * wo;
  const rows = kh * kw * ci;
  // Allocate first: growing the wasm heap detaches every view taken before.
  const patches = backend.makeOutput([1, rows, k], 'float32');
  // dy is copied rather than reshaped in place: XNNPACK caches the packed right-hand operand under the tensor's
  // id (whatever shape it had then), so handing it the caller's dy could reuse a stale operator.
  const dyCopy = backend.makeOutput([1, k, co], 'float32');
  try {
    const xs = heapFloat32(backend, x);
    const at = heapFloat32(backend, patches);
    heapFloat32(backend, dyCopy).set(heapFloat32(backend, dy));
    for (let fy = 0; fy < kh; fy++) {
      for (let fx = 0; fx < kw; fx++) {
        for (let c = 0; c < ci; c++) {
          let o = ((fy * kw + fx) * ci + c) * k;
          for (let b = 0; b < n; b++) {
            for (let oy = 0; oy < ho; oy++) {
              const iy = oy * sh + fy - padInfo.top;
              if (iy < 0 || iy >= h) {
                at.fill(0, o, o + wo);
                o += wo;
                continue;
              }
              const row = (b * h + iy) * w;
              for (let ox = 0; ox < wo; ox++) {
                const ix = ox * sw + fx - padInfo.left;
                at[o++] = ix >= 0 && ix < w ? (xs[(row + ix) * ci + c] as number) : 0;
              }
            }
          }
        }
      }
    }
    const product = runWasmKernel(
      'BatchMatMul',
      { a: patches, b: dyCopy },
      { transposeA: false, transposeB: false },
      backend,
    );
    return { dataId: product.dataId, shape: [kh, kw, ci, co], dtype: 'float32' };
  } finally {
    backend.disposeData(patches.dataId);
    backend.disposeData(dyCopy.dataId);
  }
}

/** Conv2D([Ci, H, W, N], filter [Ho, Wo, N, Co], dilation = stride), cropped and transposed to [kh, kw, Ci, Co]. */
function viaConv(
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: KernelBackend,
): TensorInfo {
  const { padInfo, strideHeight, strideWidth, filterHeight, filterWidth, inChannels, outChannels } = info;
  const temps: TensorInfo[] = [];
  try {
    const xT = transpose(x, [3, 1, 2, 0], backend);
    temps.push(xT);
    const dyT = transpose(dy, [1, 2, 0, 3], backend);
    temps.push(dyT);
    const explicitPad = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    const conv = runWasmKernel(
      'Conv2D',
      { x: xT, filter: dyT },
      { strides: [1, 1], dilations: [strideHeight, strideWidth], pad: explicitPad, dataFormat: 'NHWC' },
      backend,
    );
    temps.push(conv);
    // With 'valid' padding and (H - kh) not a multiple of the stride, the forward conv never reads the last input
    // rows/cols, so this conv yields positions past the filter size: they are dropped here.
    let cropped = conv;
    if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
      cropped = runWasmKernel(
        'Slice',
        { x: conv },
        { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
        backend,
      );
      temps.push(cropped);
    }
    return transpose(cropped, [1, 2, 0, 3], backend);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** The kernel function with a fixed strategy (tests and benchmarks compare them). */
export function makeConv2dBackpropFilterWasm(strategy: BackpropFilterStrategy): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as Conv2DBackpropFilterInputs;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      attrs as unknown as Conv2DBackpropFilterAttrs;
    if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    if (format !== 'channelsLast') {
      // The wasm kernels this builds on are channelsLast only; tfjs-layers always feeds NHWC.
      throw new Error(`wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got '${dataFormat}'`);
    }
    if (x.dtype !== 'float32' || dy.dtype !== 'float32')
      throw new Error('wasm Conv2DBackpropFilter supports float32 only');
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
    const patchFloats =
      info.filterHeight *
      info.filterWidth *
      info.inChannels *
      info.batchSize *
      info.outHeight *
      info.outWidth;
    const useIm2col = strategy === 'im2col' || (strategy === 'auto' && patchFloats <= IM2COL_MAX_FLOATS);
    return useIm2col
      ? viaIm2col(x, dy, info, backend as WasmHeapBackend)
      : viaConv(x, dy, info, backend as KernelBackend);
  };
}

/** The kernel function netspec registers ('auto' strategy). */
export const conv2dBackpropFilterWasm: KernelFunc = makeConv2dBackpropFilterWasm('auto');

/** Kernel config registered by {@link registerWasmConv2DBackpropFilter}. */
export const conv2dBackpropFilterWasmConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: WASM_BACKEND,
  kernelFunc: conv2dBackpropFilterWasm,
};

/** Registers the kernel for 'wasm' unless one is already there; returns true when this call registered it. */
export function registerWasmConv2DBackpropFilter(): boolean {
  if (getKernel(Conv2DBackpropFilter, WASM_BACKEND) !== undefined) return false;
  registerKernel(conv2dBackpropFilterWasmConfig);
  return true;
}

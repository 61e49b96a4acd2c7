/**
 * Conv2DBackpropInput for the wasm backend as a forward convolution that XNNPACK runs. tfjs-backend-wasm's own
 * kernel is a naive C++ loop, which made it the largest cost of a training step.
 *
 * With dy NHWC [N, Ho, Wo, Co] and the forward filter W [kh, kw, Ci, Co] (stride s, padding top/left), the input
 * gradient is a stride-1 convolution of dy dilated by s (s - 1 zeros between pixels) and padded by
 * kh - 1 - top (kw - 1 - left) before, with the spatially flipped, in/out-swapped filter Wt[kh-1-fy, kw-1-fx,
 * co, ci] = W[fy, fx, ci, co]. For stride 1 with ordinary padding, dy goes to the convolution as it is (the
 * padding is the convolution's own); otherwise the dilated, padded (or cropped) dy is laid out in the wasm heap
 * first. Only the backend's own registered kernels are called, and every intermediate is disposed.
 */
import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs-core';
import { heapFloat32, replaceWasmKernel, restoreWasmKernel, runWasmKernel } from './wasm-heap.js';
import type {
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

/** Writes W [kh, kw, ci, co] flipped in both spatial axes and with ci/co swapped: [kh, kw, co, ci]. */
function flipSwap(
  src: Float32Array,
  dst: Float32Array,
  kh: number,
  kw: number,
  ci: number,
  co: number,
): void {
  let i = 0;
  for (let fy = 0; fy < kh; fy++) {
    for (let fx = 0; fx < kw; fx++) {
      const base = ((kh - 1 - fy) * kw + (kw - 1 - fx)) * co * ci;
      for (let c = 0; c < ci; c++) {
        let o = base + c;
        for (let k = 0; k < co; k++) {
          dst[o] = src[i++] as number;
          o += ci;
        }
      }
    }
  }
}

/** How the input gradient is computed; 'auto' picks by the work each would do. */
export type BackpropInputStrategy = 'auto' | 'conv' | 'col2im';

/** Stride-1 convolution of dy (dilated and padded as needed) with the flipped, swapped filter. */
function viaConv(
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: WasmHeapBackend,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  // dy's first row and column sit this far into the (h + kh - 1) x (w + kw - 1) plane the convolution reads.
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  const bottom = h + kh - 1 - top - ((ho - 1) * sh + 1);
  const right = w + kw - 1 - left - ((wo - 1) * sw + 1);
  const direct = sh === 1 && sw === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0;
  // Allocate everything first: growing the wasm heap detaches every view taken before.
  const flipped = backend.makeOutput([kh, kw, co, ci], 'float32');
  const spread = direct ? undefined : backend.makeOutput([n, h + kh - 1, w + kw - 1, co], 'float32');
  try {
    flipSwap(heapFloat32(backend, filter), heapFloat32(backend, flipped), kh, kw, ci, co);
    if (spread === undefined) {
      const explicitPad = [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ];
      return runWasmKernel(
        'Conv2D',
        { x: dy, filter: flipped },
        { strides: [1, 1], dilations: [1, 1], pad: explicitPad, dataFormat: 'NHWC' },
        backend,
      );
    }
    const plane = heapFloat32(backend, spread);
    plane.fill(0);
    const src = heapFloat32(backend, dy);
    const hp = h + kh - 1;
    const wp = w + kw - 1;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < ho; oy++) {
        const y = top + oy * sh;
        if (y < 0 || y >= hp) continue;
        for (let ox = 0; ox < wo; ox++) {
          const x = left + ox * sw;
          if (x < 0 || x >= wp) continue;
          const from = ((b * ho + oy) * wo + ox) * co;
          plane.set(src.subarray(from, from + co), ((b * hp + y) * wp + x) * co);
        }
      }
    }
    return runWasmKernel(
      'Conv2D',
      { x: spread, filter: flipped },
      { strides: [1, 1], dilations: [1, 1], pad: 'valid', dataFormat: 'NHWC' },
      backend,
    );
  } finally {
    backend.disposeData(flipped.dataId);
    if (spread !== undefined) backend.disposeData(spread.dataId);
  }
}

/**
 * One matrix product gives every output pixel's contribution to its kh x kw input patch, and col2im adds the
 * patches into dx. It does exactly the multiply-adds the gradient needs, where the convolution also multiplies
 * the zeros of dilation and padding. The product runs on XNNPACK's fully-connected operator, whose right-hand
 * operand must be a fresh tensor (it caches packed weights under the tensor's id, whatever shape it had then)
 * and untransposed (tfjs-backend-wasm is ~10x slower with transposeB). So the smaller of dy and W is transposed
 * into a new tensor: dy [K, Co] @ W^T [Co, T] when W is smaller, else W [T, Co] @ dy^T [Co, K]
 * (K = N*Ho*Wo output pixels, T = kh*kw*Ci taps).
 */
function viaCol2im(
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: WasmHeapBackend,
): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw, padInfo } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  const k = n * ho * wo;
  const taps = kh * kw * ci;
  const pixelsMajor = taps <= k;
  const [left, leftRows, right, rightRows] = pixelsMajor ? [dy, k, filter, taps] : [filter, taps, dy, k];
  const rightT = runWasmKernel(
    'Transpose',
    { x: { dataId: right.dataId, shape: [rightRows, co], dtype: 'float32' } },
    { perm: [1, 0] },
    backend,
  );
  let patches: TensorInfo | undefined;
  try {
    patches = runWasmKernel(
      'BatchMatMul',
      {
        a: { dataId: left.dataId, shape: [1, leftRows, co], dtype: 'float32' },
        b: { dataId: rightT.dataId, shape: [1, co, rightRows], dtype: 'float32' },
      },
      { transposeA: false, transposeB: false },
      backend,
    );
    const dx = backend.makeOutput([n, h, w, ci], 'float32');
    const out = heapFloat32(backend, dx);
    const p = heapFloat32(backend, patches);
    out.fill(0);
    // The patch value of output pixel q and tap t sits at q * T + t (pixels major) or t * K + q (taps major).
    const [pixelStride, tapStride] = pixelsMajor ? [taps, 1] : [1, k];
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          const q = (b * ho + oy) * wo + ox;
          for (let fy = 0; fy < kh; fy++) {
            const iy = oy * sh + fy - padInfo.top;
            if (iy < 0 || iy >= h) continue;
            for (let fx = 0; fx < kw; fx++) {
              const ix = ox * sw + fx - padInfo.left;
              if (ix < 0 || ix >= w) continue;
              const o = ((b * h + iy) * w + ix) * ci;
              let src = q * pixelStride + (fy * kw + fx) * ci * tapStride;
              for (let c = 0; c < ci; c++, src += tapStride)
                out[o + c] = (out[o + c] as number) + (p[src] as number);
            }
          }
        }
      }
    }
    return dx;
  } finally {
    backend.disposeData(rightT.dataId);
    if (patches !== undefined) backend.disposeData(patches.dataId);
  }
}

/** The kernel function with a fixed strategy (tests and benchmarks compare them). */
export function makeConv2dBackpropInputWasm(strategy: BackpropInputStrategy): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as Conv2DBackpropInputInputs;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      attrs as unknown as Conv2DBackpropInputAttrs;
    if (dy === undefined || filter === undefined)
      throw new Error('Conv2DBackpropInput needs inputs dy and filter');
    const format = backend_util.convertConv2DDataFormat(dataFormat);
    if (format !== 'channelsLast')
      throw new Error(`wasm Conv2DBackpropInput supports dataFormat 'NHWC' only, got '${dataFormat}'`);
    if (dy.dtype !== 'float32' || filter.dtype !== 'float32')
      throw new Error('wasm Conv2DBackpropInput supports float32 only');
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      format,
    );
    return chooseStrategy(strategy, info) === 'conv'
      ? viaConv(dy, filter, info, backend as WasmHeapBackend)
      : viaCol2im(dy, filter, info, backend as WasmHeapBackend);
  };
}

/** Largest patch matrix (in floats, 256 MiB) col2im builds before 'auto' falls back to 'conv'. */
export const COL2IM_MAX_FLOATS = 64 * 1024 * 1024;

/**
 * 'auto' takes col2im, which was faster on every ResNet18 layer (see the README): the convolution multiplies
 * H x W positions per image where col2im multiplies Ho x Wo, and with stride 2 or padding most of those are
 * zeros. 'conv' remains for gradients whose patch matrix would not fit.
 */
function chooseStrategy(strategy: BackpropInputStrategy, info: backend_util.Conv2DInfo): 'conv' | 'col2im' {
  if (strategy !== 'auto') return strategy;
  const patchFloats =
    info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels;
  return patchFloats > COL2IM_MAX_FLOATS ? 'conv' : 'col2im';
}

/** The kernel function netspec registers ('auto' strategy). */
export const conv2dBackpropInputWasm: KernelFunc = makeConv2dBackpropInputWasm('auto');

/**
 * Replaces wasm's own Conv2DBackpropInput with this one (call after tfjs-backend-wasm is imported); true when this
 * call installed it.
 */
export function registerWasmConv2DBackpropInput(): boolean {
  return replaceWasmKernel(Conv2DBackpropInput, conv2dBackpropInputWasm);
}

/** Puts wasm's own kernel back (benchmarks and tests compare the two); returns true when it did. */
export function restoreWasmConv2DBackpropInput(): boolean {
  return restoreWasmKernel(Conv2DBackpropInput, conv2dBackpropInputWasm);
}

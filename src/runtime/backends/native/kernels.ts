/**
 * The native backend's registration list: which tfjs kernels run on the addon (one entry per kernel, each from its
 * family's file), and registering the backend with every other kernel taken from the cpu backend.
 */
import {
  _FusedMatMul,
  Add,
  AvgPool,
  AvgPoolGrad,
  BatchMatMul,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  Exp,
  FusedBatchNorm,
  FusedConv2D,
  getKernelsForBackend,
  Greater,
  GreaterEqual,
  Less,
  LessEqual,
  Log,
  MaxPool,
  Maximum,
  MaxPoolGrad,
  Mean,
  Minimum,
  Multiply,
  Neg,
  PadV2,
  RealDiv,
  registerBackend,
  registerKernel,
  Relu,
  Rsqrt,
  Slice,
  Square,
  Step,
  Sub,
  Sum,
  Tile,
  Transpose,
} from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING_KERNELS, SCALED_ADD_KERNEL } from '../names.js';
import { NATIVE_BACKEND, NativeBackend } from './backend.js';
import { batchNorm, batchNormTraining, batchNormTrainingGrad } from './batchnorm.js';
import {
  conv2d,
  conv2dBackpropFilter,
  conv2dBackpropInput,
  depthwiseConv2d,
  depthwiseConv2dBackpropFilter,
  depthwiseConv2dBackpropInput,
  fusedConv2d,
} from './conv2d.js';
import { padV2, slice, tile } from './copies.js';
import { binaryKernel, compareKernel, reduceKernel, scaledAdd, unaryKernel } from './elementwise.js';
import { batchMatMul, fusedMatMul } from './matmul.js';
import { avgPoolGrad, maxPoolGrad, poolKernel } from './pool.js';
import { transpose } from './transpose.js';

/** The kernels the native backend runs itself; every other kernel is the cpu backend's. */
export const NATIVE_KERNELS: ReadonlyMap<string, KernelFunc> = new Map<string, KernelFunc>([
  [Conv2D, conv2d],
  [FusedConv2D, fusedConv2d],
  [Conv2DBackpropInput, conv2dBackpropInput],
  [Conv2DBackpropFilter, conv2dBackpropFilter],
  [DepthwiseConv2dNative, depthwiseConv2d],
  [DepthwiseConv2dNativeBackpropInput, depthwiseConv2dBackpropInput],
  [DepthwiseConv2dNativeBackpropFilter, depthwiseConv2dBackpropFilter],
  [BatchMatMul, batchMatMul],
  [_FusedMatMul, fusedMatMul],
  [Tile, tile],
  [Slice, slice],
  [Sum, reduceKernel(Sum)],
  [Mean, reduceKernel(Mean)],
  [MaxPoolGrad, maxPoolGrad],
  [AvgPoolGrad, avgPoolGrad],
  [Transpose, transpose],
  [Add, binaryKernel(Add, 'add')],
  [Sub, binaryKernel(Sub, 'sub')],
  [Multiply, binaryKernel(Multiply, 'mul')],
  [RealDiv, binaryKernel(RealDiv, 'div')],
  [Minimum, binaryKernel(Minimum, 'minimum')],
  [Maximum, binaryKernel(Maximum, 'maximum')],
  [Greater, compareKernel(Greater)],
  [GreaterEqual, compareKernel(GreaterEqual)],
  [Less, compareKernel(Less)],
  [LessEqual, compareKernel(LessEqual)],
  [PadV2, padV2],
  [MaxPool, poolKernel(MaxPool, 0)],
  [AvgPool, poolKernel(AvgPool, 1)],
  [FusedBatchNorm, batchNorm],
  [Relu, unaryKernel(Relu, 0)],
  [Step, unaryKernel(Step, 1)],
  [Square, unaryKernel(Square, 2)],
  [Neg, unaryKernel(Neg, 3)],
  [Rsqrt, unaryKernel(Rsqrt, 4)],
  [Exp, unaryKernel(Exp, 5)],
  [Log, unaryKernel(Log, 6)],
]);

/**
 * A cpu kernel whose outputs never share memory with its inputs: an output that views an input's buffer (the
 * cpu Slice returns subarrays, and Split, Unpack, StridedSlice use it) gets its own copy, so that recycling the
 * input's array later cannot change it.
 */
function unshared(kernelFunc: KernelFunc): KernelFunc {
  return (args) => {
    const result = kernelFunc(args);
    const backend = args.backend as NativeBackend;
    const inputs = Object.values(args.inputs).filter((t): t is TensorInfo => t !== null && t !== undefined);
    for (const out of Array.isArray(result) ? result : [result]) {
      if (!backend.data.has(out.dataId) || inputs.some((t) => t.dataId === out.dataId)) continue;
      const entry = backend.data.get(out.dataId);
      const values = entry.values;
      if (!values || !ArrayBuffer.isView(values)) continue;
      const shares = inputs.some((t) => {
        const v = backend.data.has(t.dataId) ? backend.data.get(t.dataId).values : undefined;
        return v !== undefined && ArrayBuffer.isView(v) && v.buffer === values.buffer;
      });
      if (shares) entry.values = (values as TypedArray).slice();
    }
    return result;
  };
}

let registered = false;

/** Registers the 'native' backend and its kernels (once); the addon must load first. */
export function registerNativeBackend(): void {
  if (registered) return;
  if (getKernelsForBackend('cpu').length === 0) throw new Error('tfjs-backend-cpu is not loaded');
  registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 0);
  for (const config of getKernelsForBackend('cpu')) {
    const own = NATIVE_KERNELS.get(config.kernelName);
    registerKernel({
      ...config,
      backendName: NATIVE_BACKEND,
      kernelFunc: own ?? unshared(config.kernelFunc),
    });
  }
  registerKernel({ kernelName: SCALED_ADD_KERNEL, backendName: NATIVE_BACKEND, kernelFunc: scaledAdd });
  const { forward, gradient } = BATCH_NORM_TRAINING_KERNELS;
  registerKernel({ kernelName: forward, backendName: NATIVE_BACKEND, kernelFunc: batchNormTraining });
  registerKernel({ kernelName: gradient, backendName: NATIVE_BACKEND, kernelFunc: batchNormTrainingGrad });
  registered = true;
}

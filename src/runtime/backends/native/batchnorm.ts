/**
 * Batch normalization on the addon (native/src/batchnorm.cc): tfjs's FusedBatchNorm (the inference form, running
 * statistics) and netspec's training-mode kernels {@link BATCH_NORM_TRAINING_KERNELS}, forward and gradient.
 */
import { FusedBatchNorm, util } from '@tensorflow/tfjs-core';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING_KERNELS } from '../names.js';
import { theAddon } from './addon.js';
import type { NativeBackend } from './backend.js';
import { cpuKernel, floatsOf, isFloat } from './support.js';

/** FusedBatchNorm (inference form) channels-last, with parameters of 1 or C values; else the cpu kernel. */
export const batchNorm: KernelFunc = (args) => {
  const { x, mean, variance, offset, scale } = args.inputs as {
    x?: TensorInfo;
    mean?: TensorInfo;
    variance?: TensorInfo;
    offset?: TensorInfo | null;
    scale?: TensorInfo | null;
  };
  const { varianceEpsilon } = args.attrs as { varianceEpsilon?: number };
  const backend = args.backend as NativeBackend;
  if (x === undefined || mean === undefined || variance === undefined)
    throw new Error('FusedBatchNorm needs inputs x, mean and variance');
  const params = [mean, variance, offset, scale].filter(
    (t): t is TensorInfo => t !== undefined && t !== null,
  );
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const fits = params.every((t) => {
    const size = util.sizeFromShape(t.shape);
    return size === 1 || size === channels;
  });
  if (!isFloat(x, ...params) || !fits || util.sizeFromShape(x.shape) === 0)
    return cpuKernel(FusedBatchNorm)(args);
  const out = backend.allocFloats(util.sizeFromShape(x.shape));
  theAddon().batchNorm(
    floatsOf(backend, x),
    floatsOf(backend, mean),
    floatsOf(backend, variance),
    offset ? floatsOf(backend, offset) : new Float32Array([0]),
    scale ? floatsOf(backend, scale) : new Float32Array([1]),
    out,
    varianceEpsilon ?? 0.001,
  );
  return backend.makeTensorInfo([...x.shape], 'float32', out);
};

/**
 * The channel count of a training batch norm's float32 channels-last `x` with `params` of C values each, or a
 * thrown error naming `kernel` (BatchNorm layers call these kernels only on such tensors).
 */
function trainingChannels(kernel: string, x: TensorInfo, ...params: TensorInfo[]): number {
  const channels = x.shape[x.shape.length - 1] ?? 0;
  const size = util.sizeFromShape(x.shape);
  if (x.shape.length < 2 || channels === 0 || size / channels < 1 || !isFloat(x, ...params))
    throw new Error(`${kernel} needs a float32 x of shape [..., C] with C > 0`);
  for (const p of params)
    if (util.sizeFromShape(p.shape) !== channels)
      throw new Error(
        `${kernel}: a parameter has ${util.sizeFromShape(p.shape)} values, expected ${channels}`,
      );
  return channels;
}

/** The forward training kernel: [y, mean, variance, rstd] of x (and gamma, beta) in one call. */
export const batchNormTraining: KernelFunc = (args) => {
  const kernel = BATCH_NORM_TRAINING_KERNELS.forward;
  const { x, gamma, beta } = args.inputs as { x?: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo };
  const { epsilon } = args.attrs as NamedAttrMap & { epsilon?: number };
  const backend = args.backend as NativeBackend;
  if (x === undefined || typeof epsilon !== 'number')
    throw new Error(`${kernel} needs input x and an epsilon`);
  if ((gamma === undefined) !== (beta === undefined))
    throw new Error(`${kernel} takes gamma and beta together`);
  const affine = gamma !== undefined && beta !== undefined;
  const channels = affine ? trainingChannels(kernel, x, gamma, beta) : trainingChannels(kernel, x);
  const y = backend.allocFloats(util.sizeFromShape(x.shape));
  const stats = { mean: backend.allocFloats(channels), variance: backend.allocFloats(channels) };
  const rstd = backend.allocFloats(channels);
  theAddon().batchNormTraining(
    floatsOf(backend, x),
    affine ? floatsOf(backend, gamma) : null,
    affine ? floatsOf(backend, beta) : null,
    epsilon,
    y,
    stats.mean,
    stats.variance,
    rstd,
  );
  return [
    backend.makeTensorInfo([...x.shape], 'float32', y),
    ...[stats.mean, stats.variance, rstd].map((v) => backend.makeTensorInfo([channels], 'float32', v)),
  ];
};

/** The gradient kernel: [dx, dgamma, dbeta] (or [dx] without gamma) in one call. */
export const batchNormTrainingGrad: KernelFunc = (args) => {
  const kernel = BATCH_NORM_TRAINING_KERNELS.gradient;
  const { dy, x, mean, rstd, gamma } = args.inputs as Partial<
    Record<'dy' | 'x' | 'mean' | 'rstd' | 'gamma', TensorInfo>
  >;
  const backend = args.backend as NativeBackend;
  if (dy === undefined || x === undefined || mean === undefined || rstd === undefined)
    throw new Error(`${kernel} needs inputs dy, x, mean and rstd`);
  const channels =
    gamma === undefined
      ? trainingChannels(kernel, x, mean, rstd)
      : trainingChannels(kernel, x, mean, rstd, gamma);
  if (!util.arraysEqual(dy.shape, x.shape) || dy.dtype !== 'float32')
    throw new Error(`${kernel}: dy must be float32 of x's shape`);
  const dx = backend.allocFloats(util.sizeFromShape(x.shape));
  const dgamma = gamma === undefined ? null : backend.allocFloats(channels);
  const dbeta = gamma === undefined ? null : backend.allocFloats(channels);
  theAddon().batchNormTrainingGrad(
    floatsOf(backend, dy),
    floatsOf(backend, x),
    floatsOf(backend, mean),
    floatsOf(backend, rstd),
    gamma === undefined ? null : floatsOf(backend, gamma),
    dx,
    dgamma,
    dbeta,
  );
  const dxInfo = backend.makeTensorInfo([...x.shape], 'float32', dx);
  if (dgamma === null || dbeta === null) return [dxInfo];
  return [dxInfo, ...[dgamma, dbeta].map((v) => backend.makeTensorInfo([channels], 'float32', v))];
};

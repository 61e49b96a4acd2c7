/** Backend names, in a module of their own so the CLI can list them without loading tfjs. */

/** Backend names `--backend` accepts, after `auto` in the order `auto` tries them. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'] as const;
/** A `--backend` value. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * A kernel netspec adds to backends that can fuse it (the native backend): `out = x + alpha * y` in one pass,
 * inputs `{x, y}` (float32, same shape), attribute `{alpha}`. The SGD optimizer uses it where it is registered; elsewhere
 * (wasm, webgpu, cpu) it runs tfjs's own SGD update, a Mul then an Add, with the same result.
 */
export const SCALED_ADD_KERNEL = 'NetspecScaledAdd';

/**
 * netspec's training-mode batch normalization kernels, which backends that can fuse them register (the native
 * backend): the forward pass and its gradient in one call each instead of some thirty kernels per layer and step.
 * BatchNorm layers (compiler/targets/tfjs/torch-layers.ts, which spells the names itself because its JavaScript
 * twin may import nothing but tfjs; test/compiler/targets/tfjs/batchnorm-grad.test.ts keeps them equal) use them where they are
 * registered, and elsewhere their composite form, which computes the same.
 *   forward  inputs {x, gamma?, beta?} (x float32, channels last; gamma and beta C values, both or neither),
 *            attribute {epsilon}; outputs [y, mean, variance (biased), rstd = 1 / sqrt(variance + epsilon)]
 *   gradient inputs {dy, x, mean, rstd, gamma?}; outputs [dx, dgamma, dbeta] (only [dx] without gamma)
 */
export const BATCH_NORM_TRAINING_KERNELS = {
  forward: 'NetspecBatchNormTraining',
  gradient: 'NetspecBatchNormTrainingGrad',
} as const;

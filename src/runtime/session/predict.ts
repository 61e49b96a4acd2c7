/** Inference: a network with given weights on an input batch, in inference mode (BN running statistics). */
import * as tf from '@tensorflow/tfjs';
import { activationProblem } from '../../compiler/activation-limit.js';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel, setStateDict, type StateDict } from '../../compiler/targets/tfjs/index.js';
import type { Diagnostic } from '../../diagnostics.js';
import { selectBackend, type BackendName } from '../backends/index.js';
import { DataError } from '../errors.js';
import type { DecodedSafetensors } from '../weights/safetensors.js';

/** An input batch: float32 NCHW values. */
export interface PredictInput {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The logits of a batch. */
export interface Prediction {
  readonly shape: number[];
  readonly data: Float32Array;
}

/**
 * The tensor named `input` of a safetensors file, checked against the network: F32 [N, ...input shape] with
 * N >= 1 (an empty batch is almost always a mistake upstream) and small enough for the activation limit.
 */
export function predictInput(ir: IrNetwork, decoded: DecodedSafetensors, file: string): PredictInput {
  const x = decoded.tensors.get('input');
  if (!x)
    throw new DataError(
      `${file}: no tensor named 'input' (found: ${[...decoded.tensors.keys()].join(', ') || 'none'})`,
      file,
    );
  const want = ir.inputShape;
  if (x.dtype !== 'F32' || x.shape.length !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d))
    throw new DataError(
      `${file}: tensor 'input' is ${x.dtype} [${x.shape.join(', ')}], expected F32 [N, ${want.join(', ')}]`,
      file,
    );
  if (x.shape[0] === 0)
    throw new DataError(
      `${file}: tensor 'input' has shape [${x.shape.join(', ')}]: the batch N must be at least 1`,
      file,
    );
  const tooLarge = activationProblem(ir, x.shape[0] ?? 1);
  if (tooLarge)
    throw new DataError(`${file}: a batch of ${x.shape[0]} is too large for '${ir.name}': ${tooLarge}`, file);
  return { shape: x.shape, data: x.data as Float32Array };
}

/**
 * Runs `ir` with `weights` on `input` on `backend`. Weights that do not fit the network come back as
 * diagnostics (nothing is run then).
 */
export async function predict(
  ir: IrNetwork,
  weights: StateDict,
  input: PredictInput,
  backend: BackendName,
): Promise<Prediction | { readonly diagnostics: readonly Diagnostic[] }> {
  await selectBackend(backend);
  const model = buildModel(ir, { seed: 0 });
  try {
    const diagnostics = setStateDict(model, ir, weights);
    if (diagnostics.length) return { diagnostics };
    const logits = tf.tidy(
      () => model.predict(tf.tensor(input.data, [...input.shape], 'float32')) as tf.Tensor,
    );
    try {
      return { shape: logits.shape, data: new Float32Array(await logits.data()) };
    } finally {
      logits.dispose();
    }
  } finally {
    model.dispose();
  }
}

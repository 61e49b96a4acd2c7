/**
 * The training step, the one place it is written: forward in training mode (BN normalizes with batch statistics
 * and updates its running statistics), softmax cross-entropy (mean over the batch), gradients of every trainable
 * weight, weight decay, the optimizer's update. The trainer runs it; the bench times it.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Softmax cross-entropy of one-hot `y` and `logits`, the mean over the batch (PyTorch's CrossEntropyLoss), with
 * PyTorch's label smoothing (targets y * (1 - s) + s / classes).
 */
export function crossEntropy(y: tf.Tensor, logits: tf.Tensor, labelSmoothing = 0): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(y, logits, undefined, labelSmoothing, tf.Reduction.MEAN) as tf.Scalar;
}

/** How a step trains besides its batch. */
export interface StepOptions {
  /** PyTorch's weight_decay (coupled: added to the gradient) unless `decoupled` (AdamW: weights shrink). */
  readonly weightDecay: number;
  /** AdamW's decoupled decay: each weight is multiplied by (1 - lr * weightDecay) before the update. */
  readonly decoupled?: boolean;
  /** The step's learning rate, for the decoupled decay. */
  readonly lr?: number;
  readonly labelSmoothing?: number;
  /** Also count the batch's correct predictions (training mode), for the training accuracy. */
  readonly countCorrect?: boolean;
}

/** A step's results on the device, the caller's to dispose: the mean loss, and the correct count when asked. */
export interface StepTensors {
  readonly loss: tf.Scalar;
  readonly correct?: tf.Scalar;
}

/** The model's output on `x` as one tensor (a model built by the tfjs target has exactly one). */
export function forward(model: tf.LayersModel, x: tf.Tensor, training: boolean): tf.Tensor {
  const out = model.apply(x, { training });
  if (Array.isArray(out) || !(out instanceof tf.Tensor))
    throw new Error('the model did not return one tensor');
  return out;
}

/**
 * One optimizer step on a batch; returns the batch's mean loss before the update, as a scalar tensor that the
 * caller disposes. Nothing is read back here, so a GPU backend queues the step without waiting for the host; the
 * caller reads losses when it needs them (the trainer in batches, the bench at once). The update is applied
 * whatever the loss: a caller that finds a non-finite loss must treat the model as broken from that step on.
 */
export function trainStep(
  model: tf.LayersModel,
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor,
  options: StepOptions,
): StepTensors {
  const { weightDecay } = options;
  let correct: tf.Scalar | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const logits = forward(model, x, true);
    if (options.countCorrect)
      correct = tf.keep(
        tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')),
      );
    return crossEntropy(y, logits, options.labelSmoothing ?? 0);
  }, variables);
  try {
    tf.tidy(() => {
      const decay = options.decoupled && weightDecay > 0 ? 1 - (options.lr ?? 0) * weightDecay : 1;
      const list: { name: string; tensor: tf.Tensor }[] = [];
      for (const v of variables) {
        const g = grads[v.name];
        if (!g) continue;
        // torch.optim.AdamW: p.mul_(1 - lr * weight_decay), then the Adam update with the plain gradient.
        if (decay !== 1) v.assign(tf.mul(v, decay));
        // PyTorch's weight_decay: the L2 term joins the gradient before the optimizer sees it.
        const coupled = !options.decoupled && weightDecay > 0;
        list.push({ name: v.name, tensor: coupled ? tf.add(g, tf.mul(v, weightDecay)) : g });
      }
      optimizer.applyGradients(list);
    });
    return correct ? { loss: value, correct } : { loss: value };
  } catch (e) {
    value.dispose();
    correct?.dispose();
    throw e;
  } finally {
    tf.dispose(grads);
  }
}

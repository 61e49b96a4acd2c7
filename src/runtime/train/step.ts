/**
 * The training step, the one place it is written: forward in training mode (BN normalizes with batch statistics
 * and updates its running statistics), softmax cross-entropy (mean over the batch), gradients of every trainable
 * weight, weight decay, the optimizer's update. The trainer runs it; the bench times it.
 */
import * as tf from '@tensorflow/tfjs';

/** Softmax cross-entropy of one-hot `y` and `logits`, the mean over the batch (PyTorch's CrossEntropyLoss). */
export function crossEntropy(y: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.MEAN) as tf.Scalar;
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
  weightDecay: number,
): tf.Scalar {
  const { value, grads } = tf.variableGrads(() => crossEntropy(y, forward(model, x, true)), variables);
  try {
    tf.tidy(() => {
      const list: { name: string; tensor: tf.Tensor }[] = [];
      for (const v of variables) {
        const g = grads[v.name];
        if (!g) continue;
        // PyTorch's weight_decay: the L2 term joins the gradient before the optimizer sees it.
        list.push({ name: v.name, tensor: weightDecay > 0 ? tf.add(g, tf.mul(v, weightDecay)) : g });
      }
      optimizer.applyGradients(list);
    });
    return value;
  } catch (e) {
    value.dispose();
    throw e;
  } finally {
    tf.dispose(grads);
  }
}

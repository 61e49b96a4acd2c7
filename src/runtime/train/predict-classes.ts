/** The class each example is given (the argmax of its logits), for confusion matrices and per-class reports. */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { forward } from './step.js';
import type { LabeledImages } from './trainer.js';

/**
 * The predicted class of every example of `split`, in order, in inference mode, `batchSize` examples at a time
 * (as `evaluate` batches them). A tie goes to the lower class, as tf.argMax and torch.argmax break it.
 */
export async function predictClasses(
  model: tf.LayersModel,
  ir: IrNetwork,
  split: Pick<LabeledImages, 'images' | 'count'>,
  batchSize: number,
): Promise<Int32Array> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new RangeError(`predictClasses: the batch size must be a positive integer, got ${batchSize}`);
  const sample = ir.inputShape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(split.count);
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const classes = tf.tidy(() => {
      const x = tf.tensor(
        split.images.subarray(start * sample, (start + n) * sample),
        [n, ...ir.inputShape],
        'float32',
      );
      return tf.argMax(forward(model, x, false), 1);
    });
    try {
      out.set(await classes.data(), start);
    } finally {
      classes.dispose();
    }
  }
  return out;
}

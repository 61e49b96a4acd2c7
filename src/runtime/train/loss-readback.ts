/**
 * Losses that are still on the device. The trainer queues each step's loss tensor here and reads the queue back
 * in one transfer when it must know the values (a log line, a dev evaluation, a checkpoint, the end of an epoch, a
 * stop), so a GPU backend runs steps back to back instead of waiting for the host after every one.
 */
import * as tf from '@tensorflow/tfjs';

/** A queued step: what the caller wants back with its loss. */
interface Pending<Step> {
  readonly step: Step;
  readonly loss: tf.Scalar;
}

/** The queue of unread losses; it owns the tensors pushed into it. */
export class PendingLosses<Step> {
  private pending: Pending<Step>[] = [];

  /** How many losses are waiting. */
  get size(): number {
    return this.pending.length;
  }

  /** Queues a step's loss; the queue disposes the tensor once it is read (or on {@link dispose}). */
  push(step: Step, loss: tf.Scalar): void {
    this.pending.push({ step, loss });
  }

  /** Reads every queued loss with one `data()` call, frees them, and returns them in queue order. */
  async read(): Promise<{ step: Step; loss: number }[]> {
    const queued = this.pending;
    this.pending = [];
    if (queued.length === 0) return [];
    try {
      const only = queued.length === 1 ? queued[0]?.loss : undefined;
      const values = only ? await only.data() : await readScalars(queued.map((q) => q.loss));
      return queued.map((q, i) => ({ step: q.step, loss: values[i] ?? NaN }));
    } finally {
      for (const q of queued) q.loss.dispose();
    }
  }

  /** Frees the unread losses (a run that ends by an exception). */
  dispose(): void {
    for (const q of this.pending) q.loss.dispose();
    this.pending = [];
  }
}

/** The values of scalars, in order, through one stacked tensor and one transfer (the scalars stay the caller's). */
export async function readScalars(scalars: tf.Scalar[]): Promise<ArrayLike<number>> {
  const stacked = tf.stack(scalars);
  try {
    return await stacked.data();
  } finally {
    stacked.dispose();
  }
}

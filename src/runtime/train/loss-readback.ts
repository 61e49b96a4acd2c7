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
  /** The batch's correct predictions, when counted. */
  readonly correct?: tf.Scalar;
}

/** The queue of unread losses; it owns the tensors pushed into it. */
export class PendingLosses<Step> {
  private pending: Pending<Step>[] = [];

  /** How many losses are waiting. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Queues a step's loss (and its correct count); the queue disposes the tensors once they are read (or on
   * {@link dispose}).
   */
  push(step: Step, loss: tf.Scalar, correct?: tf.Scalar): void {
    this.pending.push(correct ? { step, loss, correct } : { step, loss });
  }

  /** Reads every queued value with one `data()` call, frees them, and returns them in queue order. */
  async read(): Promise<{ step: Step; loss: number; correct?: number }[]> {
    const queued = this.pending;
    this.pending = [];
    if (queued.length === 0) return [];
    try {
      const scalars = queued.flatMap((q) => (q.correct ? [q.loss, q.correct] : [q.loss]));
      const only = scalars.length === 1 ? scalars[0] : undefined;
      const values = only ? await only.data() : await readScalars(scalars);
      let at = 0;
      return queued.map((q) => {
        const loss = values[at++] ?? NaN;
        return q.correct ? { step: q.step, loss, correct: values[at++] ?? 0 } : { step: q.step, loss };
      });
    } finally {
      for (const q of queued) tf.dispose(q.correct ? [q.loss, q.correct] : [q.loss]);
    }
  }

  /** Frees the unread values (a run that ends by an exception). */
  dispose(): void {
    for (const q of this.pending) tf.dispose(q.correct ? [q.loss, q.correct] : [q.loss]);
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

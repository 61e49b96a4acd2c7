/**
 * A synthetic run for the console tests: two epochs of 12 steps, a final dev evaluation and the test, with lines
 * of every kind, in the order the session sends them. No training: it only calls the SessionOutput hooks.
 */
import type { SessionOutput } from '../../src/runtime/session/run.js';

/** Steps per epoch, epochs and batches per evaluation of {@link playRun}. */
const RUN_SHAPE = { steps: 12, epochs: 2, batches: 8, batchSize: 32 } as const;

/** Calls `output` as a two-epoch run would; `pause` runs between steps (a real wait in the pty test). */
export async function playRun(output: SessionOutput, pause: () => Promise<void>): Promise<void> {
  const { steps, epochs, batches, batchSize } = RUN_SHAPE;
  output.line('backend: cpu');
  output.detail?.('  webgpu: no adapter (navigator.gpu is missing)');
  output.detail?.('  wasm: slower than cpu on this network');
  output.line('data: mnist-sample, 384 train / 64 dev / 64 test images of 1x8x8');
  output.note('runs/tiny8 held an older run; it was put back');
  for (let epoch = 0; epoch < epochs; epoch++) {
    output.startProgress?.({ kind: 'train', epoch, epochs, steps, done: 0, batchSize });
    for (let s = 1; s <= steps; s++) {
      await pause();
      output.progress?.(s, 2.5 / (epoch * steps + s));
    }
    output.line(`[Evaluate] epoch ${epoch + 1}/${epochs}: dev accuracy 0.${epoch + 4}000, loss 1.2000`);
    output.line(`[Evaluate] best accuracy updated 0.${epoch + 3}000 -> 0.${epoch + 4}000`, 'best');
    if (epoch === 1) output.line('warning: dev accuracy is below 0.5 after 2 epochs', 'warning');
    output.line(`[Train] epoch ${epoch + 1}/${epochs}: loss 0.5000, accuracy 0.6000`);
    output.epochEnd?.({
      epoch,
      epochs,
      trainLoss: 0.5,
      trainAccuracy: 0.6,
      devLoss: 1.2,
      devAccuracy: 0.4 + epoch / 10,
      lr: 0.01,
      imagesPerSecond: 2048,
      epochSeconds: 1.5,
      elapsedSeconds: 1.5 * (epoch + 1),
      improved: true,
    });
  }
  for (const split of ['dev', 'test'] as const) {
    output.startProgress?.({ kind: 'evaluate', split, batches });
    for (let b = 1; b <= batches; b++) {
      await pause();
      output.progress?.(b);
    }
  }
  output.stopProgress?.();
  output.line('[Test] accuracy 0.5000, loss 1.1000', 'result');
  output.line('wrote runs/tiny8: train.log, metrics.json, checkpoints/best, checkpoints/last', 'result');
}

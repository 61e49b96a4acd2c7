/**
 * The log lines, exactly as RunnerV3 prints them (NNDL 5.4), so a netspec log can be read side by side with
 * the book's. One deliberate change: "performence" is spelled "performance"; the numbers and layout are the same.
 */
import type { EpochInfo } from './history.js';

/**
 * Python's `format(x, '.Nf')`: JavaScript's toFixed rounds exact ties up (0.015625 → '0.01563') where Python
 * rounds them to even ('0.01562'); both see the same binary value, so only exact ties need care.
 */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const fixed = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return fixed;
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const rest = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(rest)) return fixed;
  // An exact tie: toFixed rounded away from zero; Python keeps the even neighbour.
  const kept = exact.slice(0, digits === 0 ? dot : dot + 1 + digits);
  if (Number(kept.charAt(kept.length - 1)) % 2 === 1) return fixed;
  return (x < 0 ? '-' : '') + kept;
}

/** `[Train] epoch: 0/5, step: 15/80, loss: 1.11440` */
export function trainLine(
  epoch: number,
  epochs: number,
  globalStep: number,
  totalSteps: number,
  loss: number,
): string {
  return `[Train] epoch: ${epoch}/${epochs}, step: ${globalStep}/${totalSteps}, loss: ${formatFixed(loss, 5)}`;
}

/** `[Evaluate]  dev score: 0.10000, dev loss: 2.31271` (two spaces, as in RunnerV3). */
export function evaluateLine(score: number, loss: number): string {
  return `[Evaluate]  dev score: ${formatFixed(score, 5)}, dev loss: ${formatFixed(loss, 5)}`;
}

/** `[Evaluate] best accuracy performance has been updated: 0.00000 --> 0.10000` */
export function bestLine(previous: number, next: number): string {
  return `[Evaluate] best accuracy performance has been updated: ${formatFixed(previous, 5)} --> ${formatFixed(next, 5)}`;
}

/** `[Train] Training done!` */
export const TRAINING_DONE_LINE = '[Train] Training done!';

/** `[Test] accuracy/loss: 0.9100/0.3129` (or `[Dev] ...` when evaluating the dev split). */
export function testLine(accuracy: number, loss: number, split: 'test' | 'dev' = 'test'): string {
  return `[${split === 'test' ? 'Test' : 'Dev'}] accuracy/loss: ${formatFixed(accuracy, 4)}/${formatFixed(loss, 4)}`;
}

/** `[Evaluate] best dev loss has been updated: inf --> 0.41234` (the checkpoint policy monitors dev loss). */
export function bestLossLine(previous: number | null, next: number): string {
  return `[Evaluate] best dev loss has been updated: ${previous === null ? 'inf' : formatFixed(previous, 5)} --> ${formatFixed(next, 5)}`;
}

/** A count with thousands separators: 12,345. */
function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds as `12.3 s`, or `4:05` (minutes:seconds) and `1:02:03` from a minute on. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A learning rate as short as it reads exactly enough: 0.001, 0.0004317, 1e-05. */
function formatRate(lr: number): string {
  return String(Number(lr.toPrecision(4)));
}

/**
 * The per-epoch line, in the style of Keras `fit` (1-based epoch; accuracies in [0, 1]; mean cross-entropy
 * losses; training values over the epoch's batches in training mode, before each update):
 * `Epoch 3/10 - loss: 0.2345 - accuracy: 0.9312 - dev_loss: 0.2101 - dev_accuracy: 0.9400 - lr: 0.001 - 5,120 img/s - 1.2 s - elapsed 12.3 s`
 */
export function epochLine(e: EpochInfo): string {
  const parts = [
    `Epoch ${e.epoch + 1}/${e.epochs}`,
    `loss: ${formatFixed(e.trainLoss, 4)}`,
    `accuracy: ${formatFixed(e.trainAccuracy, 4)}`,
    ...(e.devLoss !== undefined && e.devAccuracy !== undefined
      ? [`dev_loss: ${formatFixed(e.devLoss, 4)}`, `dev_accuracy: ${formatFixed(e.devAccuracy, 4)}`]
      : []),
    `lr: ${formatRate(e.lr)}`,
    `${grouped(e.imagesPerSecond)} img/s`,
    formatSeconds(e.epochSeconds),
    `elapsed ${formatSeconds(e.elapsedSeconds)}`,
  ];
  return parts.join(' - ') + (e.improved ? ' (new best)' : '');
}

/** `[Train] early stopping: dev_loss has not improved by more than 0 for 3 evaluations (best 0.21000); stopped at epoch 7/20, step 560/1600` */
export function earlyStopLine(
  es: { readonly monitor: string; readonly patience: number; readonly minDelta: number },
  best: number,
  epoch: number,
  epochs: number,
  globalStep: number,
  totalSteps: number,
): string {
  return (
    `[Train] early stopping: ${es.monitor} has not improved by more than ${es.minDelta} for ${es.patience} ` +
    `evaluation${es.patience === 1 ? '' : 's'} (best ${formatFixed(best, 5)}); stopped after epoch ${epoch + 1}/${epochs}, ` +
    `step ${globalStep + 1}/${totalSteps}`
  );
}

/**
 * The warning of a run that is not learning: after its first evaluations the dev loss moved by less than 1% and
 * dev accuracy is below twice chance. Undefined when the run is learning.
 */
export function plateauWarning(
  devLosses: readonly number[],
  accuracy: number,
  classes: number,
  config: { readonly optimizer: string; readonly lr: number },
): string | undefined {
  const first = devLosses[0] ?? NaN;
  const finite = devLosses.filter((l) => Number.isFinite(l));
  if (finite.length < devLosses.length || !(first > 0)) return undefined;
  const spread = Math.max(...finite) - Math.min(...finite);
  if (spread >= 0.01 * first || accuracy >= 2 / classes) return undefined;
  return (
    `warning: dev loss has barely moved in ${devLosses.length} evaluations (${formatFixed(first, 4)} -> ` +
    `${formatFixed(devLosses.at(-1) ?? NaN, 4)}) and dev accuracy ${formatFixed(accuracy, 4)} is near chance ` +
    `(${formatFixed(1 / classes, 4)}): ${config.optimizer} at lr ${config.lr} may be too slow for this network; ` +
    `try training: {optimizer: adam, lr: 0.001} in the spec, or --optimizer adam --lr 0.001`
  );
}

/**
 * The log lines, exactly as RunnerV3 prints them (NNDL 5.4), so a netspec log can be read side by side with
 * the book's. One deliberate change: "performence" is spelled "performance"; the numbers and layout are the same.
 */

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

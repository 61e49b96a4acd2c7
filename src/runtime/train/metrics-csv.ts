/** metrics.json as a CSV table for spreadsheets and pandas: one row per optimizer step. */
import type { RunMetrics } from './metrics.js';

/** The CSV's header, in column order. */
export const METRICS_CSV_COLUMNS = ['step', 'epoch', 'lr', 'train_loss', 'dev_loss', 'dev_accuracy'] as const;

/** A number as JavaScript prints it (`String(x)`: `0.005`, `1e-7`, `NaN`, `Infinity`); undefined as empty. */
function cell(x: number | undefined): string {
  return x === undefined ? '' : String(x);
}

/**
 * RFC 4180 CSV (CRLF line ends, a header row) of every optimizer step of `metrics`: `step` (0-based), `epoch`,
 * `lr`, `train_loss` (the batch's mean loss before the update), and `dev_loss` and `dev_accuracy` (0 to 1) at the
 * steps after which the dev split was evaluated, empty elsewhere. No cell needs quoting: all are numbers.
 */
export function metricsCsv(metrics: RunMetrics): string {
  const evaluations = new Map(metrics.evaluations.map((e) => [e.step, e]));
  const lines = [METRICS_CSV_COLUMNS.join(',')];
  for (const s of metrics.steps) {
    const e = evaluations.get(s.step);
    lines.push([s.step, s.epoch, s.lr, s.loss, e?.loss, e?.score].map(cell).join(','));
  }
  return lines.map((l) => `${l}\r\n`).join('');
}

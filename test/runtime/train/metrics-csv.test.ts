/** metricsCsv: one RFC 4180 row per optimizer step, dev columns at the evaluated steps only. */
import { describe, expect, it } from 'vitest';
import { metricsCsv } from '../../../src/runtime/train/metrics-csv.js';
import type { RunMetrics } from '../../../src/runtime/train/metrics.js';

/** The fields metricsCsv reads, the rest of a record left out. */
function metrics(partial: Pick<RunMetrics, 'steps' | 'evaluations'>): RunMetrics {
  return partial as unknown as RunMetrics;
}

describe('metricsCsv', () => {
  it('writes the golden table: numbers as JavaScript prints them, CRLF line ends', () => {
    const csv = metricsCsv(
      metrics({
        steps: [
          { step: 0, epoch: 0, loss: 2.3025851249694824, lr: 0.005 },
          { step: 1, epoch: 0, loss: 2.1, lr: 0.005 },
          { step: 2, epoch: 1, loss: NaN, lr: 1e-7 },
        ],
        evaluations: [
          { step: 1, epoch: 0, score: 0.125, loss: 2.25, improved: true },
          { step: 2, epoch: 1, score: 0, loss: Infinity, improved: false },
        ],
      }),
    );
    expect(csv).toBe(
      'step,epoch,lr,train_loss,dev_loss,dev_accuracy\r\n' +
        '0,0,0.005,2.3025851249694824,,\r\n' +
        '1,0,0.005,2.1,2.25,0.125\r\n' +
        '2,1,1e-7,NaN,Infinity,0\r\n',
    );
  });

  it('is the header alone for a run without steps', () => {
    expect(metricsCsv(metrics({ steps: [], evaluations: [] }))).toBe(
      'step,epoch,lr,train_loss,dev_loss,dev_accuracy\r\n',
    );
  });
});

/** The end of a completed run: the best model loaded back and tested (RunnerV3's load_model + evaluate), curves. */
import fs from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { setStateDict } from '../../compiler/targets/tfjs/index.js';
import { loadCheckpoint, type RunFolder } from '../checkpoint/index.js';
import { CheckpointError } from '../errors.js';
import type { FinalRecord, RunMetrics, TestRecord } from '../train/metrics.js';
import { metricsCsv } from '../train/metrics-csv.js';
import { predictClasses } from '../train/predict-classes.js';
import { evaluate, type LabeledImages } from '../train/trainer.js';
import { confusionMatrix, renderConfusion } from './confusion.js';
import type { RunData } from './data.js';

/**
 * Loads the verified checkpoint in `bestDir` into `model` and evaluates `test`; without a best checkpoint (no dev
 * evaluation improved on 0) the final model is tested, and the record says so.
 */
export async function testBest(
  model: tf.LayersModel,
  ir: IrNetwork,
  bestDir: string,
  test: LabeledImages,
  batchSize: number,
  onBatch?: (done: number) => void,
): Promise<TestRecord> {
  let which: 'best' | 'final' = 'final';
  if (fs.existsSync(bestDir)) {
    const best = loadCheckpoint(bestDir);
    const diagnostics = setStateDict(model, ir, best.weights);
    if (diagnostics.length)
      throw new CheckpointError(`${bestDir}: ${diagnostics.map((d) => d.message).join('; ')}`);
    which = 'best';
  }
  const result = await evaluate(model, ir, test, batchSize, onBatch);
  return { accuracy: result.accuracy, loss: result.loss, count: result.count, model: which };
}

/**
 * What the tested model (in `model` after {@link testBest}) does on the data: its accuracy and loss on the training
 * split (inference mode, so comparable with the test's) and its confusion matrix on the test split.
 */
export async function finalRecord(
  model: tf.LayersModel,
  ir: IrNetwork,
  data: RunData,
  batchSize: number,
): Promise<FinalRecord> {
  const train = await evaluate(model, ir, data.train, batchSize);
  const predicted = await predictClasses(model, ir, data.test, batchSize);
  const matrix = confusionMatrix(predicted, data.test.labels, data.classes);
  const classes = Array.from({ length: data.classes }, (_, i) => data.classNames?.[i] ?? String(i));
  return {
    trainEvaluation: { accuracy: train.accuracy, loss: train.loss, count: train.count },
    confusion: { split: 'test', classes, matrix },
  };
}

/**
 * Draws the loss and accuracy curves (SVG and PNG), the test split's confusion matrix (when the record has one)
 * and writes metrics.csv (every step's values) into the run folder; returns the files written.
 */
export async function writeCurves(folder: RunFolder, metrics: RunMetrics): Promise<string[]> {
  // The renderer loads vega and resvg: only when a run has finished.
  const { renderCurves } = await import('../../reports/curves.js');
  const images = await renderCurves(metrics, { title: metrics.network });
  const files: [string, string | Uint8Array][] = [
    ['loss.svg', images.lossSvg],
    ['loss.png', images.lossPng],
    ['accuracy.svg', images.accuracySvg],
    ['accuracy.png', images.accuracyPng],
    ['metrics.csv', metricsCsv(metrics)],
  ];
  if (metrics.confusion) {
    const chart = await renderConfusion(metrics.confusion.matrix, {
      title: metrics.network,
      classNames: metrics.confusion.classes,
      split: 'test split',
    });
    files.push(['confusion.svg', chart.svg], ['confusion.png', chart.png]);
  }
  for (const [name, content] of files) folder.writeFile(name, content);
  return files.map(([name]) => name);
}

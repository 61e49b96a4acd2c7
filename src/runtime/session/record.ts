/** The run's record (metrics.json) and the sentences that describe where a run stands. */
import { hashIr } from '../checkpoint/index.js';
import type { IrNetwork } from '../../compiler/ir.js';
import { READ_LIMITS, readRegularText } from '../files/read.js';
import type { RunConfig } from '../train/config.js';
import type { TrainHistory, TrainProgress } from '../train/history.js';
import {
  bestOf,
  loggedSteps,
  type FinalRecord,
  type RunMetrics,
  type RunStatus,
  type TestRecord,
} from '../train/metrics.js';
import type { Divergence } from '../train/trainer.js';
import type { RunData } from './data.js';

/** Steps per epoch and in all. */
export interface RunShape {
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
}

/** Builds the run's metrics records: what stays the same for the whole session, then each state of it. */
export class MetricsRecord {
  private readonly base: Pick<
    RunMetrics,
    'network' | 'spec' | 'irHash' | 'backend' | 'config' | 'data' | 'initFrom'
  >;

  constructor(
    ir: IrNetwork,
    spec: string,
    backend: { name: string; reasons: readonly string[] },
    config: RunConfig,
    data: RunData,
    readonly shape: RunShape,
    private readonly resumes: number,
    private readonly startedAt: number,
    initFrom: string | null = null,
  ) {
    this.base = {
      initFrom,
      network: ir.name,
      spec,
      irHash: hashIr(ir),
      backend: { name: backend.name, reasons: [...backend.reasons] },
      config,
      data: metricsData(data),
    };
  }

  /** The record of the run in `status` after `history`, `elapsedMs` of training. */
  of(
    status: RunStatus,
    history: TrainHistory,
    elapsedMs: number,
    test: TestRecord | null = null,
    divergence: Divergence | null = null,
    final: FinalRecord = {},
  ): RunMetrics {
    return {
      format: 'netspec-metrics',
      version: 1,
      ...this.base,
      status,
      stepsPerEpoch: this.shape.stepsPerEpoch,
      totalSteps: this.shape.totalSteps,
      steps: history.steps,
      logged: loggedSteps(history),
      evaluations: history.evaluations,
      epochs: history.epochs,
      best: bestOf(history),
      test,
      divergence,
      resumes: this.resumes,
      trainSeconds: elapsedMs / 1000,
      wallSeconds: (performance.now() - this.startedAt) / 1000,
      ...final,
    };
  }
}

/** How many times the run was resumed before this session (from its metrics.json, if any). */
export function previousResumes(metricsFile: string): number {
  try {
    const raw = JSON.parse(readRegularText(metricsFile, 'metrics file', READ_LIMITS.metadata)) as {
      resumes?: unknown;
    };
    return typeof raw.resumes === 'number' ? raw.resumes : 0;
  } catch {
    return 0;
  }
}

/** Where a saved progress stands, in words: `end of epoch 0, step 16` or `epoch 2, step 37`. */
export function describePoint(p: TrainProgress): string {
  return p.stepInEpoch === 0 && p.epoch > 0
    ? `end of epoch ${p.epoch - 1}, step ${p.globalStep}`
    : `epoch ${p.epoch}, step ${p.globalStep}`;
}

/** The sentence that reports a divergence: what blew up, where, what is kept, and what to try. */
export function divergenceMessage(
  dv: Divergence,
  epochs: number,
  shape: RunShape,
  lr: number,
  kept: { readonly dir: string; readonly progress: TrainProgress | null },
): string {
  const saved = kept.progress
    ? `${kept.dir} (${describePoint(kept.progress)}) is the last good checkpoint`
    : 'no checkpoint was written before it';
  const what =
    dv.cause === 'loss'
      ? `the loss is ${dv.loss}`
      : `tensor '${dv.tensor?.name}' became ${dv.tensor?.value} (index ${dv.tensor?.index}; the loss was ${Number(dv.loss.toPrecision(6))})`;
  return (
    `training diverged: ${what} at epoch ${dv.epoch}/${epochs}, step ${dv.globalStep}/${shape.totalSteps} ` +
    `(step ${dv.stepInEpoch} of the epoch); ${saved}. Try a smaller --lr (now ${lr}).`
  );
}

/** metrics.json's `data` block of `data` (also the torch engine's settings.json's). */
export function metricsData(data: RunData): RunMetrics['data'] {
  return {
    source: data.source,
    description: data.description,
    classes: data.classes,
    ...(data.classNames ? { classNames: [...data.classNames] } : {}),
    inputShape: [...data.inputShape],
    train: data.train.count,
    dev: data.dev.count,
    test: data.test.count,
  };
}

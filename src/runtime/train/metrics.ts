/**
 * metrics.json: the machine-readable record of a run (every step's loss, every logged and evaluated point,
 * the best model, the test result, timing, backend, config). Curves and comparisons are drawn from it.
 */
import type { RunConfig } from './config.js';
import type { BestRecord, EpochRecord, EvaluationRecord, StepRecord, TrainHistory } from './history.js';
import type { Divergence } from './trainer.js';

/** The state of a run as recorded: `running` while it goes (written at each epoch end), then how it ended. */
export type RunStatus = 'running' | 'completed' | 'interrupted' | 'diverged';

/** The test evaluation of the best model (or of the final one when no evaluation ever improved). */
export interface TestRecord {
  readonly accuracy: number;
  readonly loss: number;
  readonly count: number;
  /** Which weights were tested: the best dev checkpoint, or the final model. */
  readonly model: 'best' | 'final';
}

/** The contents of metrics.json (version 1). Losses are cross-entropy means; scores are accuracies in [0, 1]. */
export interface RunMetrics {
  readonly format: 'netspec-metrics';
  readonly version: 1;
  readonly network: string;
  readonly spec: string;
  readonly irHash: string;
  readonly status: RunStatus;
  readonly backend: { readonly name: string; readonly reasons: readonly string[] };
  readonly config: RunConfig;
  readonly data: {
    readonly source: string;
    readonly description: string;
    readonly classes: number;
    /** The classes' names, where the data names them (folder:DIR, cifar10:DIR). */
    readonly classNames?: readonly string[];
    readonly inputShape: readonly number[];
    readonly train: number;
    readonly dev: number;
    readonly test: number;
  };
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Every optimizer step: loss of the batch before the update, learning rate. */
  readonly steps: readonly StepRecord[];
  /** The points printed as `[Train] ...` lines. */
  readonly logged: readonly StepRecord[];
  /** Every dev evaluation (`[Evaluate] ...`). */
  readonly evaluations: readonly EvaluationRecord[];
  /** Mean training loss per completed epoch. */
  readonly epochs: readonly EpochRecord[];
  readonly best: BestRecord | null;
  readonly test: TestRecord | null;
  readonly divergence: Divergence | null;
  /** Times the run was resumed. */
  readonly resumes: number;
  /** Wall time of training (steps and evaluations) over all sessions, seconds. */
  readonly trainSeconds: number;
  /** Wall time of this session of the command, from start to metrics.json, seconds. */
  readonly wallSeconds: number;
  /** The tested model on the training split (inference mode), once a run has completed. */
  readonly trainEvaluation?: {
    readonly accuracy: number;
    readonly loss: number;
    readonly count: number;
  } | null;
  /** The tested model on the test split: `matrix[true][predicted]` counts, classes in index order. */
  readonly confusion?: {
    readonly split: 'test';
    readonly classes: readonly string[];
    readonly matrix: readonly (readonly number[])[];
  } | null;
  /** With checkpoint.top_k > 1: the kept checkpoints, best first (step, monitored dev value, folder). */
  readonly topCheckpoints?: readonly {
    readonly step: number;
    readonly value: number;
    readonly dir: string;
  }[];
  /** What the run's weights started from (`--init-from`), or null for the seeded initialization. */
  readonly initFrom?: string | null;
}

/** What a completed run adds to its record after the test. */
export type FinalRecord = Pick<RunMetrics, 'trainEvaluation' | 'confusion' | 'topCheckpoints'>;

/** The best evaluation in `history` under RunnerV3's rule (the last one flagged as an improvement), or null. */
export function bestOf(history: TrainHistory): BestRecord | null {
  let best: BestRecord | null = null;
  for (const e of history.evaluations)
    if (e.improved) best = { step: e.step, epoch: e.epoch, score: e.score, loss: e.loss };
  return best;
}

/** The logged steps of `history` as records. */
export function loggedSteps(history: TrainHistory): StepRecord[] {
  const byStep = new Map(history.steps.map((s) => [s.step, s]));
  return history.logged.flatMap((step) => {
    const s = byStep.get(step);
    return s ? [s] : [];
  });
}

/** What a training run records as it goes: the data behind metrics.json, the curves and a resumed run. */
import type { PrngState } from './prng.js';

/** One optimizer step: its 0-based global index, epoch, the batch's mean loss (before the update) and lr. */
export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly lr: number;
}

/** One dev evaluation (after the optimizer step of `step`): accuracy, mean batch loss, and whether it was a new best. */
export interface EvaluationRecord {
  readonly step: number;
  readonly epoch: number;
  readonly score: number;
  readonly loss: number;
  readonly improved: boolean;
}

/** The best model's evaluation: the step after which it was evaluated, its dev accuracy and loss. */
export interface BestRecord {
  readonly step: number;
  readonly epoch: number;
  readonly score: number;
  readonly loss: number;
}

/** The mean training loss of one completed epoch (RunnerV3's `train_epoch_losses`), and what the epoch line showed. */
export interface EpochRecord {
  readonly epoch: number;
  readonly loss: number;
  /** Training accuracy over the epoch's batches (training mode, before each update); absent in older records. */
  readonly accuracy?: number;
  /** Training images per second (evaluations excluded) and seconds of the epoch (evaluations included). */
  readonly imagesPerSecond?: number;
  readonly seconds?: number;
}

/** Everything recorded so far; arrays grow in step order. */
export interface TrainHistory {
  readonly steps: StepRecord[];
  /** The steps whose loss was logged (`[Train] ...`). */
  readonly logged: number[];
  readonly evaluations: EvaluationRecord[];
  readonly epochs: EpochRecord[];
}

/** Where a run stands between two steps: enough, with weights and optimizer state, to continue exactly. */
export interface TrainProgress {
  /** Optimizer steps done (the global index of the next step). */
  readonly globalStep: number;
  /** The epoch of the next step; equal to the number of epochs when training is complete. */
  readonly epoch: number;
  /** Steps already done in `epoch`. */
  readonly stepInEpoch: number;
  /** The shuffling generator's state before `epoch`'s shuffle, so a mid-epoch resume sees the same order. */
  readonly epochPrng: PrngState;
  /** Best dev accuracy so far (0 before any improvement, as RunnerV3's `best_score`). */
  readonly bestScore: number;
  /** The step whose evaluation gave `bestScore`, or null. */
  readonly bestStep: number | null;
  /** Training time so far, in milliseconds (evaluation included, data loading excluded). */
  readonly elapsedMs: number;
  /** Early stopping's state: the best monitored value so far (null before the first evaluation), evaluations since. */
  readonly earlyStop?: { readonly best: number | null; readonly wait: number };
  /** With checkpoint.top_k > 1: the kept evaluations (step, monitored value), best first. */
  readonly top?: readonly { readonly step: number; readonly value: number }[];
}

/** An empty history. */
export function emptyHistory(): TrainHistory {
  return { steps: [], logged: [], evaluations: [], epochs: [] };
}

/** A deep copy, so a snapshot handed to a hook does not change as training continues. */
export function copyHistory(h: TrainHistory): TrainHistory {
  return {
    steps: [...h.steps],
    logged: [...h.logged],
    evaluations: [...h.evaluations],
    epochs: [...h.epochs],
  };
}

/**
 * RunnerV3's best-model rule: a dev score replaces the best only when strictly greater (ties keep the earlier
 * model), starting from 0, so an evaluation scoring 0 never saves a model.
 */
export function isImprovement(best: number, score: number): boolean {
  return score > best;
}

/** One finished epoch's numbers, for the epoch line and progress displays. */
export interface EpochInfo {
  /** 0-based. */
  readonly epoch: number;
  readonly epochs: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly devLoss?: number;
  readonly devAccuracy?: number;
  readonly lr: number;
  readonly imagesPerSecond: number;
  readonly epochSeconds: number;
  readonly elapsedSeconds: number;
  readonly improved: boolean;
}

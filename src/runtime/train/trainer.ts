/**
 * The training loop with NNDL's RunnerV3 semantics: per step a forward pass in training mode, cross-entropy on
 * the logits, backward, optimizer step; the loss recorded every step and logged every `logSteps`; a dev
 * evaluation (inference mode) every `evalSteps` and at the last step; the best model handed out whenever dev
 * accuracy improves. Beyond RunnerV3: resumable state, an AbortSignal, divergence detection, schedules.
 *
 * No I/O here: lines, progress and checkpoints leave through the hooks.
 */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { readStateDict, setStateDict, type StateDict } from '../../compiler/targets/tfjs/index.js';
import {
  augments,
  learningRateAt,
  shouldEvaluate,
  shouldLog,
  stepsPerEpoch,
  validateTrainConfig,
  type TrainConfig,
} from './config.js';
import {
  copyHistory,
  emptyHistory,
  isImprovement,
  type EvaluationRecord,
  type StepRecord,
  type TrainHistory,
  type TrainProgress,
} from './history.js';
import {
  bestLine,
  bestLossLine,
  earlyStopLine,
  epochLine,
  evaluateLine,
  plateauWarning,
  trainLine,
  TRAINING_DONE_LINE,
} from './log-lines.js';
import { augmentBatch } from './augment.js';
import type { EpochInfo } from './history.js';
import {
  createOptimizer,
  restoreOptimizerState,
  saveOptimizerState,
  setLearningRate,
  type OptimizerState,
} from './optimizer.js';
import { PendingLosses, readScalars } from './loss-readback.js';
import { crossEntropy, forward, trainStep } from './step.js';
import { Prng } from './prng.js';
import { untrainableReasons } from './trainability.js';
import { OptimizerStateError, TrainInputError } from '../errors.js';

/**
 * Training inputs that do not fit together (config, data, resume state): problems of the user's input, with a
 * message ready to print. Anything else the trainer throws is a bug.
 */
/** Images and labels: NCHW float32 images (already normalized) and integer class labels. Data's `Split` fits. */
export interface LabeledImages {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** The full resumable state of a run: weights (PyTorch layout, BN statistics included), optimizer, progress. */
export interface TrainSnapshot {
  readonly weights: StateDict;
  readonly optimizer: OptimizerState;
  readonly progress: TrainProgress;
  readonly history: TrainHistory;
}

/** The model that gave a new best dev accuracy. */
export interface BestSnapshot {
  readonly weights: StateDict;
  readonly step: number;
  readonly epoch: number;
  readonly score: number;
  readonly loss: number;
}

/** Progress of one step, for progress bars. */
export interface StepInfo extends StepRecord {
  readonly totalSteps: number;
  /** Steps per epoch. */
  readonly stepsPerEpoch: number;
}

/** How a line stands out on a terminal. */
export type TrainLineKind = 'plain' | 'best' | 'warning';

/** How the trainer talks to the outside; every hook is optional and may be async (the loop waits). */
export interface TrainHooks {
  /** One log line (RunnerV3's, an epoch line, a warning), without a newline. */
  log?(line: string, kind?: TrainLineKind): void;
  /** An epoch starts at step `first` of its `steps` (a resumed run may start mid-epoch). */
  epochStart?(epoch: number, steps: number, first: number): void;
  /** An epoch ended (after its line was logged). */
  epochEnd?(info: EpochInfo): void;
  /** The final dev evaluation starts (`batches` batches); `evaluationBatch` follows each. */
  evaluationStart?(batches: number, final: boolean): void;
  evaluationBatch?(done: number): void;
  /**
   * After every optimizer step, once its loss is read back: in step order, at the trainer's read-back points
   * (log steps, dev evaluations, checkpoints, epoch ends, stops, and at least about once a second), so a few
   * steps after the step ran.
   */
  step?(info: StepInfo): void;
  /** After every dev evaluation. */
  evaluated?(record: EvaluationRecord): void;
  /** Whenever dev accuracy improves (before the `best ... updated` line is logged). */
  saveBest?(snapshot: BestSnapshot): Promise<void> | void;
  /**
   * With `checkpoint.topK` > 1: an evaluation entered the k best by the monitored value; save it, and drop the
   * one it pushed out (`evicted`, a step), if any.
   */
  saveTop?(snapshot: BestSnapshot, evicted: number | undefined): Promise<void> | void;
  /** At the end of every epoch, and when stopped by the signal: the resume point. */
  saveLast?(snapshot: TrainSnapshot): Promise<void> | void;
}

/** A snapshot to continue from (from {@link TrainHooks.saveLast}, usually through a checkpoint). */
export interface ResumeFrom {
  readonly weights: StateDict;
  readonly optimizer: OptimizerState;
  readonly progress: TrainProgress;
  readonly history: TrainHistory;
}

/** Arguments of {@link train}. */
export interface TrainArgs {
  /** A model built from `ir` by the tfjs target. */
  readonly model: tf.LayersModel;
  readonly ir: IrNetwork;
  readonly train: LabeledImages;
  readonly dev: LabeledImages;
  readonly config: TrainConfig;
  readonly hooks?: TrainHooks;
  /** When aborted, the current step finishes, `saveLast` gets a mid-epoch snapshot, and train returns 'interrupted'. */
  readonly signal?: AbortSignal;
  readonly resume?: ResumeFrom;
  /** Milliseconds clock; tests may pin it. */
  readonly now?: () => number;
  /** How dev is scored (default {@link evaluate}: accuracy and mean batch loss); another metric may plug in here. */
  readonly evaluateDev?: (
    model: tf.LayersModel,
    ir: IrNetwork,
    split: LabeledImages,
    batchSize: number,
    onBatch?: (done: number) => void,
  ) => EvaluationResult | Promise<EvaluationResult>;
  /** The value uncovered pixels of augmented images take: the normalized black (default -1, Normalize(0.5, 0.5)). */
  readonly augmentFill?: number;
}

/**
 * Where training stopped because numbers blew up: the first non-finite loss (its update and any later steps ran
 * before the loss was read, so the in-memory model is broken; nothing from that step on is saved), or weights
 * that became non-finite (found when a checkpoint was due; BN running variances can overflow while the
 * training-mode loss, which uses batch statistics, stays finite).
 */
export interface Divergence {
  readonly cause: 'loss' | 'weights';
  readonly epoch: number;
  /** The 0-based step within the epoch. */
  readonly stepInEpoch: number;
  readonly globalStep: number;
  /** The step's loss (finite when the cause is 'weights'). */
  readonly loss: number;
  /** For 'weights': the first non-finite tensor, its flat index and value. */
  readonly tensor?: { readonly name: string; readonly index: number; readonly value: number };
}

/** How training ended. */
export type TrainStatus = 'completed' | 'interrupted' | 'diverged';

/**
 * The result of {@link train}: the model keeps the final weights (for 'diverged' they are not usable: the last
 * good state is the last checkpoint handed to `saveLast`).
 */
export interface TrainOutcome {
  readonly status: TrainStatus;
  readonly progress: TrainProgress;
  readonly history: TrainHistory;
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  readonly divergence?: Divergence;
}

/** Result of {@link evaluate}: accuracy over all examples and RunnerV3's loss (the unweighted mean of batch means). */
export interface EvaluationResult {
  readonly accuracy: number;
  readonly loss: number;
  readonly count: number;
}

/**
 * Most losses the trainer keeps on the device before reading them back (one scalar tensor each), so that a run
 * without log lines or evaluations in an epoch still holds a bounded number of tensors.
 */
export const MAX_PENDING_LOSSES = 64;

/** The losses are read back at least this often (milliseconds of the trainer's clock), for progress displays. */
export const READ_INTERVAL_MS = 1000;

/** Checks that a split fits the model: image size, label range. Returns problems as sentences. */
export function checkSplit(split: LabeledImages, ir: IrNetwork, name: string): string[] {
  const numClasses = classCount(ir);
  const sample = ir.inputShape.reduce((a, b) => a * b, 1);
  const problems: string[] = [];
  if (split.count <= 0) problems.push(`the ${name} split is empty`);
  if (split.images.length !== split.count * sample)
    problems.push(
      `the ${name} split has ${split.images.length} values for ${split.count} images of [${ir.inputShape.join(', ')}]`,
    );
  if (split.labels.length !== split.count)
    problems.push(`the ${name} split has ${split.labels.length} labels for ${split.count} images`);
  for (let i = 0; i < split.labels.length; i++) {
    const label = split.labels[i] ?? -1;
    if (!(label >= 0 && label < numClasses)) {
      problems.push(
        `the ${name} split has label ${label} at index ${i}, but '${ir.name}' has ${numClasses} outputs`,
      );
      break;
    }
  }
  return problems;
}

/** The number of classes a network predicts: its flat output size. */
export function classCount(ir: IrNetwork): number {
  if (ir.outputShape.length !== 1)
    throw new Error(`'${ir.name}' does not output flat logits (output [${ir.outputShape.join(', ')}])`);
  return ir.outputShape[0] ?? 0;
}

/** The augmentation generator's seed for one step: a function of the run's seed and the step, so resumes agree. */
function augmentSeed(seed: number, globalStep: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(globalStep + 1, 0x85ebca6b)) | 0;
}

/** Stacks the images and one-hot labels of `indices` into tensors (the images transformed by `augment`). */
function batchOf(
  split: LabeledImages,
  indices: ArrayLike<number>,
  ir: IrNetwork,
  numClasses: number,
  augment?: (images: Float32Array, count: number) => void,
): { x: tf.Tensor; y: tf.Tensor } {
  const sample = ir.inputShape.reduce((a, b) => a * b, 1);
  const n = indices.length;
  const images = new Float32Array(n * sample);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = indices[i] ?? 0;
    images.set(split.images.subarray(k * sample, (k + 1) * sample), i * sample);
    labels[i] = split.labels[k] ?? 0;
  }
  augment?.(images, n);
  return tf.tidy(() => ({
    x: tf.tensor(images, [n, ...ir.inputShape], 'float32'),
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses),
  }));
}

/**
 * Evaluates in inference mode, in order, `batchSize` examples at a time: accuracy over all examples, and the
 * mean of the per-batch mean losses (RunnerV3's convention: the short last batch counts as much as the others).
 * The batch losses and the correct count stay on the device and are read once, at the end.
 */
export async function evaluate(
  model: tf.LayersModel,
  ir: IrNetwork,
  split: LabeledImages,
  batchSize: number,
  onBatch?: (done: number) => void,
): Promise<EvaluationResult> {
  const numClasses = classCount(ir);
  // Every batch's mean loss (float32, in order) and its number of correct predictions (int32, exact).
  const losses: tf.Scalar[] = [];
  const hits: tf.Scalar[] = [];
  try {
    for (let start = 0; start < split.count; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, split.count - start) }, (_, i) => start + i);
      const [loss, right] = tf.tidy((): [tf.Scalar, tf.Scalar] => {
        const { x, y } = batchOf(split, indices, ir, numClasses);
        const logits = forward(model, x, false);
        const right = tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'int32'));
        return [crossEntropy(y, logits), right];
      });
      losses.push(loss);
      hits.push(right);
      onBatch?.(losses.length);
    }
    if (losses.length === 0) return { accuracy: 0, loss: NaN, count: split.count };
    const [lossValues, hitValues] = await Promise.all([readScalars(losses), readScalars(hits)]);
    // Summed in order in doubles, as the per-batch reads did.
    let lossSum = 0;
    let correct = 0;
    for (let i = 0; i < lossValues.length; i++) {
      lossSum += lossValues[i] ?? NaN;
      correct += hitValues[i] ?? 0;
    }
    return { accuracy: correct / split.count, loss: lossSum / lossValues.length, count: split.count };
  } finally {
    tf.dispose([...losses, ...hits]);
  }
}

/** The first non-finite value of a state dict, or undefined when all are finite. */
export function firstNonFinite(dict: StateDict): { name: string; index: number; value: number } | undefined {
  for (const [name, t] of dict) {
    const index = t.data.findIndex((v) => !Number.isFinite(v));
    if (index >= 0) return { name, index, value: t.data[index] ?? NaN };
  }
  return undefined;
}

/** The state before the first step of a run with `config`. */
export function initialProgress(config: TrainConfig): TrainProgress {
  return {
    globalStep: 0,
    epoch: 0,
    stepInEpoch: 0,
    epochPrng: Prng.fromSeed(config.seed).state(),
    bestScore: 0,
    bestStep: null,
    elapsedMs: 0,
    earlyStop: { best: null, wait: 0 },
  };
}

/**
 * Whether `value` enters the k best so far (best first in `top`): always while fewer than k are kept, else only
 * strictly better than the worst kept (ties keep the earlier). A non-finite value never enters.
 */
function topEntry(
  config: TrainConfig,
  top: readonly { step: number; value: number }[],
  value: number,
): true | undefined {
  if (!Number.isFinite(value)) return undefined;
  if (top.length < config.checkpoint.topK) return true;
  const worst = top.at(-1)?.value ?? NaN;
  return (config.checkpoint.monitor === 'dev_loss' ? value < worst : value > worst) ? true : undefined;
}

/** The monitored value of an evaluation, and whether `value` beats `best` (strictly; ties keep the earlier). */
function monitored(monitor: 'dev_loss' | 'dev_accuracy', result: { accuracy: number; loss: number }): number {
  return monitor === 'dev_loss' ? result.loss : result.accuracy;
}

/**
 * RunnerV3's best-model rule, by the checkpoint policy's monitor: dev accuracy strictly above the best (from 0, so
 * an accuracy of 0 never saves), or a finite dev loss strictly below the best (any, for the first).
 */
function improvesBest(
  config: TrainConfig,
  bestScore: number,
  bestStep: number | null,
  r: EvaluationResult,
): boolean {
  if (config.checkpoint.monitor === 'dev_accuracy') return isImprovement(bestScore, r.accuracy);
  return Number.isFinite(r.loss) && (bestStep === null || r.loss < bestScore);
}

/**
 * Trains `model` in place. Throws {@link TrainInputError} for a network that cannot be trained
 * ({@link untrainableReasons}), a bad config, data that does not fit the network (call {@link checkSplit} first to
 * report those nicely) or resume state that does not fit; Error for programming errors. A non-finite loss is a
 * result ('diverged'), not an error.
 */
export async function train(args: TrainArgs): Promise<TrainOutcome> {
  const { model, ir, config, hooks = {}, signal } = args;
  const now = args.now ?? ((): number => performance.now());
  const untrainable = untrainableReasons(ir);
  if (untrainable.length) throw new TrainInputError(untrainable.join('; '));
  const configProblems = validateTrainConfig(config);
  if (configProblems.length)
    throw new TrainInputError(`invalid training config: ${configProblems.join('; ')}`);
  for (const [split, name] of [
    [args.train, 'train'],
    [args.dev, 'dev'],
  ] as const) {
    const problems = checkSplit(split, ir, name);
    if (problems.length) throw new TrainInputError(problems.join('; '));
  }
  const numClasses = classCount(ir);
  const perEpoch = stepsPerEpoch(args.train.count, config.batchSize);
  const totalSteps = config.epochs * perEpoch;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = createOptimizer(config);
  const pending = new PendingLosses<{
    epoch: number;
    stepInEpoch: number;
    globalStep: number;
    lr: number;
    size: number;
  }>();
  const inputShape = ir.inputShape as unknown as readonly [number, number, number];
  const augmenting = ir.inputShape.length === 3 && augments(config.augment);
  const runner = config.logFormat === 'runner';
  try {
    let progress: TrainProgress;
    let history: TrainHistory;
    if (args.resume) {
      const diagnostics = setStateDict(model, ir, args.resume.weights);
      if (diagnostics.length) throw new TrainInputError(diagnostics.map((d) => d.message).join('; '));
      try {
        await restoreOptimizerState(optimizer, args.resume.optimizer, config.optimizer, model);
      } catch (e) {
        if (e instanceof OptimizerStateError) throw new TrainInputError(e.message);
        throw e;
      }
      progress = args.resume.progress;
      history = copyHistory(args.resume.history);
      if (
        progress.globalStep !== progress.epoch * perEpoch + progress.stepInEpoch ||
        progress.epoch > config.epochs
      )
        throw new TrainInputError(
          `resume state is inconsistent: step ${progress.globalStep} at epoch ${progress.epoch}, step ${progress.stepInEpoch} ` +
            `of ${perEpoch} per epoch and ${config.epochs} epochs`,
        );
    } else {
      progress = initialProgress(config);
      history = emptyHistory();
    }
    const log = (line: string, kind?: TrainLineKind): void => hooks.log?.(line, kind);
    const started = now();
    const elapsedBefore = progress.elapsedMs;
    const elapsed = (): number => elapsedBefore + (now() - started);
    const snapshot = async (p: TrainProgress): Promise<TrainSnapshot> => ({
      weights: await readStateDict(model, ir),
      optimizer: await saveOptimizerState(optimizer, config.optimizer, model),
      progress: p,
      history: copyHistory(history),
    });
    const stopped = (
      status: 'interrupted' | 'diverged',
      at: TrainProgress,
      divergence?: Divergence,
    ): TrainOutcome => ({
      status,
      progress: at,
      history,
      totalSteps,
      stepsPerEpoch: perEpoch,
      ...(divergence ? { divergence } : {}),
    });
    /** Checks weights due for saving; a non-finite value ends the run as diverged (nothing bad is saved). */
    const badWeights = (
      weights: StateDict,
      at: { epoch: number; stepInEpoch: number; globalStep: number; loss: number },
    ): Divergence | undefined => {
      const tensor = firstNonFinite(weights);
      return tensor ? { cause: 'weights', ...at, tensor } : undefined;
    };

    let { globalStep, bestScore, bestStep } = progress;
    let epochPrng = progress.epochPrng;
    let earlyStop = progress.earlyStop ?? { best: null, wait: 0 };
    let top: { step: number; value: number }[] = [...(progress.top ?? [])];
    const stoppedEarly = (): boolean =>
      config.earlyStopping !== null && earlyStop.wait >= config.earlyStopping.patience;
    // The epoch's running numbers for its line: correct predictions and images of the steps read back.
    let epochCorrect = 0;
    let epochSeen = 0;
    let epochEvalMs = 0;
    let epochDev: EvaluationResult | undefined;
    let epochImproved = false;
    let warnedPlateau = false;
    /** Where the run stands, to resume at `stepInEpoch` of `epoch` (global step `step`, by default the next one). */
    const progressAt = (epoch: number, stepInEpoch: number, step = globalStep): TrainProgress => ({
      globalStep: step,
      epoch,
      stepInEpoch,
      epochPrng,
      bestScore,
      bestStep,
      elapsedMs: elapsed(),
      earlyStop,
      ...(config.checkpoint.topK > 1 ? { top: [...top] } : {}),
    });
    let lastRead = now();
    /**
     * Reads the queued losses back and records them in step order (history, log lines, step hooks). The first
     * non-finite loss is a divergence: it and every step after it are dropped, since their updates used it.
     */
    const readLosses = async (): Promise<Divergence | undefined> => {
      const read = await pending.read();
      lastRead = now();
      for (const { step: q, loss, correct } of read) {
        if (!Number.isFinite(loss)) return { cause: 'loss', ...q, loss };
        const record: StepRecord = { step: q.globalStep, epoch: q.epoch, loss, lr: q.lr };
        history.steps.push(record);
        epochCorrect += correct ?? 0;
        epochSeen += q.size;
        if (shouldLog(q.globalStep, config.logSteps, perEpoch)) {
          history.logged.push(q.globalStep);
          if (runner) log(trainLine(q.epoch, config.epochs, q.globalStep, totalSteps, loss));
        }
        hooks.step?.({ ...record, totalSteps, stepsPerEpoch: perEpoch });
      }
      return undefined;
    };
    /** The outcome of a divergence found among the read losses: progress as it stood before the bad step. */
    const diverged = (d: Divergence): TrainOutcome =>
      stopped('diverged', progressAt(d.epoch, d.stepInEpoch, d.globalStep), d);
    for (let epoch = progress.epoch; epoch < config.epochs && !stoppedEarly(); epoch++) {
      const prng = Prng.fromState(epochPrng);
      const order = prng.permutation(args.train.count);
      const nextEpochPrng = prng.state();
      const first = epoch === progress.epoch ? progress.stepInEpoch : 0;
      const epochStarted = now();
      epochCorrect = 0;
      epochSeen = 0;
      epochEvalMs = 0;
      epochDev = undefined;
      epochImproved = false;
      let lr = learningRateAt(config, globalStep, perEpoch);
      hooks.epochStart?.(epoch, perEpoch, first);
      let stopNow = false;
      let stoppedMidEpoch = false;
      for (let s = first; s < perEpoch; s++) {
        lr = learningRateAt(config, globalStep, perEpoch);
        setLearningRate(optimizer, lr);
        const indices = order.subarray(
          s * config.batchSize,
          Math.min((s + 1) * config.batchSize, args.train.count),
        );
        const { x, y } = batchOf(
          args.train,
          indices,
          ir,
          numClasses,
          augmenting
            ? (images, n): void =>
                augmentBatch(
                  images,
                  inputShape,
                  n,
                  config.augment,
                  Prng.fromSeed(augmentSeed(config.seed, globalStep)),
                  args.augmentFill ?? -1,
                )
            : undefined,
        );
        try {
          const step = trainStep(model, variables, optimizer, x, y, {
            weightDecay: config.weightDecay,
            decoupled: config.optimizer === 'adamw',
            lr,
            labelSmoothing: config.labelSmoothing,
            countCorrect: true,
          });
          pending.push(
            { epoch, stepInEpoch: s, globalStep, lr, size: indices.length },
            step.loss,
            step.correct,
          );
        } finally {
          x.dispose();
          y.dispose();
        }
        const evaluates = shouldEvaluate(globalStep, config.evalSteps, totalSteps, perEpoch);
        if (
          evaluates ||
          shouldLog(globalStep, config.logSteps, perEpoch) ||
          s === perEpoch - 1 ||
          pending.size >= MAX_PENDING_LOSSES ||
          now() - lastRead >= READ_INTERVAL_MS
        ) {
          const divergence = await readLosses();
          if (divergence) return diverged(divergence);
        }
        if (evaluates) {
          const loss = history.steps.at(-1)?.loss ?? NaN;
          const evalStarted = now();
          const final = globalStep === totalSteps - 1;
          const batches = Math.ceil(args.dev.count / config.batchSize);
          if (final) hooks.evaluationStart?.(batches, true);
          const result = await (args.evaluateDev ?? evaluate)(
            model,
            ir,
            args.dev,
            config.batchSize,
            final ? (done): void => hooks.evaluationBatch?.(done) : undefined,
          );
          epochEvalMs += now() - evalStarted;
          epochDev = result;
          if (runner) log(evaluateLine(result.accuracy, result.loss));
          const improved = improvesBest(config, bestScore, bestStep, result);
          const evaluation: EvaluationRecord = {
            step: globalStep,
            epoch,
            score: result.accuracy,
            loss: result.loss,
            improved,
          };
          history.evaluations.push(evaluation);
          hooks.evaluated?.(evaluation);
          if (improved) {
            const weights = await readStateDict(model, ir);
            const bad = badWeights(weights, { epoch, stepInEpoch: s, globalStep, loss });
            if (bad) return stopped('diverged', progressAt(epoch, s), bad);
            await hooks.saveBest?.({
              weights,
              step: globalStep,
              epoch,
              score: result.accuracy,
              loss: result.loss,
            });
            const value = monitored(config.checkpoint.monitor, result);
            if (runner)
              log(
                config.checkpoint.monitor === 'dev_accuracy'
                  ? bestLine(bestScore, value)
                  : bestLossLine(bestStep === null ? null : bestScore, value),
                'best',
              );
            bestScore = value;
            bestStep = globalStep;
            epochImproved = true;
          }
          if (config.checkpoint.topK > 1) {
            const value = monitored(config.checkpoint.monitor, result);
            const entry = topEntry(config, top, value);
            if (entry !== undefined) {
              const weights = await readStateDict(model, ir);
              const evicted = top.length >= config.checkpoint.topK ? top.at(-1)?.step : undefined;
              const ranked = [...top, { step: globalStep, value }].sort((a, b) =>
                config.checkpoint.monitor === 'dev_loss' ? a.value - b.value : b.value - a.value,
              );
              top = ranked.slice(0, config.checkpoint.topK);
              await hooks.saveTop?.(
                { weights, step: globalStep, epoch, score: result.accuracy, loss: result.loss },
                evicted,
              );
            }
          }
          const devLosses = history.evaluations.map((e) => e.loss);
          if (!warnedPlateau && devLosses.length >= 3) {
            warnedPlateau = true;
            const warning = plateauWarning(devLosses, result.accuracy, numClasses, config);
            if (warning) log(warning, 'warning');
          }
          if (config.earlyStopping) {
            const es = config.earlyStopping;
            const value = monitored(es.monitor, result);
            const better =
              earlyStop.best === null ||
              (es.mode === 'min'
                ? value < earlyStop.best - es.minDelta
                : value > earlyStop.best + es.minDelta);
            earlyStop = better
              ? { best: value, wait: 0 }
              : { best: earlyStop.best, wait: earlyStop.wait + 1 };
            if (stoppedEarly()) {
              log(earlyStopLine(es, earlyStop.best ?? value, epoch, config.epochs, globalStep, totalSteps));
              stopNow = true;
            }
          }
        }
        globalStep += 1;
        // Let timers and signal handlers run (progress bars, SIGINT), or an abort could never arrive.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (stopNow && s + 1 < perEpoch) {
          // Early stopping mid-epoch: the resume point is the next step, so a larger patience can continue.
          const divergence = await readLosses();
          if (divergence) return diverged(divergence);
          const at = progressAt(epoch, s + 1);
          const snap = await snapshot(at);
          await hooks.saveLast?.(snap);
          progress = at;
          stoppedMidEpoch = true;
          break;
        }
        if (signal?.aborted && s + 1 < perEpoch) {
          const divergence = await readLosses();
          if (divergence) return diverged(divergence);
          const at = progressAt(epoch, s + 1);
          const snap = await snapshot(at);
          const loss = history.steps.at(-1)?.loss ?? NaN;
          const bad = badWeights(snap.weights, { epoch, stepInEpoch: s, globalStep: globalStep - 1, loss });
          if (bad) return stopped('diverged', at, bad);
          await hooks.saveLast?.(snap);
          return stopped('interrupted', at);
        }
      }
      // The last step of the epoch was read above; this only matters if the loop ran no step.
      const divergence = await readLosses();
      if (divergence) return diverged(divergence);
      if (stoppedMidEpoch) break;
      const epochSteps = history.steps.filter((r) => r.epoch === epoch);
      const epochMs = now() - epochStarted;
      const trainMs = Math.max(epochMs - epochEvalMs, 1e-3);
      const record = {
        epoch,
        loss: epochSteps.reduce((a, r) => a + r.loss, 0) / Math.max(1, epochSteps.length),
        accuracy: epochSeen > 0 ? epochCorrect / epochSeen : 0,
        imagesPerSecond: (epochSeen * 1000) / trainMs,
        seconds: epochMs / 1000,
      };
      history.epochs.push(record);
      const info: EpochInfo = {
        epoch,
        epochs: config.epochs,
        trainLoss: record.loss,
        trainAccuracy: record.accuracy,
        ...(epochDev ? { devLoss: epochDev.loss, devAccuracy: epochDev.accuracy } : {}),
        lr,
        imagesPerSecond: record.imagesPerSecond,
        epochSeconds: record.seconds,
        elapsedSeconds: elapsed() / 1000,
        improved: epochImproved,
      };
      log(epochLine(info), epochImproved && !runner ? 'best' : 'plain');
      hooks.epochEnd?.(info);
      epochPrng = nextEpochPrng;
      const at = progressAt(epoch + 1, 0);
      const snap = await snapshot(at);
      const lastStep = history.steps.at(-1);
      const bad = badWeights(snap.weights, {
        epoch,
        stepInEpoch: perEpoch - 1,
        globalStep: globalStep - 1,
        loss: lastStep?.loss ?? NaN,
      });
      if (bad) return stopped('diverged', at, bad);
      await hooks.saveLast?.(snap);
      progress = at;
      if (signal?.aborted && epoch + 1 < config.epochs && !stoppedEarly()) return stopped('interrupted', at);
    }
    if (runner) log(TRAINING_DONE_LINE);
    const done: TrainProgress = { ...progress, elapsedMs: elapsed() };
    return { status: 'completed', progress: done, history, totalSteps, stepsPerEpoch: perEpoch };
  } finally {
    pending.dispose();
    disposeOptimizer(optimizer);
  }
}

/** Frees everything an optimizer holds; tfjs's MomentumOptimizer.dispose forgets the learning-rate scalar. */
function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer.getClassName() === 'Momentum') {
    const c = (optimizer as unknown as { c?: tf.Tensor }).c;
    if (c && !c.isDisposed) c.dispose();
  }
}

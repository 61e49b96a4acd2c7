/**
 * One training run, start to end, as RunnerV3 (NNDL 5.4) runs it: the run folder (new, resumed or replacing one),
 * the resume checks, the config, the backend, the data, the training loop with its checkpoints and metrics, then
 * the best model loaded back and tested, and the curves drawn. What it shows goes through {@link SessionOutput}
 * and into train.log; how a run is stopped early is the caller's (the CLI watches signals) through
 * {@link StopControls}. Errors are the runtime's (src/runtime/errors.ts), ready to print.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel, setStateDict, type StateDict } from '../../compiler/targets/tfjs/index.js';
import { selectBackend, type BackendName, type BackendSelection } from '../backends/index.js';
import {
  checkRunFolder,
  loadCheckpoint,
  openRunFolder,
  recoverRunFolder,
  resumePoint,
  saveCheckpoint,
  type CheckpointContents,
  type LoadedCheckpoint,
  type RunFolder,
  type RunFolderMode,
} from '../checkpoint/index.js';
import { TrainInputError, writeFailure } from '../errors.js';
import { pointLatest } from '../checkpoint/versions.js';
import { validateTrainConfig, type RunConfig, type TrainConfig } from '../train/config.js';
import type { EpochInfo, TrainProgress } from '../train/history.js';
import { formatFixed, testLine } from '../train/log-lines.js';
import { bestOf, type RunMetrics, type TestRecord } from '../train/metrics.js';
import { train, type TrainOutcome } from '../train/trainer.js';
import { runConfigOf, type RunSettings } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { finalRecord, testBest, writeCurves } from './finish.js';
import { divergenceMessage, MetricsRecord, previousResumes } from './record.js';
import { checkResumeConfig, checkResumeNetwork } from './resume.js';

/** How a line of the run's story should stand out on a terminal (the CLI colours it; train.log has plain text). */
export type LineKind = 'plain' | 'best' | 'warning' | 'result';

/** What the progress display shows: one epoch of training, or an evaluation pass of its own. */
export type ProgressPhase =
  | {
      readonly kind: 'train';
      /** 0-based epoch, of `epochs`. */
      readonly epoch: number;
      readonly epochs: number;
      /** Steps in this epoch, and how many of them are already done (a resumed run). */
      readonly steps: number;
      readonly done: number;
      readonly batchSize: number;
    }
  | {
      readonly kind: 'evaluate';
      /** `dev` for the final dev evaluation, `test` for testing the best model. */
      readonly split: 'dev' | 'test';
      /** Batches to evaluate. */
      readonly batches: number;
    };

/** The numbers of one finished epoch, for the per-epoch line (Keras `fit`'s) and the console. */
export type EpochSummary = EpochInfo;

/** Where a run shows what it does. Lines also go to train.log once the folder is open; notes do not. */
export interface SessionOutput {
  /** A line of the run's story (backend, data, training and evaluation lines, the result). */
  line(text: string, kind?: LineKind): void;
  /** A line for train.log that the console shows only when asked to be verbose (the backend probe's reasons). */
  detail?(text: string): void;
  /** A remark about files outside the run's story (a previous run put back); the CLI prints it on stderr. */
  note(text: string): void;
  /** A progress phase starts (each epoch, the final dev evaluation, the test). */
  startProgress?(phase: ProgressPhase): void;
  /** `done` steps (or batches, for an evaluation) of the phase are finished; for training, the last loss. */
  progress?(done: number, loss?: number): void;
  /** An epoch ended: its numbers (its line has been shown through `line` just before). */
  epochEnd?(summary: EpochSummary): void;
  /** The phase has ended (also on errors). */
  stopProgress?(): void;
}

/** What the caller may do to a run that is training, once it has started. */
export interface StopControls {
  /** True until the training loop has returned. */
  isTraining(): boolean;
  /** Finish the current step, save checkpoints/last, and end the run as 'interrupted'. */
  stop(): void;
  /** Show a line (and log it). */
  line(text: string): void;
  /** Give the folder up now (releasing its lock); for a caller about to exit at once. */
  abandon(): void;
}

/** One run to do. */
export interface RunRequest {
  /** The spec file, for messages and the record. */
  readonly spec: string;
  readonly ir: IrNetwork;
  readonly settings: RunSettings;
  /** Which settings the user stated (on resume, the others come from the checkpoint). */
  readonly given: ReadonlySet<string>;
  readonly backend: BackendName;
  readonly out: string;
  readonly mode: RunFolderMode;
  /** The command that continues this run, for the line printed when it stops early. */
  readonly resumeCommand: string;
  readonly output: SessionOutput;
  /** Called once the run is ready to train; returns what undoes it (the CLI watches signals here). */
  readonly watchStops?: (controls: StopControls) => () => void;
  /** performance.now() when the command started (for wallSeconds); default: when the session started. */
  readonly startedAt?: number;
  /** Weights a new run starts from instead of its seeded initialization (`--init-from`), and what they are. */
  readonly initFrom?: { readonly weights: StateDict; readonly description: string };
  /** Where the settings came from, for the settings line (`specs/lenet5.yaml training:, --epochs`). */
  readonly settingsFrom?: string;
  /** `out` is a `version_<N>` folder: point its parent's `latest` link at it once it is open. */
  readonly linkLatest?: boolean;
}

/** How a run ended. */
export interface RunResult {
  readonly status: 'completed' | 'interrupted' | 'diverged';
  /** For 'diverged': the error to show; for 'interrupted': the line that says how to continue. */
  readonly message?: string;
  readonly metrics: RunMetrics;
}

/** What is known once the options, backend and data are checked, before anything is written. */
interface Prepared {
  readonly last: LoadedCheckpoint | undefined;
  readonly config: RunConfig;
  readonly backend: BackendSelection;
  readonly data: RunData;
}

/**
 * Runs `request`. Nothing is created or replaced until the spec, options, backend and data are known to be good;
 * a resumed folder is opened (and locked) first because its checkpoint holds the options. A `force` run that
 * fails before its first checkpoint puts back the run it replaced.
 */
export async function runSession(request: RunRequest): Promise<RunResult> {
  const startedAt = request.startedAt ?? performance.now();
  const { out, mode } = request;
  let folder: RunFolder | undefined;
  let repaired: string[] = [];
  try {
    repaired = recoverRunFolder(out);
    checkRunFolder(out, mode);
    if (mode === 'resume') folder = openRunFolder(out, mode);
  } catch (e) {
    throw writeFailure(e, out) ?? e;
  }
  const log = new RunLog(request.output);
  let failed = true;
  try {
    for (const action of repaired) log.line(`note: ${out}: ${action}`, 'warning');
    for (const action of folder?.recovered ?? []) log.line(`note: ${out}/checkpoints: ${action}`, 'warning');
    const prepared = await prepare(request, folder, log);
    if (!folder) folder = openOrExplain(out, mode);
    if (request.linkLatest) {
      const note = pointLatest(out);
      if (note) request.output.note(note);
    }
    const run = reportingWriteErrors(folder);
    log.attach(run);
    const result = await new Training(request, prepared, run, log, startedAt).run();
    failed = result.status === 'diverged';
    return result;
  } finally {
    const restored = folder?.close(failed);
    if (restored) request.output.note(restored);
  }
}

function openOrExplain(out: string, mode: RunFolderMode): RunFolder {
  try {
    return openRunFolder(out, mode);
  } catch (e) {
    throw writeFailure(e, out) ?? e;
  }
}

/** Checks the resume point, settles the config, selects the backend and loads the data, telling each. */
async function prepare(request: RunRequest, folder: RunFolder | undefined, log: RunLog): Promise<Prepared> {
  const { ir, spec } = request;
  let last: LoadedCheckpoint | undefined;
  if (folder) {
    last = loadCheckpoint(folder.lastDir);
    checkResumeNetwork(last, ir, spec);
  }
  const config = runConfigOf(request.settings, request.given, last?.meta.config);
  const problems = validateTrainConfig(config.training);
  if (problems.length) throw new TrainInputError(problems.join('; '));
  if (last) checkResumeConfig(last, config, request.out);
  const backend = await selectBackend(request.backend);
  log.line(`backend: ${backend.name}`);
  // A software GPU is said on the console too: its times are a CPU's, not a GPU's.
  if (backend.adapter?.software)
    log.line(
      `note: ${backend.adapter.description || 'the adapter'} is a software GPU (a CPU emulating one): correct, but slow`,
      'warning',
    );
  for (const reason of backend.reasons) log.detail(`  ${reason}`);
  if (last && last.meta.backend !== backend.name)
    log.line(
      `note: this run started on ${last.meta.backend}; continuing on ${backend.name} (not bit-identical to an uninterrupted run)`,
      'warning',
    );
  const data = await loadRunData(ir, config);
  log.line(`data: ${data.description}`);
  log.line(`network: ${ir.name} (${spec}); ${describeTraining(config.training)}`);
  if (request.settingsFrom) log.line(`settings: ${request.settingsFrom}`);
  if (request.initFrom && !last) log.line(`weights: from ${request.initFrom.description}`);
  return { last, config, backend, data };
}

/** The run's effective training settings in one line (the non-default extras only when set). */
export function describeTraining(t: TrainConfig): string {
  const schedule = t.schedule;
  const scheduleText =
    schedule.kind === 'constant'
      ? ''
      : schedule.kind === 'step'
        ? ` (step schedule: x${schedule.gamma} every ${schedule.stepEpochs} epochs)`
        : ` (cosine schedule to ${schedule.minLr})`;
  const extras = [
    t.optimizer === 'momentum' ? `momentum ${t.momentum}${t.nesterov ? ' (Nesterov)' : ''}` : '',
    t.weightDecay > 0 ? `weight decay ${t.weightDecay}${t.optimizer === 'adamw' ? ' (decoupled)' : ''}` : '',
    t.warmupEpochs > 0 ? `warmup ${t.warmupEpochs} epoch${t.warmupEpochs === 1 ? '' : 's'}` : '',
    t.labelSmoothing > 0 ? `label smoothing ${t.labelSmoothing}` : '',
    t.earlyStopping
      ? `early stopping on ${t.earlyStopping.monitor} (${t.earlyStopping.mode}, patience ${t.earlyStopping.patience}` +
        `${t.earlyStopping.minDelta > 0 ? `, min_delta ${t.earlyStopping.minDelta}` : ''})`
      : '',
    t.checkpoint.monitor !== 'dev_accuracy' || t.checkpoint.topK > 1
      ? `best by ${t.checkpoint.monitor}${t.checkpoint.topK > 1 ? `, top ${t.checkpoint.topK} kept` : ''}`
      : '',
    describeAugmentation(t.augment),
  ].filter(Boolean);
  const cadence = (c: TrainConfig['evalSteps']): string =>
    c === 'epoch' ? 'each epoch' : c === 0 ? 'never' : c === 1 ? 'every step' : `every ${c} steps`;
  return (
    `optimizer ${t.optimizer}, lr ${t.lr}${scheduleText}, batch ${t.batchSize}, ${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, ` +
    `seed ${t.seed}${extras.length ? `, ${extras.join(', ')}` : ''}; dev evaluation ${cadence(t.evalSteps)}`
  );
}

function describeAugmentation(a: TrainConfig['augment']): string {
  const parts = [
    a.cropPadding > 0 ? `random crop (padding ${a.cropPadding})` : '',
    a.hflip ? 'horizontal flip' : '',
    a.rotate > 0 ? `rotation +-${a.rotate} degrees` : '',
    a.translate > 0 ? `shift +-${a.translate}` : '',
    a.scale > 0 ? `zoom +-${a.scale}` : '',
  ].filter(Boolean);
  return parts.length ? `augmentation: ${parts.join(', ')}` : '';
}

/** The run's lines: shown, and appended to train.log (those before the folder opened, once it does). */
class RunLog {
  private folder: RunFolder | undefined;
  private pending: string[] = [];

  constructor(readonly output: SessionOutput) {}

  attach(folder: RunFolder): void {
    this.folder = folder;
    if (this.pending.length) folder.appendLog(this.pending.join('\n'));
    this.pending = [];
  }

  line(text: string, kind?: LineKind): void {
    this.output.line(text, kind);
    this.append(text);
  }

  /** A line for train.log that the console shows only when verbose. */
  detail(text: string): void {
    if (this.output.detail) this.output.detail(text);
    this.append(text);
  }

  private append(text: string): void {
    if (this.folder) this.folder.appendLog(text);
    else this.pending.push(text);
  }
}

/** The training part of a run, on an open folder. */
class Training {
  private readonly model: tf.LayersModel;
  private readonly record: MetricsRecord;
  private readonly controller = new AbortController();
  private lastSaved: TrainProgress | null;
  private training = true;

  constructor(
    private readonly request: RunRequest,
    private readonly prepared: Prepared,
    private readonly folder: RunFolder,
    private readonly log: RunLog,
    startedAt: number,
  ) {
    const { last, config, data } = prepared;
    const t = config.training;
    const stepsPerEpoch = Math.ceil(data.train.count / t.batchSize);
    const resumes = last ? 1 + previousResumes(folder.metricsFile) : 0;
    const shape = { stepsPerEpoch, totalSteps: stepsPerEpoch * t.epochs };
    this.record = new MetricsRecord(
      request.ir,
      request.spec,
      prepared.backend,
      config,
      data,
      shape,
      resumes,
      startedAt,
      last ? null : (request.initFrom?.description ?? null),
    );
    this.lastSaved = last?.meta.progress ?? null;
    this.model = buildModel(request.ir, { seed: t.seed });
    if (request.initFrom && !last) {
      const diagnostics = setStateDict(this.model, request.ir, request.initFrom.weights);
      if (diagnostics.length) {
        this.model.dispose();
        throw new TrainInputError(
          `--init-from ${request.initFrom.description}: ${diagnostics.map((d) => d.message).join('; ')}`,
        );
      }
    }
  }

  async run(): Promise<RunResult> {
    const { out } = this.request;
    const { last, config } = this.prepared;
    if (this.folder.replacing)
      this.log.line(
        `note: the previous run in ${out} is kept aside until this run saves its first checkpoint (--force)`,
      );
    if (last?.meta.progress) {
      const p = last.meta.progress;
      const before = last.meta.config.training.epochs;
      const now = config.training.epochs;
      const es = config.training.earlyStopping;
      const stoppedEarly = es !== null && (p.earlyStop?.wait ?? 0) >= es.patience;
      this.log.line(
        `[Resume] from ${this.folder.lastDir}: epoch ${p.epoch}/${now}, step ${p.globalStep}` +
          (now > before
            ? ` (extended from ${before} to ${now} epochs; the learning-rate schedule is that of a ${now}-epoch run, continued at step ${p.globalStep})`
            : '') +
          (p.epoch >= now || stoppedEarly
            ? ` (training was ${stoppedEarly ? 'stopped early' : 'complete'}; testing the best model again)`
            : ''),
      );
    }
    const unwatch = this.request.watchStops?.(this.controls()) ?? ((): void => undefined);
    try {
      const outcome = await this.trainModel();
      return await this.finish(outcome);
    } finally {
      unwatch();
      this.model.dispose();
    }
  }

  private controls(): StopControls {
    return {
      isTraining: () => this.training,
      stop: () => this.controller.abort(),
      line: (text) => this.log.line(text, 'warning'),
      abandon: () => {
        this.request.output.stopProgress?.();
        this.folder.close(true);
      },
    };
  }

  private save(dir: string, contents: Omit<CheckpointContents, 'ir' | 'config' | 'backend'>): void {
    const { ir } = this.request;
    const { config, backend } = this.prepared;
    try {
      saveCheckpoint(dir, { ...contents, ir, config, backend: backend.name });
    } catch (e) {
      throw writeFailure(e, dir, 'the checkpoint was not saved') ?? e;
    }
    this.folder.commit();
  }

  private async trainModel(): Promise<TrainOutcome> {
    const { output, ir } = this.request;
    const { last, config, data } = this.prepared;
    const resume = resumePoint(last);
    try {
      const batchSize = config.training.batchSize;
      const epochs = config.training.epochs;
      return await train({
        model: this.model,
        ir,
        train: data.train,
        dev: data.dev,
        config: config.training,
        signal: this.controller.signal,
        ...(resume ? { resume } : {}),
        hooks: {
          log: (line, kind) => this.log.line(line, kind),
          epochStart: (epoch, steps, first) =>
            output.startProgress?.({ kind: 'train', epoch, epochs, steps, done: first, batchSize }),
          step: (s) => output.progress?.(s.step + 1 - s.epoch * s.stepsPerEpoch, s.loss),
          epochEnd: (info) => {
            output.epochEnd?.(info);
            output.stopProgress?.();
          },
          evaluationStart: (batches) => {
            output.stopProgress?.();
            output.startProgress?.({ kind: 'evaluate', split: 'dev', batches });
          },
          evaluationBatch: (done) => output.progress?.(done),
          saveBest: (b) =>
            this.save(this.folder.bestDir, {
              kind: 'best',
              weights: b.weights,
              best: { step: b.step, epoch: b.epoch, score: b.score, loss: b.loss },
            }),
          saveTop: (b, evicted) => {
            const checkpoints = path.dirname(this.folder.bestDir);
            this.save(path.join(checkpoints, `step-${b.step}`), {
              kind: 'best',
              weights: b.weights,
              best: { step: b.step, epoch: b.epoch, score: b.score, loss: b.loss },
            });
            // A checkpoint of this run's own top k that fell out of it.
            if (evicted !== undefined)
              fs.rmSync(path.join(checkpoints, `step-${evicted}`), { recursive: true, force: true });
          },
          saveLast: (s) => {
            const { weights, optimizer, progress, history } = s;
            this.save(this.folder.lastDir, {
              kind: 'last',
              weights,
              optimizer,
              progress,
              history,
              best: bestOf(history),
            });
            this.lastSaved = progress;
            this.folder.writeMetrics(this.record.of('running', history, progress.elapsedMs));
          },
        },
      });
    } finally {
      this.training = false;
      output.stopProgress?.();
    }
  }

  private async finish(outcome: TrainOutcome): Promise<RunResult> {
    const { out } = this.request;
    const t = this.prepared.config.training;
    const { history, progress } = outcome;
    if (outcome.status === 'diverged' && outcome.divergence) {
      const metrics = this.record.of('diverged', history, progress.elapsedMs, null, outcome.divergence);
      this.folder.writeMetrics(metrics);
      const kept = { dir: this.folder.lastDir, progress: this.lastSaved };
      const message = divergenceMessage(outcome.divergence, t.epochs, this.record.shape, t.lr, kept);
      this.folder.appendLog(`error: ${message}`);
      return { status: 'diverged', message, metrics };
    }
    if (outcome.status === 'interrupted') {
      const metrics = this.record.of('interrupted', history, progress.elapsedMs);
      this.folder.writeMetrics(metrics);
      const message =
        `[Train] stopped at epoch ${progress.epoch}/${t.epochs}, step ${progress.globalStep}/${this.record.shape.totalSteps}; ` +
        `continue with: ${this.request.resumeCommand}`;
      this.log.line(message, 'warning');
      return { status: 'interrupted', message, metrics };
    }
    const { output } = this.request;
    const testSplit = this.prepared.data.test;
    output.startProgress?.({
      kind: 'evaluate',
      split: 'test',
      batches: Math.ceil(testSplit.count / t.batchSize),
    });
    let test: TestRecord;
    try {
      test = await testBest(
        this.model,
        this.request.ir,
        this.folder.bestDir,
        testSplit,
        t.batchSize,
        (done) => output.progress?.(done),
      );
    } finally {
      output.stopProgress?.();
    }
    if (test.model === 'final')
      this.log.line('note: no dev evaluation improved on 0; testing the final model', 'warning');
    this.log.line(testLine(test.accuracy, test.loss), 'result');
    const final = {
      ...(await finalRecord(this.model, this.request.ir, this.prepared.data, t.batchSize)),
      ...(progress.top
        ? { topCheckpoints: progress.top.map((e) => ({ ...e, dir: `checkpoints/step-${e.step}` })) }
        : {}),
    };
    if (final.trainEvaluation)
      this.log.line(
        `[Final] train accuracy/loss: ${formatFixed(final.trainEvaluation.accuracy, 4)}/${formatFixed(final.trainEvaluation.loss, 4)} (the tested model, inference mode)`,
      );
    const metrics = this.record.of('completed', history, progress.elapsedMs, test, null, final);
    this.folder.writeMetrics(metrics);
    const written = await writeCurves(this.folder, metrics);
    this.log.line(`wrote ${out}: ${[...runFiles(this.folder), ...written].join(', ')}`, 'result');
    return { status: 'completed', metrics };
  }
}

/** The run's files that exist, for the final line: `train.log, metrics.json, checkpoints/{best,last}`. */
function runFiles(run: RunFolder): string[] {
  const checkpoints = [run.bestDir, run.lastDir].filter((d) => fs.existsSync(d)).map((d) => path.basename(d));
  return [
    'train.log',
    'metrics.json',
    ...(checkpoints.length === 2 ? ['checkpoints/{best,last}'] : checkpoints.map((c) => `checkpoints/${c}`)),
  ];
}

/** The run folder, with a file-system failure of its log, metrics or curves reported as an error naming the file. */
function reportingWriteErrors(folder: RunFolder): RunFolder {
  const guard =
    <A extends unknown[]>(write: (...args: A) => void, file: (...args: A) => string) =>
    (...args: A): void => {
      try {
        write(...args);
      } catch (e) {
        throw writeFailure(e, file(...args), null) ?? e;
      }
    };
  return {
    ...folder,
    appendLog: guard(folder.appendLog, () => path.join(folder.dir, 'train.log')),
    writeMetrics: guard(folder.writeMetrics, () => path.join(folder.dir, 'metrics.json')),
    writeFile: guard(folder.writeFile, (name) => path.join(folder.dir, name)),
  };
}

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
import { buildModel } from '../../compiler/targets/tfjs/index.js';
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
import { validateTrainConfig, type RunConfig, type TrainConfig } from '../train/config.js';
import type { TrainProgress } from '../train/history.js';
import { testLine } from '../train/log-lines.js';
import { bestOf, type RunMetrics } from '../train/metrics.js';
import { train, type TrainOutcome } from '../train/trainer.js';
import { runConfigOf, type RunSettings } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { testBest, writeCurves } from './finish.js';
import { divergenceMessage, MetricsRecord, previousResumes } from './record.js';
import { checkResumeConfig, checkResumeNetwork } from './resume.js';

/** Where a run shows what it does. Lines also go to train.log once the folder is open; notes do not. */
export interface SessionOutput {
  /** A line of the run's story (backend, data, training and evaluation lines, the result). */
  line(text: string): void;
  /** A remark about files outside the run's story (a previous run put back); the CLI prints it on stderr. */
  note(text: string): void;
  /** Training starts: `total` steps, `done` of them already (a resumed run). */
  startProgress?(total: number, done: number): void;
  /** `done` steps are finished; the last one's loss. */
  progress?(done: number, loss: number): void;
  /** Training has ended (also on errors). */
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
    for (const action of repaired) log.line(`note: ${out}: ${action}`);
    for (const action of folder?.recovered ?? []) log.line(`note: ${out}/checkpoints: ${action}`);
    const prepared = await prepare(request, folder, log);
    if (!folder) folder = openOrExplain(out, mode);
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
  for (const reason of backend.reasons) log.line(`  ${reason}`);
  if (last && last.meta.backend !== backend.name)
    log.line(
      `note: this run started on ${last.meta.backend}; continuing on ${backend.name} (not bit-identical to an uninterrupted run)`,
    );
  const data = await loadRunData(ir, config);
  log.line(`data: ${data.description}`);
  log.line(`network: ${ir.name} (${spec}); ${describeTraining(config.training)}`);
  return { last, config, backend, data };
}

function describeTraining(t: TrainConfig): string {
  return (
    `optimizer ${t.optimizer}, lr ${t.lr}${t.schedule.kind === 'constant' ? '' : ` (${t.schedule.kind} schedule)`}, ` +
    `batch ${t.batchSize}, ${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, seed ${t.seed}` +
    `${t.weightDecay > 0 ? `, weight decay ${t.weightDecay}` : ''}`
  );
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

  line(text: string): void {
    this.output.line(text);
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
    );
    this.lastSaved = last?.meta.progress ?? null;
    this.model = buildModel(request.ir, { seed: t.seed });
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
      this.log.line(
        `[Resume] from ${this.folder.lastDir}: epoch ${p.epoch}/${config.training.epochs}, step ${p.globalStep}` +
          (p.epoch >= config.training.epochs ? ' (training was complete; testing the best model again)' : ''),
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
      line: (text) => this.log.line(text),
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
      output.startProgress?.(this.record.shape.totalSteps, last?.meta.progress?.globalStep ?? 0);
      return await train({
        model: this.model,
        ir,
        train: data.train,
        dev: data.dev,
        config: config.training,
        signal: this.controller.signal,
        ...(resume ? { resume } : {}),
        hooks: {
          log: (line) => this.log.line(line),
          step: (s) => output.progress?.(s.step + 1, s.loss),
          saveBest: (b) =>
            this.save(this.folder.bestDir, {
              kind: 'best',
              weights: b.weights,
              best: { step: b.step, epoch: b.epoch, score: b.score, loss: b.loss },
            }),
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
      this.log.line(message);
      return { status: 'interrupted', message, metrics };
    }
    const test = await testBest(
      this.model,
      this.request.ir,
      this.folder.bestDir,
      this.prepared.data.test,
      t.batchSize,
    );
    if (test.model === 'final')
      this.log.line('note: no dev evaluation improved on 0; testing the final model');
    this.log.line(testLine(test.accuracy, test.loss));
    const metrics = this.record.of('completed', history, progress.elapsedMs, test);
    this.folder.writeMetrics(metrics);
    const written = await writeCurves(this.folder, metrics);
    this.log.line(`wrote ${out}: ${[...runFiles(this.folder), ...written].join(', ')}`);
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

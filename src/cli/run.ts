/**
 * `netspec run <spec>`: trains a spec on a data source with RunnerV3's loop (NNDL 5.4) and writes a run
 * folder: train.log, metrics.json, checkpoints/best, checkpoints/last (and curves when the renderer exists).
 * Ctrl-C finishes the current step, writes checkpoints/last and exits with 130; `--resume` continues.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import type * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../compiler/ir.js';
import type * as TfjsTarget from '../compiler/targets/tfjs/index.js';
import type * as Backends from '../runtime/backends/index.js';
import type * as Data from '../runtime/data/index.js';
import type * as Trainer from '../runtime/train/trainer.js';
import { describeConfigChange, describeIrChange, hashIr, loadCheckpoint, checkRunFolder, openRunFolder, recoverRunFolder, resumePoint, saveCheckpoint, type CheckpointContents, type LoadedCheckpoint, type RunFolder } from '../runtime/checkpoint/index.js';
import { BACKEND_NAMES, type BackendName } from '../runtime/backends/names.js';
import { CheckpointError, DataError, FileError, RunFolderError } from '../runtime/errors.js';
import {
  DEFAULT_TRAIN_CONFIG,
  OPTIMIZER_KINDS,
  SCHEDULE_KINDS,
  validateTrainConfig,
  type LrSchedule,
  type OptimizerKind,
  type RunConfig,
  type TrainConfig,
} from '../runtime/train/config.js';
import type { TrainHistory, TrainProgress } from '../runtime/train/history.js';
import { testLine } from '../runtime/train/log-lines.js';
import { untrainableReasons } from '../runtime/train/trainability.js';
import {
  bestOf,
  loggedSteps,
  type RunMetrics,
  type RunStatus,
  type TestRecord,
} from '../runtime/train/metrics.js';
import type { LabeledImages, TrainOutcome } from '../runtime/train/trainer.js';
import { READ_LIMITS, readRegularText } from '../runtime/files/read.js';
import { compileOrReport, parsePositiveInt, withSpecOptions, type SpecOptions } from './common.js';
import { fileSystemError, processIo, UserError, type CliIo } from './io.js';
import { stopLine, watchStops } from './stops.js';

/** The modules that load tfjs; types only here, values through {@link loadRuntime}. */
export interface Runtime {
  readonly target: typeof TfjsTarget;
  readonly trainer: typeof Trainer;
  readonly backends: typeof Backends;
  readonly data: typeof Data;
}

/** The heavy modules (tfjs and what uses it), loaded only when a command trains or evaluates. */
export async function loadRuntime(): Promise<Runtime> {
  const [target, trainer, backends, data] = await Promise.all([
    import('../compiler/targets/tfjs/index.js'),
    import('../runtime/train/trainer.js'),
    import('../runtime/backends/index.js'),
    import('../runtime/data/index.js'),
  ]);
  return { target, trainer, backends, data };
}

/**
 * Exit code of a run stopped early (by Ctrl-C, SIGTERM, SIGHUP or a closed stdout): 128 + SIGINT, the shell
 * convention for an interrupted command, resumable with --resume.
 */
export const EXIT_INTERRUPTED = 130;

interface RunOptions extends SpecOptions {
  readonly data: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly seed: number;
  readonly optimizer: OptimizerKind;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly lrSchedule: LrSchedule['kind'];
  readonly lrStep: number;
  readonly lrGamma: number;
  readonly lrMin: number;
  readonly train: number;
  readonly dev: number;
  readonly test: number;
  readonly logSteps: number;
  readonly evalSteps: number;
  readonly backend: BackendName;
  readonly out?: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly progress: boolean;
}

/** Parses an integer >= 0. */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected an integer >= 0, found '${value}'`);
  return n;
}

/** Parses any integer (seeds). */
export function parseInteger(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected an integer, found '${value}'`);
  return n;
}

/** Parses a finite number > 0. */
export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number > 0, found '${value}'`);
  return n;
}

/** Parses a finite number >= 0. */
export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`expected a number >= 0, found '${value}'`);
  return n;
}

/** Registers `netspec run`; `setExit` records the exit code. */
export function registerRun(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const d = DEFAULT_TRAIN_CONFIG;
  withSpecOptions(
    program
      .command('run')
      .description(
        'train a spec (NNDL RunnerV3 loop) and write a run folder with logs, metrics and checkpoints',
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .option('--data <source>', 'mnist-sample | idx:DIR | nndl-json:FILE', 'mnist-sample')
      .option('--epochs <n>', 'training epochs', parsePositiveInt, d.epochs)
      .option('--batch-size <n>', 'examples per step', parsePositiveInt, d.batchSize)
      .option('--lr <rate>', 'learning rate', parsePositiveNumber, d.lr)
      .option(
        '--seed <n>',
        'seed of the initial weights, the data split and the shuffling',
        parseInteger,
        d.seed,
      )
      .addOption(
        new Option('--optimizer <kind>', 'optimizer (PyTorch semantics)')
          .choices(OPTIMIZER_KINDS)
          .default(d.optimizer),
      )
      .option('--momentum <m>', 'momentum factor of --optimizer momentum', parseNonNegativeNumber, d.momentum)
      .option(
        '--weight-decay <wd>',
        'L2 penalty added to the gradients (PyTorch weight_decay)',
        parseNonNegativeNumber,
        d.weightDecay,
      )
      .addOption(
        new Option('--lr-schedule <kind>', 'learning-rate schedule')
          .choices(SCHEDULE_KINDS)
          .default('constant'),
      )
      .option('--lr-step <epochs>', 'step schedule: epochs between decays', parsePositiveInt, 2)
      .option('--lr-gamma <factor>', 'step schedule: decay factor', parsePositiveNumber, 0.1)
      .option('--lr-min <rate>', 'cosine schedule: final learning rate', parseNonNegativeNumber, 0)
      .option('--train <n>', 'training examples', parsePositiveInt, 1000)
      .option('--dev <n>', 'dev (validation) examples', parsePositiveInt, 200)
      .option('--test <n>', 'test examples', parsePositiveInt, 200)
      .option(
        '--log-steps <n>',
        'log the training loss every n steps (0: never)',
        parseNonNegativeInt,
        d.logSteps,
      )
      .option(
        '--eval-steps <n>',
        'evaluate on dev every n steps and at the end (0: never)',
        parseNonNegativeInt,
        d.evalSteps,
      )
      .addOption(
        new Option('--backend <name>', 'where tfjs runs (auto: the fastest that loads)')
          .choices(BACKEND_NAMES)
          .default('auto'),
      )
      .option('--out <dir>', 'run folder (default: runs/<network name>)')
      .option('--resume', 'continue the run in --out from checkpoints/last')
      .option('--force', 'replace an existing run folder')
      .option('--no-progress', 'no progress bar'),
  ).action(async (spec: string, options: RunOptions, command: Command) => {
    setExit(await runCommand(spec, options, command, io));
  });
}

/** The run config given on the command line; with `--resume`, options not given come from the checkpoint. */
function runConfigFrom(options: RunOptions, command: Command, saved: RunConfig | undefined): RunConfig {
  const given = (key: keyof RunOptions): boolean => command.getOptionValueSource(key) === 'cli';
  const t = saved?.training;
  const pick = <T>(key: keyof RunOptions, cli: T, old: T | undefined): T =>
    old === undefined || given(key) ? cli : old;
  const kind = pick('lrSchedule', options.lrSchedule, t?.schedule.kind);
  const oldStep = t?.schedule.kind === 'step' ? t.schedule : undefined;
  const oldCosine = t?.schedule.kind === 'cosine' ? t.schedule : undefined;
  const schedule: LrSchedule =
    kind === 'step'
      ? {
          kind,
          stepEpochs: pick('lrStep', options.lrStep, oldStep?.stepEpochs),
          gamma: pick('lrGamma', options.lrGamma, oldStep?.gamma),
        }
      : kind === 'cosine'
        ? { kind, minLr: pick('lrMin', options.lrMin, oldCosine?.minLr) }
        : { kind: 'constant' };
  const training: TrainConfig = {
    epochs: pick('epochs', options.epochs, t?.epochs),
    batchSize: pick('batchSize', options.batchSize, t?.batchSize),
    lr: pick('lr', options.lr, t?.lr),
    optimizer: pick('optimizer', options.optimizer, t?.optimizer),
    momentum: pick('momentum', options.momentum, t?.momentum),
    weightDecay: pick('weightDecay', options.weightDecay, t?.weightDecay),
    schedule,
    seed: pick('seed', options.seed, t?.seed),
    logSteps: pick('logSteps', options.logSteps, t?.logSteps),
    evalSteps: pick('evalSteps', options.evalSteps, t?.evalSteps),
  };
  const s = saved?.data;
  return {
    training,
    data: {
      source: pick('data', options.data, s?.source),
      train: pick('train', options.train, s?.train),
      dev: pick('dev', options.dev, s?.dev),
      test: pick('test', options.test, s?.test),
    },
  };
}

/** Turns the errors of the runtime's file and data layers into user errors (message only, exit code 1). */
export function asUserError(e: unknown): unknown {
  if (
    e instanceof CheckpointError ||
    e instanceof RunFolderError ||
    e instanceof DataError ||
    e instanceof FileError
  )
    return new UserError(e.message);
  // Matched by name: their modules load tfjs, which this file imports only on demand.
  if (e instanceof Error && (e.name === 'BackendError' || e.name === 'TrainInputError'))
    return new UserError(e.message);
  return e;
}

/** What a run prints: to the terminal (through the progress bar when there is one) and to train.log. */
class RunOutput {
  private bar: cliProgress.SingleBar | undefined;
  private multi: cliProgress.MultiBar | undefined;
  private folder: RunFolder | undefined;
  private pending: string[] = [];

  constructor(
    private readonly io: CliIo,
    private readonly useBar: boolean,
  ) {}

  attach(folder: RunFolder): void {
    this.folder = folder;
    if (this.pending.length) folder.appendLog(this.pending.join('\n'));
    this.pending = [];
  }

  line(text: string): void {
    if (this.multi) {
      this.multi.log(text + '\n');
      this.multi.update();
    } else this.io.stdout(text + '\n');
    if (this.folder) this.folder.appendLog(text);
    else this.pending.push(text);
  }

  startBar(total: number, value: number): void {
    if (!this.useBar) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream: process.stdout,
        format: ' {bar} {percentage}% | step {value}/{total} | loss {loss} | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        gracefulExit: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.multi.create(total, value, { loss: '-' });
  }

  step(value: number, loss: number): void {
    this.bar?.update(value, { loss: loss.toFixed(4) });
  }

  stopBar(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }
}

function describeBackend(selected: { name: string; reasons: readonly string[] }): string[] {
  return [`backend: ${selected.name}`, ...selected.reasons.map((r) => `  ${r}`)];
}

/** The run's input size for the data loader: torchvision's Resize(size) makes the shorter side `size`. */
function resizeTarget(ir: IrNetwork): number {
  const [, h, w] = ir.inputShape;
  if (ir.inputShape.length !== 3 || h === undefined || w === undefined)
    throw new UserError(
      `'${ir.name}' takes input [${ir.inputShape.join(', ')}]; training runs need image input [C, H, W]`,
    );
  return Math.min(h, w);
}

interface LoadedData {
  readonly source: string;
  readonly description: string;
  readonly classes: number;
  readonly inputShape: readonly number[];
  readonly train: LabeledImages;
  readonly dev: LabeledImages;
  readonly test: LabeledImages;
}

/** Loads the data a run config names, checked against the network. */
export async function loadRunData(ir: IrNetwork, config: RunConfig): Promise<LoadedData> {
  const { loadDataset } = await import('../runtime/data/index.js');
  const { checkSplit } = await import('../runtime/train/trainer.js');
  const numClasses = ir.outputShape.length === 1 ? (ir.outputShape[0] ?? 0) : 0;
  if (numClasses < 2)
    throw new UserError(
      `'${ir.name}' outputs [${ir.outputShape.join(', ')}]; training needs class logits [N] with N >= 2`,
    );
  const dataset = await loadDataset(config.data.source, {
    train: config.data.train,
    dev: config.data.dev,
    test: config.data.test,
    seed: config.training.seed,
    size: resizeTarget(ir),
    classes: numClasses,
  });
  if (dataset.inputShape.join(',') !== ir.inputShape.join(','))
    throw new UserError(
      `'${ir.name}' takes input [${ir.inputShape.join(', ')}], but ${config.data.source} gives [${dataset.inputShape.join(', ')}]` +
        (dataset.inputShape[0] !== ir.inputShape[0]
          ? ` (set the spec's input channels to ${dataset.inputShape[0]})`
          : ''),
    );
  for (const name of ['train', 'dev', 'test'] as const) {
    const problems = checkSplit(dataset[name], ir, name);
    if (problems.length) throw new UserError(`${config.data.source}: ${problems.join('; ')}`);
  }
  return dataset;
}

/** Loads the checkpoint a resume continues from and checks it against the current spec. */
function checkResume(last: LoadedCheckpoint, ir: IrNetwork, spec: string): void {
  if (last.meta.kind !== 'last')
    throw new UserError(`${last.dir} is a '${last.meta.kind}' checkpoint; --resume needs checkpoints/last`);
  if (last.meta.irHash !== hashIr(ir)) {
    const changes = describeIrChange(last.ir, ir);
    throw new UserError(
      `${spec} no longer describes the network this run trained (${last.dir}):\n` +
        changes.map((c) => `  ${c}`).join('\n') +
        `\nrestore the spec (and --set values) to resume, or pass --force to start over`,
    );
  }
}

async function runCommand(spec: string, options: RunOptions, command: Command, io: CliIo): Promise<number> {
  const sessionStart = performance.now();
  if (options.resume && options.force)
    throw new UserError('--resume and --force contradict each other; pass one');
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const untrainable = untrainableReasons(ir);
  if (untrainable.length) throw new UserError(`${spec}: ${untrainable.join('; ')}`);
  const out = options.out ?? path.join('runs', ir.name);
  const useBar = options.progress && io === processIo && process.stdout.isTTY === true && !process.env.CI;
  const output = new RunOutput(io, useBar);
  const runtime = await loadRuntime();
  const mode = options.resume ? 'resume' : options.force ? 'force' : 'new';
  // Nothing is created or replaced until the spec, options, backend and data are all known to be good; a
  // resumed folder is opened (and locked) first because its checkpoint holds the options.
  let folder: RunFolder | undefined;
  let repaired: string[] = [];
  try {
    repaired = recoverRunFolder(out);
    checkRunFolder(out, mode);
    if (mode === 'resume') folder = openRunFolder(out, mode);
  } catch (e) {
    throw fileSystemError(e, out) ?? asUserError(e);
  }
  // Cleared when the run succeeds or stops resumably: a --force run that fails before saving puts back the run
  // it replaced.
  let failed = true;
  let unwatch = (): void => undefined;
  try {
    for (const action of repaired) output.line(`note: ${out}: ${action}`);
    for (const action of folder?.recovered ?? []) output.line(`note: ${out}/checkpoints: ${action}`);
    let last: LoadedCheckpoint | undefined;
    if (folder) {
      try {
        last = loadCheckpoint(folder.lastDir);
      } catch (e) {
        throw asUserError(e);
      }
      checkResume(last, ir, spec);
    }
    const config = runConfigFrom(options, command, last?.meta.config);
    const problems = validateTrainConfig(config.training);
    if (problems.length) throw new UserError(problems.join('; '));
    if (last) {
      const changes = describeConfigChange(last.meta.config, config);
      if (changes.length)
        throw new UserError(
          `the run in ${out} was started with other options:\n${changes.map((c) => `  ${c}`).join('\n')}\n` +
            `pass the same options (or leave them out) to resume, or --force to start over`,
        );
    }

    let backend: { name: string; reasons: readonly string[] };
    try {
      backend = await runtime.backends.selectBackend(options.backend);
    } catch (e) {
      throw asUserError(e);
    }
    for (const l of describeBackend(backend)) output.line(l);
    if (last && last.meta.backend !== backend.name)
      output.line(
        `note: this run started on ${last.meta.backend}; continuing on ${backend.name} (not bit-identical to an uninterrupted run)`,
      );

    let data: LoadedData;
    try {
      data = await loadRunData(ir, config);
    } catch (e) {
      throw asUserError(e);
    }
    output.line(`data: ${data.description}`);
    const t = config.training;
    output.line(
      `network: ${ir.name} (${spec}); optimizer ${t.optimizer}, lr ${t.lr}` +
        `${t.schedule.kind === 'constant' ? '' : ` (${t.schedule.kind} schedule)`}, batch ${t.batchSize}, ${t.epochs} epoch${t.epochs === 1 ? '' : 's'}, seed ${t.seed}` +
        `${t.weightDecay > 0 ? `, weight decay ${t.weightDecay}` : ''}`,
    );
    if (!folder) {
      try {
        folder = openRunFolder(out, mode);
      } catch (e) {
        throw fileSystemError(e, out) ?? asUserError(e);
      }
    }
    const run: RunFolder = reportingWriteErrors(folder);
    output.attach(run);
    if (folder.replacing)
      output.line(
        `note: the previous run in ${out} is kept aside until this run saves its first checkpoint (--force)`,
      );
    if (last?.meta.progress) {
      const p = last.meta.progress;
      output.line(
        `[Resume] from ${run.lastDir}: epoch ${p.epoch}/${t.epochs}, step ${p.globalStep}` +
          (p.epoch >= t.epochs ? ' (training was complete; testing the best model again)' : ''),
      );
    }

    const model = runtime.target.buildModel(ir, { seed: t.seed });
    const controller = new AbortController();
    const openFolder = folder;
    let training = true;
    unwatch = watchStops(
      (cause) => {
        if (!training) {
          if (cause !== 'stdout closed')
            output.line(
              `note: ${cause}: training is over; testing the best model first (${cause} again to quit now)`,
            );
          return;
        }
        const line = stopLine(cause);
        output.line(line);
        if (cause === 'stdout closed') io.stderr(`${line}\n`);
        controller.abort();
      },
      () => {
        // Quit now. Nothing is half-written: checkpoints are written synchronously, between these handlers.
        output.stopBar();
        openFolder.close(true);
        process.exit(EXIT_INTERRUPTED);
      },
      io.outputClosed,
    );
    const baseMetrics = {
      network: ir.name,
      spec,
      irHash: hashIr(ir),
      backend: { name: backend.name, reasons: [...backend.reasons] },
      config,
      data: {
        source: data.source,
        description: data.description,
        classes: data.classes,
        inputShape: [...data.inputShape],
        train: data.train.count,
        dev: data.dev.count,
        test: data.test.count,
      },
    };
    const resumes = (last ? 1 : 0) + (last ? previousResumes(run) : 0);
    const metricsOf = (
      status: RunStatus,
      history: TrainHistory,
      shape: { stepsPerEpoch: number; totalSteps: number },
      elapsedMs: number,
      test: TestRecord | null,
      divergence: TrainOutcome['divergence'] | null,
    ): RunMetrics => ({
      format: 'netspec-metrics',
      version: 1,
      ...baseMetrics,
      status,
      stepsPerEpoch: shape.stepsPerEpoch,
      totalSteps: shape.totalSteps,
      steps: history.steps,
      logged: loggedSteps(history),
      evaluations: history.evaluations,
      epochs: history.epochs,
      best: bestOf(history),
      test,
      divergence: divergence ?? null,
      resumes,
      trainSeconds: elapsedMs / 1000,
      wallSeconds: (performance.now() - sessionStart) / 1000,
    });
    const stepsPerEpoch = Math.ceil(data.train.count / t.batchSize);
    const shape = { stepsPerEpoch, totalSteps: stepsPerEpoch * t.epochs };

    let lastSaved: TrainProgress | null = last?.meta.progress ?? null;
    const saveCheckpointOf = (dir: string, contents: CheckpointContents): void => {
      saveOrExplain(dir, contents);
      run.commit();
    };
    const resume = resumePoint(last);
    let outcome: TrainOutcome;
    try {
      try {
        output.startBar(shape.totalSteps, last?.meta.progress?.globalStep ?? 0);
        outcome = await runtime.trainer.train({
          model,
          ir,
          train: data.train,
          dev: data.dev,
          config: t,
          signal: controller.signal,
          ...(resume ? { resume } : {}),
          hooks: {
            log: (line) => output.line(line),
            step: (s) => output.step(s.step + 1, s.loss),
            saveBest: (b) =>
              saveCheckpointOf(run.bestDir, {
                kind: 'best',
                ir,
                config,
                backend: backend.name,
                weights: b.weights,
                best: { step: b.step, epoch: b.epoch, score: b.score, loss: b.loss },
              }),
            saveLast: (s) => {
              saveCheckpointOf(run.lastDir, {
                kind: 'last',
                ir,
                config,
                backend: backend.name,
                weights: s.weights,
                optimizer: s.optimizer,
                progress: s.progress,
                history: s.history,
                best: bestOf(s.history),
              });
              lastSaved = s.progress;
              run.writeMetrics(metricsOf('running', s.history, shape, s.progress.elapsedMs, null, null));
            },
          },
        });
      } catch (e) {
        throw asUserError(e);
      }
    } finally {
      training = false;
      output.stopBar();
    }

    if (outcome.status === 'diverged' && outcome.divergence) {
      const dv = outcome.divergence;
      run.writeMetrics(metricsOf('diverged', outcome.history, shape, outcome.progress.elapsedMs, null, dv));
      const kept = lastSaved
        ? `${run.lastDir} (${describePoint(lastSaved)}) is the last good checkpoint`
        : 'no checkpoint was written before it';
      const what =
        dv.cause === 'loss'
          ? `the loss is ${dv.loss}`
          : `tensor '${dv.tensor?.name}' became ${dv.tensor?.value} (index ${dv.tensor?.index}; the loss was ${Number(dv.loss.toPrecision(6))})`;
      const message =
        `training diverged: ${what} at epoch ${dv.epoch}/${t.epochs}, step ${dv.globalStep}/${shape.totalSteps} ` +
        `(step ${dv.stepInEpoch} of the epoch); ${kept}. Try a smaller --lr (now ${t.lr}).`;
      run.appendLog(`error: ${message}`);
      io.stderr(`error: ${message}\n`);
      return 1;
    }
    if (outcome.status === 'interrupted') failed = false;
    if (outcome.status === 'interrupted') {
      run.writeMetrics(
        metricsOf('interrupted', outcome.history, shape, outcome.progress.elapsedMs, null, null),
      );
      const stopped =
        `[Train] stopped at epoch ${outcome.progress.epoch}/${t.epochs}, step ${outcome.progress.globalStep}/${shape.totalSteps}; ` +
        `continue with: netspec run ${spec} --out ${out} --resume`;
      output.line(stopped);
      if (io.outputClosed?.aborted) io.stderr(`${stopped}\n`);
      return EXIT_INTERRUPTED;
    }

    const test = testBest(runtime, model, ir, run, data.test, t.batchSize);
    if (test.model === 'final') output.line('note: no dev evaluation improved on 0; testing the final model');
    output.line(testLine(test.accuracy, test.loss));
    const metrics = metricsOf('completed', outcome.history, shape, outcome.progress.elapsedMs, test, null);
    run.writeMetrics(metrics);
    const written = await writeCurves(run, metrics);
    output.line(`wrote ${out}: ${[...runFiles(run), ...written].join(', ')}`);
    failed = false;
    return 0;
  } finally {
    unwatch();
    const restored = folder?.close(failed);
    if (restored) io.stderr(`note: ${restored}\n`);
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

/** Saves a checkpoint; a file-system failure becomes a user error naming the checkpoint (the old one stays). */
function saveOrExplain(dir: string, contents: CheckpointContents): void {
  try {
    saveCheckpoint(dir, contents);
  } catch (e) {
    throw fileSystemError(e, dir, 'the checkpoint was not saved') ?? e;
  }
}

/** The run folder, with a file-system failure of its log, metrics or curves reported as a user error naming the file. */
function reportingWriteErrors(folder: RunFolder): RunFolder {
  const guard =
    <A extends unknown[]>(write: (...args: A) => void, file: (...args: A) => string) =>
    (...args: A): void => {
      try {
        write(...args);
      } catch (e) {
        throw fileSystemError(e, file(...args), null) ?? e;
      }
    };
  return {
    ...folder,
    appendLog: guard(folder.appendLog, () => path.join(folder.dir, 'train.log')),
    writeMetrics: guard(folder.writeMetrics, () => path.join(folder.dir, 'metrics.json')),
    writeFile: guard(folder.writeFile, (name) => path.join(folder.dir, name)),
  };
}

/** Where a saved progress stands, in words: `end of epoch 0, step 16` or `epoch 2, step 37`. */
function describePoint(p: TrainProgress): string {
  return p.stepInEpoch === 0 && p.epoch > 0
    ? `end of epoch ${p.epoch - 1}, step ${p.globalStep}`
    : `epoch ${p.epoch}, step ${p.globalStep}`;
}

/** How many times the run was resumed before this session (from its metrics.json, if any). */
function previousResumes(folder: RunFolder): number {
  try {
    const raw = JSON.parse(readRegularText(folder.metricsFile, 'metrics file', READ_LIMITS.metadata)) as {
      resumes?: unknown;
    };
    return typeof raw.resumes === 'number' ? raw.resumes : 0;
  } catch {
    return 0;
  }
}

/** Loads checkpoints/best (verified) into the model and evaluates `test`, as RunnerV3's load_model + evaluate. */
function testBest(
  runtime: Runtime,
  model: tf.LayersModel,
  ir: IrNetwork,
  folder: RunFolder,
  test: LabeledImages,
  batchSize: number,
): TestRecord {
  let which: 'best' | 'final' = 'final';
  if (fs.existsSync(folder.bestDir)) {
    let best: LoadedCheckpoint;
    try {
      best = loadCheckpoint(folder.bestDir);
    } catch (e) {
      throw asUserError(e);
    }
    const diagnostics = runtime.target.setStateDict(model, ir, best.weights);
    if (diagnostics.length)
      throw new UserError(`${folder.bestDir}: ${diagnostics.map((d) => d.message).join('; ')}`);
    which = 'best';
  }
  const result = runtime.trainer.evaluate(model, ir, test, batchSize);
  return { accuracy: result.accuracy, loss: result.loss, count: result.count, model: which };
}

/** Draws the loss and accuracy curves (SVG and PNG) into the run folder; returns the files written. */
async function writeCurves(folder: RunFolder, metrics: RunMetrics): Promise<string[]> {
  const { renderCurves } = await import('../reports/curves.js');
  const images = await renderCurves(metrics, { title: metrics.network });
  const files: [string, string | Uint8Array][] = [
    ['loss.svg', images.lossSvg],
    ['loss.png', images.lossPng],
    ['accuracy.svg', images.accuracySvg],
    ['accuracy.png', images.accuracyPng],
  ];
  for (const [name, content] of files) folder.writeFile(name, content);
  return files.map(([name]) => name);
}

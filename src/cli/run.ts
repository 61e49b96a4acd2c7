/**
 * `netspec run <spec>`: trains a spec with RunnerV3's loop (NNDL 5.4) and writes a run folder: train.log,
 * metrics.json, checkpoints/best, checkpoints/last and the curves. The run itself is the runtime's session
 * (src/runtime/session/); this file declares the options, shows progress, watches for stops and prints.
 * Ctrl-C finishes the current step, writes checkpoints/last and exits with 130; `--resume` continues.
 */
import type { Command } from 'commander';
import type { BackendName } from '../runtime/backends/names.js';
import type { RunFolderMode } from '../runtime/checkpoint/run-folder.js';
import type { RunSettings } from '../runtime/session/config.js';
import type { RunResult, StopControls } from '../runtime/session/index.js';
import { untrainableReasons } from '../runtime/train/trainability.js';
import { compiledOrReport, type SpecOptions } from './common.js';
import {
  consoleOptions,
  createTerminalOutput,
  type ConsoleSettings,
  type TerminalOutput,
} from './console.js';
import { UserError, type CliIo } from './io.js';
import { engineOptions, runOptions, settingsOf, withSpecOptions, type EngineSettings } from './options.js';
import { stopLine, watchStops } from './stops.js';
import {
  batchOf,
  checkEngineOptions,
  defaultRunFolder,
  describeSources,
  finalJson,
  loadInitWeights,
  sessionRequest,
  torchRun,
  type RunTask,
} from './run-setup.js';

/**
 * Exit code of a run stopped early (by Ctrl-C, SIGTERM, SIGHUP or a closed stdout): 128 + SIGINT, the shell
 * convention for an interrupted command, resumable with --resume.
 */
export const EXIT_INTERRUPTED = 130;

/** The values commander parses for `netspec run` (the training options only when given: see settingsOf). */
export interface RunOptions
  extends Omit<SpecOptions, 'batchSize'>, Partial<RunSettings>, ConsoleSettings, EngineSettings {
  readonly backend: BackendName;
  readonly out?: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly initFrom?: string;
  readonly map?: string;
  readonly json?: boolean;
}

/** Registers `netspec run`; `setExit` records the exit code. */
export function registerRun(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = withSpecOptions(
    program
      .command('run')
      .description(
        'train a spec (its training: section, then these options) and write a run folder with logs, metrics and checkpoints',
      )
      .argument('<spec>', 'spec file (.yaml or .net)'),
  );
  for (const option of [...runOptions(), ...engineOptions(), ...consoleOptions()]) command.addOption(option);
  command.action(async (spec: string, options: RunOptions, self: Command) => {
    const startedAt = performance.now();
    if (options.resume && options.force)
      throw new UserError('--resume and --force contradict each other; pass one');
    if (options.resume && options.initFrom)
      throw new UserError(
        '--resume continues a run from its own checkpoint; --init-from starts a new one: pass one',
      );
    checkEngineOptions(options);
    if (options.map && !options.initFrom)
      throw new UserError('--map renames the tensors of --init-from; pass both');
    if (options.force && !options.out)
      throw new UserError(
        '--force replaces the run folder named by --out (without --out every run gets a new version_N folder)',
      );
    const compiled = compiledOrReport(spec, { ...options, ...batchOf(options) }, io);
    if (!compiled) return setExit(1);
    const { ir } = compiled;
    const untrainable = untrainableReasons(ir);
    if (untrainable.length) throw new UserError(`${spec}: ${untrainable.join('; ')}`);
    const fromSet = new Set(
      Object.entries(compiled.trainingOrigins ?? {})
        .filter(([, origin]) => origin === '--set')
        .map(([field]) => field),
    );
    const { settings, given } = settingsOf(self, compiled.training ?? {});
    for (const field of fromSet) given.add(field);
    const mode: RunFolderMode = options.resume ? 'resume' : options.force ? 'force' : 'new';
    const out = options.out ?? (await defaultRunFolder(ir.name, mode));
    const initFrom = options.initFrom
      ? await loadInitWeights(ir, spec, options.initFrom, options.map, io)
      : undefined;
    const settingsFrom = describeSources(spec, compiled.trainingOrigins ?? {}, given, fromSet);
    const task: RunTask = {
      spec,
      ir,
      settings,
      given,
      console: options,
      backend: options.backend,
      out,
      mode,
      startedAt,
      ...(settingsFrom !== undefined ? { settingsFrom } : {}),
      linkLatest: !options.out && mode !== 'resume',
      ...(initFrom ? { initFrom } : {}),
    };
    // With --json, stdout is the JSON alone: the run's lines go to stderr.
    const runIo: CliIo = options.json ? { ...io, stdout: (text) => io.stderr(text) } : io;
    const result =
      options.engine === 'torch' ? await torchRun(task, options, runIo) : await trainRun(task, runIo);
    if (!result) return setExit(0);
    if (options.json) io.stdout(`${JSON.stringify(finalJson(result, out))}\n`);
    setExit(exitCodeOf(result, io));
  });
}

export type { RunTask } from './run-setup.js';

/** Trains one run through the runtime's session, with the terminal's progress bar and stops. */
export async function trainRun(task: RunTask, io: CliIo): Promise<RunResult> {
  const output = createTerminalOutput(io, task.console);
  // tfjs loads only for commands that run a model, so `check`, `compile` and the reports start fast.
  const { runSession } = await import('../runtime/session/index.js');
  return runSession({
    ...sessionRequest(task, output, `netspec run ${task.spec} --out ${task.out} --resume`),
    watchStops: (controls) => watchRunStops(controls, output, io),
  });
}

/** Prints how a run ended where it is not in the run's own lines, and gives its exit code. */
export function exitCodeOf(result: RunResult, io: CliIo): number {
  if (result.status === 'diverged') {
    io.stderr(`error: ${result.message}\n`);
    return 1;
  }
  if (result.status === 'interrupted') {
    if (io.outputClosed?.aborted) io.stderr(`${result.message}\n`);
    return EXIT_INTERRUPTED;
  }
  return 0;
}

/**
 * A first stop (Ctrl-C, SIGTERM, SIGHUP, a closed stdout) finishes the step and saves checkpoints/last; a second
 * quits at once. Once training is over, a stop only says that the best model is being tested first.
 */
function watchRunStops(controls: StopControls, output: TerminalOutput, io: CliIo): () => void {
  return watchStops(
    (cause) => {
      if (!controls.isTraining()) {
        if (cause !== 'stdout closed')
          controls.line(
            `note: ${cause}: training is over; testing the best model first (${cause} again to quit now)`,
          );
        return;
      }
      const line = stopLine(cause);
      controls.line(line);
      if (cause === 'stdout closed') io.stderr(`${line}\n`);
      controls.stop();
    },
    () => {
      // Quit now. Nothing is half-written: checkpoints are written synchronously, between these handlers.
      output.stopProgress();
      controls.abandon();
      process.exit(EXIT_INTERRUPTED);
    },
    io.outputClosed,
  );
}

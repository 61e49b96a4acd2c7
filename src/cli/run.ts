/**
 * `netspec run <spec>`: trains a spec with RunnerV3's loop (NNDL 5.4) and writes a run folder: train.log,
 * metrics.json, checkpoints/best, checkpoints/last and the curves. The run itself is the runtime's session
 * (src/runtime/session/); this file declares the options, shows progress, watches for stops and prints.
 * Ctrl-C finishes the current step, writes checkpoints/last and exits with 130; `--resume` continues.
 */
import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { IrNetwork } from '../compiler/ir.js';
import type { BackendName } from '../runtime/backends/names.js';
import type { RunFolderMode } from '../runtime/checkpoint/run-folder.js';
import type { RunSettings } from '../runtime/session/config.js';
import type { RunResult, SessionOutput, StopControls } from '../runtime/session/index.js';
import { untrainableReasons } from '../runtime/train/trainability.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { processIo, UserError, type CliIo } from './io.js';
import { givenOptions, runOptions, withSpecOptions } from './options.js';
import { stopLine, watchStops } from './stops.js';

/**
 * Exit code of a run stopped early (by Ctrl-C, SIGTERM, SIGHUP or a closed stdout): 128 + SIGINT, the shell
 * convention for an interrupted command, resumable with --resume.
 */
export const EXIT_INTERRUPTED = 130;

/** The values commander parses for `netspec run`. */
export interface RunOptions extends Omit<SpecOptions, 'batchSize'>, RunSettings {
  readonly backend: BackendName;
  readonly out?: string;
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly progress: boolean;
}

/** Registers `netspec run`; `setExit` records the exit code. */
export function registerRun(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = withSpecOptions(
    program
      .command('run')
      .description(
        'train a spec (NNDL RunnerV3 loop) and write a run folder with logs, metrics and checkpoints',
      )
      .argument('<spec>', 'spec file (.yaml or .net)'),
  );
  for (const option of runOptions()) command.addOption(option);
  command.action(async (spec: string, options: RunOptions, self: Command) => {
    const startedAt = performance.now();
    if (options.resume && options.force)
      throw new UserError('--resume and --force contradict each other; pass one');
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    const untrainable = untrainableReasons(ir);
    if (untrainable.length) throw new UserError(`${spec}: ${untrainable.join('; ')}`);
    const out = options.out ?? path.join('runs', ir.name);
    const mode = options.resume ? 'resume' : options.force ? 'force' : 'new';
    const result = await trainRun({ spec, ir, options, given: givenOptions(self), out, mode, startedAt }, io);
    setExit(exitCodeOf(result, io));
  });
}

/** One run for {@link trainRun}: `netspec run`'s, or one of `compare`'s. */
export interface RunTask {
  readonly spec: string;
  readonly ir: IrNetwork;
  readonly options: RunSettings & { readonly backend: BackendName; readonly progress?: boolean };
  readonly given: ReadonlySet<string>;
  readonly out: string;
  readonly mode: RunFolderMode;
  readonly startedAt?: number;
}

/** Trains one run through the runtime's session, with the terminal's progress bar and stops. */
export async function trainRun(task: RunTask, io: CliIo): Promise<RunResult> {
  const useBar =
    task.options.progress !== false && io === processIo && process.stdout.isTTY === true && !process.env.CI;
  const output = new TerminalOutput(io, useBar);
  // tfjs loads only for commands that run a model, so `check`, `compile` and the reports start fast.
  const { runSession } = await import('../runtime/session/index.js');
  return runSession({
    spec: task.spec,
    ir: task.ir,
    settings: task.options,
    given: task.given,
    backend: task.options.backend,
    out: task.out,
    mode: task.mode,
    resumeCommand: `netspec run ${task.spec} --out ${task.out} --resume`,
    output,
    watchStops: (controls) => watchRunStops(controls, output, io),
    ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
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

/** What a run shows on the terminal: its lines (above the progress bar when there is one) and notes on stderr. */
class TerminalOutput implements SessionOutput {
  private bar: cliProgress.SingleBar | undefined;
  private multi: cliProgress.MultiBar | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly useBar: boolean,
  ) {}

  line(text: string): void {
    if (this.multi) {
      this.multi.log(text + '\n');
      this.multi.update();
    } else this.io.stdout(text + '\n');
  }

  note(text: string): void {
    this.io.stderr(`note: ${text}\n`);
  }

  startProgress(total: number, done: number): void {
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
    this.bar = this.multi.create(total, done, { loss: '-' });
  }

  progress(done: number, loss: number): void {
    this.bar?.update(done, { loss: loss.toFixed(4) });
  }

  stopProgress(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bar = undefined;
  }
}

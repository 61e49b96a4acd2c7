/**
 * The command line: parses argv with commander, runs one command, and returns the exit code
 * (0 success, 1 the user's input was wrong, 2 internal error). The only place that talks to the terminal.
 */
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isRuntimeError, type RuntimeErrorCode } from '../runtime/errors.js';
import { environmentError, processIo, UserError, watchProcessPipes, type CliIo } from './io.js';
import { registerCheck } from './check.js';
import { registerCompile } from './compile.js';
import { registerReports } from './reports.js';
import { registerRun } from './run.js';
import { registerEvaluate } from './evaluate.js';
import { registerPredict } from './predict.js';
import { registerBench } from './bench.js';
import { registerCompare } from './compare.js';
import { registerExport } from './export.js';
import { registerCompletion } from './completion.js';
import { registerLsp } from './lsp.js';
import { registerDraw } from './draw.js';
import { loadCompiler } from './common.js';

/**
 * The exit code of each runtime error, by code (a table keyed by every code, so tsc names a new one): all are the
 * user's input or the machine, printed as `error: message` without a stack trace.
 */
const RUNTIME_EXIT_CODES: { readonly [C in RuntimeErrorCode]: number } = {
  FILE: 1,
  DATA_INVALID: 1,
  CHECKPOINT_INVALID: 1,
  RUN_FOLDER: 1,
  LOCKED: 1,
  OPTIMIZER_STATE: 1,
  TRAIN_INPUT: 1,
  BACKEND_UNAVAILABLE: 1,
  RESUME_MISMATCH: 1,
  WRITE_FAILED: 1,
};

/** netspec's version, from its package.json (two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  const text = fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Runs netspec with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  if (io === processIo) watchProcessPipes();
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  const version = packageVersion();
  const program = new Command('netspec')
    .description(
      'Declarative model-spec compiler: specs to TensorFlow.js models, code, reports and training runs.',
    )
    .version(`netspec ${version}`, '-V, --version', 'print the version')
    .exitOverride()
    // One line after a typo, not the whole help: the error and commander's "did you mean" say what was wrong.
    .showHelpAfterError("run 'netspec --help' for the commands")
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    // The compiler loads here, once argv is parsed, so that `--help`, a typo and `completion` never load it.
    .hook('preAction', (_program, command) => (command.name() === 'completion' ? undefined : loadCompiler()));
  registerCheck(program, io, setExit);
  registerCompile(program, io, setExit);
  registerReports(program, io, setExit);
  registerDraw(program, io, setExit);
  registerRun(program, io, setExit);
  registerEvaluate(program, io, setExit);
  registerPredict(program, io, setExit);
  registerBench(program, io, setExit);
  registerCompare(program, io, setExit);
  registerExport(program, io, setExit);
  registerLsp(program, io, setExit);
  registerCompletion(program, io, version);
  for (const command of program.commands)
    command
      .exitOverride()
      .showHelpAfterError(`run 'netspec ${command.name()} --help' for the options`)
      .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return 0;
      return 1;
    }
    if (isRuntimeError(e)) {
      io.stderr(`error: ${e.message}\n`);
      return RUNTIME_EXIT_CODES[e.code];
    }
    const user = e instanceof UserError ? e : environmentError(e);
    if (user) {
      io.stderr(`error: ${user.message}\n`);
      return 1;
    }
    io.stderr(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 2;
  }
}

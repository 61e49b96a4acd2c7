/**
 * The option parsers of every command, and the options that several commands share (`--set`, `--max-params`, the
 * training options of `run` that `compare` passes on). Each parser throws commander's InvalidArgumentError, so
 * a bad value ends as `error: option '--lr <rate>' argument '0' is invalid. expected a number > 0, found '0'`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKEND_NAMES } from '../runtime/backends/names.js';
import { DEFAULT_RUN_SETTINGS } from '../runtime/session/config.js';
import { OPTIMIZER_KINDS, SCHEDULE_KINDS } from '../runtime/train/config.js';

function parser(test: (n: number) => boolean, expected: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !test(n))
      throw new InvalidArgumentError(`expected ${expected}, found '${value}'`);
    return n;
  };
}

/** An integer > 0. */
export const parsePositiveInt = parser((n) => Number.isSafeInteger(n) && n > 0, 'a positive integer');
/** An integer >= 0. */
export const parseNonNegativeInt = parser((n) => Number.isSafeInteger(n) && n >= 0, 'an integer >= 0');
/** Any integer (seeds). */
export const parseInteger = parser((n) => Number.isSafeInteger(n), 'an integer');
/** A finite number > 0. */
export const parsePositiveNumber = parser((n) => Number.isFinite(n) && n > 0, 'a number > 0');
/** A finite number >= 0. */
export const parseNonNegativeNumber = parser((n) => Number.isFinite(n) && n >= 0, 'a number >= 0');

/** A torch device for the PyTorch side of `bench`: cpu, cuda or cuda:N. */
export function parseTorchDevice(value: string): string {
  if (!/^(cpu|cuda(:\d+)?)$/.test(value))
    throw new InvalidArgumentError(`expected cpu, cuda or cuda:N, found '${value}'`);
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `--set name=value` (repeatable) and `--max-params N` to a command. */
export function withSpecOptions(command: Command): Command {
  return command
    .option('--set <name=value>', 'override a network parameter (repeatable)', collect, [])
    .option('--max-params <n>', 'refuse networks with more trainable parameters than this', parsePositiveInt);
}

/** `--backend <name>` with its choices and `auto` as the default. */
export function backendOption(description = 'where tfjs runs'): Option {
  return new Option('--backend <name>', description).choices(BACKEND_NAMES).default('auto');
}

/**
 * The options of `netspec run` after the spec options, in its help's order, as fresh Option objects: `compare`
 * adds the same list (less the ones it sets per run), so the two commands cannot drift apart.
 */
export function runOptions(): Option[] {
  const d = DEFAULT_RUN_SETTINGS;
  const option = (flags: string, description: string, parse: (v: string) => number, value: number): Option =>
    new Option(flags, description).argParser(parse).default(value);
  return [
    new Option('--data <source>', 'mnist-sample | idx:DIR | nndl-json:FILE').default(d.data),
    option('--epochs <n>', 'training epochs', parsePositiveInt, d.epochs),
    option('--batch-size <n>', 'examples per step', parsePositiveInt, d.batchSize),
    option('--lr <rate>', 'learning rate', parsePositiveNumber, d.lr),
    option(
      '--seed <n>',
      'seed of the initial weights, the data split and the shuffling',
      parseInteger,
      d.seed,
    ),
    new Option('--optimizer <kind>', 'optimizer (PyTorch semantics)')
      .choices(OPTIMIZER_KINDS)
      .default(d.optimizer),
    option('--momentum <m>', 'momentum factor of --optimizer momentum', parseNonNegativeNumber, d.momentum),
    option(
      '--weight-decay <wd>',
      'L2 penalty added to the gradients (PyTorch weight_decay)',
      parseNonNegativeNumber,
      d.weightDecay,
    ),
    new Option('--lr-schedule <kind>', 'learning-rate schedule')
      .choices(SCHEDULE_KINDS)
      .default(d.lrSchedule),
    option('--lr-step <epochs>', 'step schedule: epochs between decays', parsePositiveInt, d.lrStep),
    option('--lr-gamma <factor>', 'step schedule: decay factor', parsePositiveNumber, d.lrGamma),
    option('--lr-min <rate>', 'cosine schedule: final learning rate', parseNonNegativeNumber, d.lrMin),
    option('--train <n>', 'training examples', parsePositiveInt, d.train),
    option('--dev <n>', 'dev (validation) examples', parsePositiveInt, d.dev),
    option('--test <n>', 'test examples', parsePositiveInt, d.test),
    option(
      '--log-steps <n>',
      'log the training loss every n steps (0: never)',
      parseNonNegativeInt,
      d.logSteps,
    ),
    option(
      '--eval-steps <n>',
      'evaluate on dev every n steps and at the end (0: never)',
      parseNonNegativeInt,
      d.evalSteps,
    ),
    backendOption('where tfjs runs (auto: the fastest that loads)'),
    new Option('--out <dir>', 'run folder (default: runs/<network name>)'),
    new Option('--resume', 'continue the run in --out from checkpoints/last'),
    new Option('--force', 'replace an existing run folder'),
    new Option('--no-progress', 'no progress bar'),
  ];
}

/** The names (camelCase, as commander stores them) of the options given on the command line itself. */
export function givenOptions(command: Command): Set<string> {
  return new Set(
    command.options.map((o) => o.attributeName()).filter((k) => command.getOptionValueSource(k) === 'cli'),
  );
}

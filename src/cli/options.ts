/**
 * The option parsers of every command, and the options that several commands share (`--set`, `--max-params`, the
 * training options of `run` that `compare` passes on). Each parser throws commander's InvalidArgumentError, so
 * a bad value ends as `error: option '--lr <rate>' argument '0' is invalid. expected a number > 0, found '0'`.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BACKEND_NAMES } from '../runtime/backends/names.js';
import {
  DEFAULT_TRAINING,
  layerSettings,
  parseSetting,
  TRAINING_SETTINGS,
  type PartialSettings,
  type TrainingSettings,
} from '../training-settings.js';

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
 * adds the same list (less the ones it sets per run), so the two commands cannot drift apart. The training
 * options come from the settings table (src/training-settings.ts) and have no commander defaults: a value
 * not given comes from the spec's `training:` section, then from DEFAULT_TRAINING (see {@link settingsOf}).
 */
export function runOptions(): Option[] {
  const training = TRAINING_SETTINGS.flatMap((def) => {
    if (!def.option) return [];
    const d = DEFAULT_TRAINING[def.field];
    const option = new Option(
      `${def.option} ${def.valueName ?? '<value>'}`,
      `${def.description} (default: ${String(d)})`,
    );
    if (def.kind === 'choice') return [option.choices(def.choices ?? [])];
    return [
      option.argParser((text: string) => {
        const parsed = parseSetting(def, text);
        if (!parsed.ok) throw new InvalidArgumentError(parsed.problem);
        return parsed.value;
      }),
    ];
  });
  return [
    ...training,
    backendOption('where tfjs runs (auto: the fastest that loads)'),
    new Option(
      '--out <dir>',
      'run folder (default: runs/<network name>/version_<N>, and runs/<name>/latest)',
    ),
    new Option('--resume', 'continue the run in --out (default: runs/<name>/latest) from checkpoints/last'),
    new Option('--force', 'replace an existing run folder (with --out)'),
    new Option(
      '--init-from <path>',
      'start from these weights (a checkpoint, a run folder, or a .safetensors file; fine-tuning)',
    ),
    new Option('--map <file>', 'with --init-from a .safetensors file: rename its tensors (a map file)'),
    new Option('--json', 'print the final metrics as one JSON object on stdout'),
    new Option('--no-progress', 'no progress bar'),
  ];
}

/** The values of {@link engineOptions}. */
export interface EngineSettings {
  readonly engine: 'tfjs' | 'torch';
  readonly nproc?: number;
  readonly device?: 'auto' | 'cpu' | 'cuda';
  readonly prepareOnly?: boolean;
}

/** `netspec run`'s engine options: tfjs in this process, or the generated PyTorch module under python3/torchrun. */
export function engineOptions(): Option[] {
  return [
    new Option(
      '--engine <engine>',
      'tfjs: train in this process; torch: write the PyTorch module and train.py into the run folder and run them with /usr/bin/python3 (DDP with --nproc)',
    )
      .choices(['tfjs', 'torch'])
      .default('tfjs'),
    new Option(
      '--nproc <n>',
      'with --engine torch: data-parallel processes on this machine (default: 1)',
    ).argParser(parsePositiveInt),
    new Option(
      '--device <device>',
      'with --engine torch: where PyTorch trains (default: auto, CUDA when present)',
    ).choices(['auto', 'cpu', 'cuda']),
    new Option(
      '--prepare-only',
      'with --engine torch: write the run folder with torch/ (train.py, model.py, settings, data, initial weights) and stop; train it later with python3 or torchrun (several machines: torchrun on each)',
    ),
  ];
}

/**
 * The run settings of a command: DEFAULT_TRAINING, then the spec's `training:` section, then the options given
 * on the command line (commander's values for the table's options). `given` names the fields set on the command
 * line (options or `--set training.*`), which a resumed run takes over the saved ones.
 */
export function settingsOf(
  command: Command,
  spec: PartialSettings,
  setTraining: PartialSettings = {},
): { settings: TrainingSettings; given: Set<string> } {
  const values = command.opts<Record<string, unknown>>();
  const cli: PartialSettings = {};
  const given = new Set<string>(Object.keys(setTraining));
  for (const def of TRAINING_SETTINGS) {
    if (!def.option) continue;
    if (command.getOptionValueSource(def.field) !== 'cli') continue;
    Object.assign(cli, { [def.field]: values[def.field] });
    given.add(def.field);
  }
  return { settings: layerSettings(DEFAULT_TRAINING, spec, setTraining, cli), given };
}

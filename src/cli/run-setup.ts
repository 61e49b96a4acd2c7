/**
 * What `netspec run` settles before it trains: the run folder (a new `version_<N>`, or `latest` to resume), the
 * weights of `--init-from`, where the settings came from, and the `--json` summary of how it ended.
 */
import path from 'node:path';
import type { IrNetwork } from '../compiler/ir.js';
import type { StateDict } from '../compiler/targets/tfjs/index.js';
import type { RunFolderMode } from '../runtime/checkpoint/run-folder.js';
import type { RunRequest, RunResult, SessionOutput } from '../runtime/session/index.js';
import { SETTING_BY_FIELD, type SettingField } from '../training-settings.js';
import { createTerminalOutput } from './console.js';
import { UserError, type CliIo } from './io.js';
import type { EngineSettings } from './options.js';
import type { BackendName } from '../runtime/backends/names.js';
import type { RunSettings } from '../runtime/session/config.js';
import type { ConsoleSettings } from './console.js';

/** The batch size activations are checked at: the one given, else the default (the spec's is known only after compiling). */
export function batchOf(options: { readonly batchSize?: unknown }): { batchSize?: number } {
  return typeof options.batchSize === 'number' ? { batchSize: options.batchSize } : {};
}

/** Where the settings came from, in words: `specs/lenet5.yaml (training:), --epochs, --set training.lr`. */
export function describeSources(
  spec: string,
  origins: Readonly<Record<string, string | undefined>>,
  given: ReadonlySet<string>,
  fromSet: ReadonlySet<string>,
): string | undefined {
  const fromSpec = Object.values(origins).some((o) => o !== undefined && o !== '--set');
  const options = [...given]
    .filter((f) => !fromSet.has(f))
    .map((f) => SETTING_BY_FIELD.get(f as SettingField)?.option ?? f);
  const sets = [...fromSet].map((f) => `--set training.${SETTING_BY_FIELD.get(f as SettingField)?.key ?? f}`);
  const parts = [...(fromSpec ? [`${spec} (training:)`] : []), ...options, ...sets];
  return parts.length
    ? `from ${parts.join(', ')}; the rest are the defaults`
    : 'the defaults (the spec has no training: section)';
}

/** `runs/<name>/version_<N>` for a new run (and `latest` pointed at it), `runs/<name>/latest`'s folder to resume. */
export async function defaultRunFolder(name: string, mode: RunFolderMode): Promise<string> {
  const { nextVersionFolder, latestVersionFolder } = await import('../runtime/checkpoint/versions.js');
  const parent = path.join('runs', name);
  if (mode === 'resume') return latestVersionFolder(parent);
  return nextVersionFolder(parent);
}

/** The weights of `--init-from`: a checkpoint folder, a run folder (its checkpoints/best), or a safetensors file. */
export async function loadInitWeights(
  ir: IrNetwork,
  spec: string,
  from: string,
  map: string | undefined,
  io: CliIo,
): Promise<{ weights: StateDict; description: string }> {
  if (/\.safetensors$/i.test(from)) {
    const { loadWeights } = await import('./predict.js');
    return { weights: loadWeights(ir, from, map, io), description: from };
  }
  const [{ loadInitCheckpoint }, { resolveCheckpointFolder }] = await Promise.all([
    import('../runtime/checkpoint/versions.js'),
    import('../runtime/session/checkpoint-folder.js'),
  ]);
  return loadInitCheckpoint(resolveCheckpointFolder(from), ir, spec);
}

/** `run --json`: how the run ended and its final metrics. */
export function finalJson(result: RunResult, out: string): Record<string, unknown> {
  const m = result.metrics;
  return {
    status: result.status,
    out,
    network: m.network,
    spec: m.spec,
    backend: m.backend.name,
    best: m.best,
    test: m.test,
    epochs: m.epochs,
    trainSeconds: m.trainSeconds,
    wallSeconds: m.wallSeconds,
    ...(result.message ? { message: result.message } : {}),
  };
}

/**
 * Trains one run on the torch engine (src/runtime/torch-engine/): train.py under python3 in the run folder; with
 * `--prepare-only`, writes the folder, says how to start it and returns undefined.
 */
export async function torchRun(
  task: RunTask,
  engine: EngineSettings,
  io: CliIo,
): Promise<RunResult | undefined> {
  const output = createTerminalOutput(io, task.console);
  const { prepareTorchRun, runTorchSession } = await import('../runtime/torch-engine/run.js');
  // The resume command is the engine's own (it names --engine torch and --nproc).
  const request = sessionRequest(task, output, '');
  const options = { nproc: engine.nproc ?? 1, device: engine.device ?? 'auto' } as const;
  if (!engine.prepareOnly) return runTorchSession(request, options);
  const prepared = await prepareTorchRun(request, options);
  prepared.folder.close();
  const trainer = path.join(task.out, 'torch', 'train.py');
  output.line(
    `prepared ${task.out}: train it with ${[prepared.command, ...prepared.args].join(' ')}, ` +
      `or torchrun --nproc_per_node N ${trainer} --out ${task.out}`,
    'result',
  );
  return undefined;
}

/**
 * The session request of `task` for either engine (tfjs's runSession, the torch engine's): the task's fields, the
 * terminal output, and the command that continues the run.
 */
export function sessionRequest(task: RunTask, output: SessionOutput, resumeCommand: string): RunRequest {
  return {
    spec: task.spec,
    ir: task.ir,
    settings: task.settings,
    given: task.given,
    backend: task.backend,
    out: task.out,
    mode: task.mode,
    resumeCommand,
    output,
    ...(task.startedAt !== undefined ? { startedAt: task.startedAt } : {}),
    ...(task.settingsFrom !== undefined ? { settingsFrom: task.settingsFrom } : {}),
    ...(task.initFrom ? { initFrom: task.initFrom } : {}),
    ...(task.linkLatest ? { linkLatest: true } : {}),
  };
}

/** Refuses engine options that do not fit together, in one line. */
export function checkEngineOptions(options: EngineSettings & { readonly resume?: boolean }): void {
  if (options.engine !== 'torch' && (options.nproc !== undefined || options.device !== undefined))
    throw new UserError('--nproc and --device are options of --engine torch');
  if (options.engine !== 'torch' && options.prepareOnly)
    throw new UserError('--prepare-only is an option of --engine torch');
}

/** One run for run.ts's trainRun: `netspec run`'s, or one of `compare`'s. */
export interface RunTask {
  readonly spec: string;
  readonly ir: IrNetwork;
  readonly settings: RunSettings;
  readonly given: ReadonlySet<string>;
  readonly backend: BackendName;
  readonly console: ConsoleSettings;
  readonly out: string;
  readonly mode: RunFolderMode;
  readonly startedAt?: number;
  readonly settingsFrom?: string;
  readonly linkLatest?: boolean;
  readonly initFrom?: { readonly weights: StateDict; readonly description: string };
}

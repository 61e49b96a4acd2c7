/**
 * `netspec run --engine torch`: the same run folder, settings, data and initial weights as a tfjs run, trained by
 * the generated PyTorch module and the static trainer (src/compiler/targets/pytorch/train.py) under
 * `/usr/bin/python3` or `torchrun --nproc_per_node N`. netspec prepares `torch/` in the run folder, streams the
 * trainer's lines, and draws the curves from the metrics.json it wrote.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { checkRunFolder, openRunFolder, recoverRunFolder, type RunFolder } from '../checkpoint/run-folder.js';
import { BackendError, FileError, TrainInputError, writeFailure } from '../errors.js';
import { lstatOrUndefined, writeFileAtomically } from '../files/write.js';
import { loadCheckpoint } from '../checkpoint/training-checkpoint.js';
import { runConfigOf } from '../session/config.js';
import { checkResumeConfig, checkResumeNetwork } from '../session/resume.js';
import { loadRunData } from '../session/data.js';
import { writeCurves } from '../session/finish.js';
import { describeTraining, type LineKind, type RunRequest, type RunResult } from '../session/run.js';
import { augments, validateTrainConfig, type RunConfig } from '../train/config.js';
import type { TrainProgress } from '../train/history.js';
import { divergenceMessage } from '../session/record.js';
import type { RunMetrics } from '../train/metrics.js';
import type { StateDict } from '../../compiler/targets/tfjs/index.js';
import { TORCH_FOLDER, torchRunFiles } from './prepare.js';

/** Debian's Python, where python3-torch installs. */
export const TORCH_PYTHON = '/usr/bin/python3';

/** How the torch engine runs. */
export interface TorchEngineOptions {
  /** Processes on this machine (torchrun's --nproc_per_node); 1 runs train.py in one plain process. */
  readonly nproc: number;
  /** The Python that imports torch (default {@link TORCH_PYTHON}). */
  readonly python?: string;
  /** `auto` (CUDA when torch sees it), `cpu` or `cuda`. */
  readonly device?: 'auto' | 'cpu' | 'cuda';
}

/**
 * The command that starts train.py: one plain process, or N through its `--nproc` (torch.distributed.run with a
 * fix for Debian's PyTorch 1.13 under Python 3.11, whose /usr/bin/torchrun fails on its own defaults).
 */
export function launchCommand(
  trainer: string,
  out: string,
  options: TorchEngineOptions,
): { command: string; args: string[] } {
  const script = [trainer, '--out', out, '--device', options.device ?? 'auto'];
  return {
    command: options.python ?? TORCH_PYTHON,
    args: options.nproc > 1 ? [...script, '--nproc', String(options.nproc)] : script,
  };
}

/** Fails with one line when `python` cannot import torch. */
export function checkTorch(python: string): string {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new BackendError(
      `--engine torch needs PyTorch: ${python} cannot import torch (Debian: apt-get install python3-torch)`,
    );
  return probe.stdout.trim();
}

/** How a trainer line stands out on a terminal. */
function kindOf(line: string): LineKind {
  if (line.startsWith('[Evaluate] best')) return 'best';
  if (line.startsWith('[Test]')) return 'result';
  if (line.startsWith('note:') || line.startsWith('warning:') || line.startsWith('error:')) return 'warning';
  return 'plain';
}

/** A run folder made ready for train.py: open (locked), with `torch/` written and the run's first lines logged. */
export interface PreparedTorchRun {
  readonly folder: RunFolder;
  readonly config: RunConfig;
  /** The command that trains it (train.py with `--out` and `--device`; `--nproc` for N processes). */
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Checks the request (run folder, torch, config, data) and only then opens the folder and writes `torch/`; the
 * caller closes the folder. Nothing is written when a check fails.
 */
export async function prepareTorchRun(
  request: RunRequest,
  options: TorchEngineOptions,
): Promise<PreparedTorchRun> {
  const { out, mode } = request;
  if (!Number.isSafeInteger(options.nproc) || options.nproc < 1)
    throw new TrainInputError(`--nproc must be a positive integer, not ${options.nproc}`);
  let folder: RunFolder | undefined;
  try {
    recoverRunFolder(out);
    checkRunFolder(out, mode);
    // A resumed folder is opened (and locked) first: its checkpoint holds the options.
    if (mode === 'resume') folder = openRunFolder(out, mode);
  } catch (e) {
    throw writeFailure(e, out) ?? e;
  }
  try {
    return await prepareIn(request, options, folder);
  } catch (e) {
    folder?.close(true);
    throw e;
  }
}

async function prepareIn(
  request: RunRequest,
  options: TorchEngineOptions,
  resumed: RunFolder | undefined,
): Promise<PreparedTorchRun> {
  const { out, mode, ir } = request;
  const last = resumed ? loadCheckpoint(resumed.lastDir) : undefined;
  if (last) {
    checkResumeNetwork(last, ir, request.spec);
    if (!last.meta.backend.startsWith('torch'))
      throw new TrainInputError(
        `${last.dir} was written by netspec's tfjs trainer (backend ${last.meta.backend}); resume it with --engine tfjs`,
      );
  }
  const python = options.python ?? TORCH_PYTHON;
  const version = checkTorch(python);
  const config = runConfigOf(request.settings, request.given, last?.meta.config);
  const problems = validateTrainConfig(config.training);
  if (augments(config.training.augment))
    problems.push('--engine torch does not augment yet; drop the augment settings or use --engine tfjs');
  if (config.training.checkpoint.topK > 1)
    problems.push('--engine torch keeps one best checkpoint; checkpoint.top_k > 1 needs --engine tfjs');
  if (problems.length) throw new TrainInputError(problems.join('; '));
  if (last) checkResumeConfig(last, config, out);
  const data = await loadRunData(ir, config);
  // The initial weights are netspec's seeded initialization (or --init-from's), so both engines start alike.
  const init = request.initFrom?.weights ?? (await seededWeights(request, config.training.seed));
  const files = torchRunFiles({
    ir,
    spec: request.spec,
    config,
    data,
    init,
    initFrom: request.initFrom?.description ?? null,
    resumeCommand: `netspec run ${request.spec} --out ${out} --resume --engine torch${options.nproc > 1 ? ` --nproc ${options.nproc}` : ''}`,
  });
  const processes =
    options.nproc === 1 ? 'one process' : `${options.nproc} processes (torch.distributed.run)`;
  const lines = [
    `engine: torch ${version} (${processes}; device ${options.device ?? 'auto'})`,
    `data: ${data.description}`,
    `network: ${ir.name} (${request.spec}); ${describeTraining(config.training)}`,
    ...(request.settingsFrom ? [`settings: ${request.settingsFrom}`] : []),
    ...(request.initFrom ? [`weights: from ${request.initFrom.description}`] : []),
  ];
  let folder = resumed;
  try {
    folder ??= openRunFolder(out, mode);
    // torch/ is netspec's (a resumed run's is replaced file by file): a real folder, its files written atomically,
    // never through a link.
    const dir = path.join(out, TORCH_FOLDER);
    const stat = lstatOrUndefined(dir);
    if (stat && !stat.isDirectory())
      throw new FileError(
        `${dir} is not a folder (a link or a file); netspec writes only into its own folders`,
        dir,
      );
    if (!stat) fs.mkdirSync(dir);
    for (const [name, bytes] of files) writeFileAtomically(path.join(dir, name), bytes);
    folder.appendLog(lines.join('\n'));
  } catch (e) {
    if (!resumed) folder?.close(true);
    throw writeFailure(e, out) ?? e;
  }
  if (request.linkLatest) {
    const { pointLatest } = await import('../checkpoint/versions.js');
    const note = pointLatest(out);
    if (note) request.output.note(note);
  }
  for (const line of lines) request.output.line(line);
  const { command, args } = launchCommand(path.join(out, TORCH_FOLDER, 'train.py'), out, options);
  return { folder, config, command, args: last ? [...args, '--resume'] : args };
}

/** Runs `request` on the torch engine: {@link prepareTorchRun}, train.py, then the curves. */
export async function runTorchSession(request: RunRequest, options: TorchEngineOptions): Promise<RunResult> {
  const startedAt = request.startedAt ?? performance.now();
  const { out } = request;
  const { folder, config, command, args } = await prepareTorchRun(request, options);
  let failed = true;
  try {
    const { code, lastError } = await streamProcess(command, args, request);
    const metrics = readMetrics(folder.metricsFile);
    if (code !== 0 && metrics?.status !== 'diverged' && metrics?.status !== 'interrupted')
      throw new TrainInputError(`train.py exited with code ${code}${lastError ? `: ${lastError}` : ''}`);
    if (!metrics) throw new TrainInputError('train.py wrote no metrics.json');
    folder.commit();
    if (metrics.status === 'diverged' && metrics.divergence) {
      // train.py's last stderr line is netspec's divergence sentence; the same, built here, if it is not.
      const t = config.training;
      const kept = { dir: folder.lastDir, progress: savedProgress(folder.lastDir) };
      const shape = { stepsPerEpoch: metrics.stepsPerEpoch, totalSteps: metrics.totalSteps };
      const message = lastError.startsWith('error: training diverged')
        ? lastError.slice('error: '.length)
        : divergenceMessage(metrics.divergence, t.epochs, shape, t.lr, kept);
      return { status: 'diverged', message, metrics };
    }
    if (metrics.status === 'interrupted') {
      failed = false;
      const p = savedProgress(folder.lastDir);
      const message =
        `[Train] stopped at epoch ${p?.epoch ?? 0}/${config.training.epochs}, step ${p?.globalStep ?? 0}/${metrics.totalSteps}; ` +
        `continue with: netspec run ${request.spec} --out ${out} --resume --engine torch`;
      return { status: 'interrupted', message, metrics };
    }
    failed = false;
    const written = await writeCurves(folder, metrics);
    const checkpoints = fs.existsSync(folder.bestDir) ? '{best,last}' : 'last';
    const wrote = `wrote ${out}: train.log, metrics.json, checkpoints/${checkpoints}, ${TORCH_FOLDER}/, ${written.join(', ')}`;
    request.output.line(wrote, 'result');
    folder.appendLog(wrote);
    return {
      status: 'completed',
      metrics: { ...metrics, wallSeconds: (performance.now() - startedAt) / 1000 },
    };
  } finally {
    const restored = folder.close(failed);
    if (restored) request.output.note(restored);
  }
}

/** The progress recorded in a checkpoint folder's checkpoint.json, or null (none, or unreadable). */
function savedProgress(dir: string): TrainProgress | null {
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as {
      progress?: TrainProgress | null;
    };
    return meta.progress ?? null;
  } catch {
    return null;
  }
}

/** Runs the trainer, showing its stdout lines as the run's lines; resolves with its exit code and last stderr line. */
function streamProcess(
  command: string,
  args: readonly string[],
  request: RunRequest,
): Promise<{ code: number; lastError: string }> {
  let lastError = '';
  return new Promise((resolve, reject) => {
    // Its own process group, so that a terminal's Ctrl-C reaches it once, from here: SIGINT finishes the step
    // and saves checkpoints/last (a second quits at once); SIGTERM and SIGHUP ask the same.
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      detached: true,
    });
    const forward = (signal: NodeJS.Signals) => (): void => {
      child.kill(signal === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
    };
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const quit = (): void => void child.kill('SIGKILL');
    process.on('exit', quit);
    const done = (): void => {
      for (const [s, h] of handlers) process.off(s, h);
      process.off('exit', quit);
    };
    child.on('error', (e) => {
      done();
      reject(new BackendError(`cannot start ${command}: ${e.message}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => request.output.line(line, kindOf(line)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      // A trainer's own refusal is `error: ...`; otherwise the last line of a traceback says what failed.
      if (line.trim()) lastError = line.trim();
      request.output.detail?.(line);
    });
    child.on('close', (code, signal) => {
      done();
      resolve({ code: code ?? (signal ? 128 : 1), lastError });
    });
  });
}

function readMetrics(file: string): RunMetrics | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunMetrics;
  } catch {
    return undefined;
  }
}

/** netspec's seeded initial weights for the request's network (those a tfjs run with the same seed starts from). */
async function seededWeights(request: RunRequest, seed: number): Promise<StateDict> {
  const [{ buildModel, readStateDict }, { selectBackend }] = await Promise.all([
    import('../../compiler/targets/tfjs/index.js'),
    import('../backends/index.js'),
  ]);
  await selectBackend('cpu');
  const model = buildModel(request.ir, { seed });
  try {
    return await readStateDict(model, request.ir);
  } finally {
    model.dispose();
  }
}

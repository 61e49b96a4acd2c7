/**
 * The PyTorch side of the benchmark: writes the generated PyTorch module (the pytorch target's model.py) to a
 * temporary folder and times it in a Python child process (torch-bench.py next to this file). A Python without
 * torch is a reason, not an error, so the tfjs side still runs.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IrNetwork } from '../../compiler/ir.js';
import { generateTarget } from '../../compiler/targets/index.js';
import { summarize, type TimingStats } from './stats.js';
import { BackendError } from '../errors.js';

/** Debian's python3 (where python3-torch installs); PATH's python3 may be another one without torch. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

/** The script's path; the same relative path works from src/runtime/bench and from dist/runtime/bench. */
const SCRIPT = fileURLToPath(new URL('../../../src/runtime/bench/torch-bench.py', import.meta.url));

/** Options of {@link benchPytorch}. */
export interface PytorchBenchOptions {
  readonly python: string;
  readonly threads: number;
  /** The torch device: 'cpu', 'cuda' or 'cuda:N'. */
  readonly device: string;
  readonly batchSize: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly lr: number;
  readonly seed: number;
}

/** PyTorch's timings of the same network, or why there are none. */
export type PytorchBenchResult =
  | {
      readonly available: true;
      readonly version: string;
      readonly threads: number;
      /** The device it ran on, as the script names it (`cpu`, `cuda:0 (NVIDIA H200)`). */
      readonly device: string;
      readonly forwardMs: TimingStats;
      readonly stepMs: TimingStats;
      /** The Python process's RSS high-water mark, MiB (it runs nothing else). */
      readonly peakRssMiB: number;
    }
  | { readonly available: false; readonly reason: string };

/** What torch-bench.py prints (its last stdout line, as JSON). */
export interface ScriptOutput {
  readonly torch: string;
  readonly threads: number;
  readonly device: string;
  readonly forwardMs: number[];
  readonly stepMs: number[];
  readonly peakRssMiB: number;
}

/** The first bytes of what a program printed, quoted (newlines escaped), for an error message. */
function firstBytes(text: string, limit = 200): string {
  if (text.length === 0) return 'nothing';
  const head = JSON.stringify(text.slice(0, limit));
  return text.length > limit ? `${head}… (${text.length} characters)` : head;
}

/**
 * The timings torch-bench.py prints as its last stdout line, checked field by field, or why the output is not
 * that (another program given as --python, a script that printed something else).
 */
export function parseScriptOutput(stdout: string, repeats: number): ScriptOutput | string {
  let raw: unknown;
  try {
    raw = JSON.parse(lastLine(stdout));
  } catch {
    return 'its last line is not JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return 'its last line is not a JSON object';
  const o = raw as Record<string, unknown>;
  const times = (key: string): string | undefined => {
    const v = o[key];
    return Array.isArray(v) &&
      v.length === repeats &&
      v.every((t) => typeof t === 'number' && Number.isFinite(t) && t >= 0)
      ? undefined
      : `'${key}' is not a list of ${repeats} times in ms`;
  };
  const problem =
    (typeof o.torch === 'string' ? undefined : "'torch' (the version) is not a string") ??
    (Number.isSafeInteger(o.threads) ? undefined : "'threads' is not an integer") ??
    (typeof o.device === 'string' ? undefined : "'device' is not a string") ??
    times('forwardMs') ??
    times('stepMs') ??
    (typeof o.peakRssMiB === 'number' && Number.isFinite(o.peakRssMiB)
      ? undefined
      : "'peakRssMiB' is not a number");
  return problem ?? (raw as ScriptOutput);
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      },
      (error, stdout, stderr) => resolve({ stdout, stderr, ...(error ? { error } : {}) }),
    );
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

/**
 * Times the generated PyTorch module of `ir` on `options.device` with `options.threads` threads. A Python that is
 * missing, lacks torch or fails (a CUDA device it cannot see, too) is a `skipped` reason; one that runs but prints something other than the timings is a
 * BackendError naming the program and what it printed.
 */
export async function benchPytorch(ir: IrNetwork, options: PytorchBenchOptions): Promise<PytorchBenchResult> {
  const probe = await run(options.python, ['-c', 'import torch']);
  if (probe.error) {
    const missing = (probe.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      available: false,
      reason: missing
        ? `${options.python} not found`
        : `${options.python} cannot import torch (${lastLine(probe.stderr) || probe.error.message})`,
    };
  }
  const model = generateTarget(ir, 'pytorch').get('model.py');
  if (model === undefined) throw new Error('internal: the pytorch target wrote no model.py');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-bench-'));
  try {
    const file = path.join(dir, 'model.py');
    fs.writeFileSync(file, model);
    const result = await run(options.python, [
      SCRIPT,
      file,
      ...['--batch-size', String(options.batchSize), '--warmup', String(options.warmup)],
      ...['--repeats', String(options.repeats), '--threads', String(options.threads)],
      ...['--lr', String(options.lr), '--seed', String(options.seed)],
      ...['--classes', String(ir.outputShape[0] ?? 1), '--device', options.device],
    ]);
    if (result.error)
      return {
        available: false,
        reason: `PyTorch run failed: ${lastLine(result.stderr) || result.error.message}`,
      };
    const out = parseScriptOutput(result.stdout, options.repeats);
    if (typeof out === 'string') {
      // The program exited 0 but is not the benchmark: an error, not a skip, since it was asked for by name.
      throw new BackendError(
        `PyTorch benchmark: ${options.python} ${path.basename(SCRIPT)} printed ${firstBytes(result.stdout)}; ` +
          `${out} (expected torch-bench.py's timings; is --python a Python with torch?)`,
      );
    }
    return {
      available: true,
      version: out.torch,
      threads: out.threads,
      device: out.device,
      forwardMs: summarize(out.forwardMs),
      stepMs: summarize(out.stepMs),
      peakRssMiB: out.peakRssMiB,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

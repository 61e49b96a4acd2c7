/**
 * `netspec bench` as a library call: PyTorch (the reference) and then each tfjs backend in turn, timed on the
 * same network, batch size and repetitions, gathered into one {@link BenchReport}.
 */
import os from 'node:os';
import type { IrNetwork } from '../../compiler/ir.js';
import { selectBackend, type BackendName, type BackendSelection } from '../backends/index.js';
import { untrainableReasons } from '../train/trainability.js';
import { TrainInputError } from '../errors.js';
import { benchPytorch, type PytorchBenchOptions } from './pytorch-bench.js';
import { BENCH_CONVENTIONS, epochEstimate, type BenchEntry, type BenchReport } from './report.js';
import { profileTfjs } from './profile.js';
import { benchTfjs } from './tfjs-bench.js';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Backends to time, in order; a backend in `optional` that cannot run is skipped with its reason. */
  readonly backends: readonly Exclude<BackendName, 'auto'>[];
  /** Backends whose failure to load is a note rather than an error (the defaults: native). */
  readonly optional?: readonly string[];
  readonly batchSize: number;
  readonly warmup: number;
  readonly repeats: number;
  /** Images in the epoch the estimate is for. */
  readonly epochImages: number;
  readonly lr: number;
  readonly seed: number;
  /** How to run PyTorch (which Python, threads, torch device); undefined leaves it out. */
  readonly pytorch?: Pick<PytorchBenchOptions, 'python' | 'threads' | 'device'>;
  /** Also profile one training step per tfjs backend, kernel by kernel. */
  readonly profile?: boolean;
  /** Told before each engine starts, so a caller can show progress (some take minutes). */
  readonly progress?: (line: string) => void;
}

/**
 * Runs the benchmark; throws BackendError when a backend asked for (and not optional) cannot run, and
 * TrainInputError, before timing anything, for a network that cannot be trained (the step is half of the bench).
 */
export async function runBench(ir: IrNetwork, options: BenchOptions): Promise<BenchReport> {
  const { batchSize, warmup, repeats, lr, seed } = options;
  const untrainable = untrainableReasons(ir);
  if (untrainable.length)
    throw new TrainInputError(`bench times a training step, but ${untrainable.join('; ')}`);
  const loadAtStart = os.loadavg()[0] ?? 0;
  const entries: BenchEntry[] = [];
  const skipped: { name: string; reason: string }[] = [];
  let torch: { forward: number; step: number } | undefined;
  if (options.pytorch) {
    options.progress?.(`timing PyTorch (${options.pytorch.device}, ${options.pytorch.threads} threads)`);
    const result = await benchPytorch(ir, { ...options.pytorch, batchSize, warmup, repeats, lr, seed });
    if (result.available) {
      torch = { forward: result.forwardMs.median, step: result.stepMs.median };
      entries.push({
        name: 'pytorch',
        notes: [
          `torch ${result.version}, ${result.threads} thread(s) on ${result.device}, the generated module ` +
            '(pytorch target)',
        ],
        device: result.device,
        forwardMs: result.forwardMs,
        stepMs: result.stepMs,
        epoch: epochEstimate(options.epochImages, batchSize, result.stepMs.median),
        ratioToPytorch: { forward: 1, step: 1 },
        peakRssMiB: result.peakRssMiB,
      });
    } else skipped.push({ name: 'pytorch', reason: result.reason });
  }
  for (const backend of options.backends) {
    let selection: BackendSelection;
    try {
      selection = await selectBackend(backend);
    } catch (e) {
      if (!(options.optional ?? []).includes(backend)) throw e;
      skipped.push({ name: backend, reason: e instanceof Error ? e.message : String(e) });
      continue;
    }
    options.progress?.(`timing tfjs on ${backend}`);
    const result = await benchTfjs(ir, { batchSize, warmup, repeats, lr, seed });
    const profile = options.profile
      ? await profileTfjs(ir, { batchSize, lr, seed, warmup: Math.max(1, warmup) }, 'step')
      : undefined;
    entries.push({
      name: result.backend,
      // The selection's line about this backend, without its 'name: ' prefix (the table adds the name).
      notes: selection.reasons
        .filter((n) => n.startsWith(`${backend}: `))
        .map((n) => n.slice(backend.length + 2)),
      ...(selection.adapter ? { adapter: selection.adapter } : {}),
      forwardMs: result.forwardMs,
      stepMs: result.stepMs,
      epoch: epochEstimate(options.epochImages, batchSize, result.stepMs.median),
      ratioToPytorch: torch
        ? { forward: result.forwardMs.median / torch.forward, step: result.stepMs.median / torch.step }
        : null,
      peakRssMiB: result.peakRssMiB,
      leakedTensors: result.leakedTensors,
      ...(profile ? { profile } : {}),
    });
  }
  const cpus = os.cpus();
  return {
    network: ir.name,
    inputShape: ir.inputShape,
    batchSize,
    warmup,
    repeats,
    host: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      node: process.versions.node,
      loadAverage: [loadAtStart, os.loadavg()[0] ?? 0],
    },
    entries,
    skipped,
    conventions: BENCH_CONVENTIONS,
  };
}

/**
 * `netspec bench [<spec>]`: times a forward pass and a training step of the network on tfjs backends and on the
 * generated PyTorch module, side by side in one run; a table for people, one JSON document with --json.
 */
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../runtime/backends/names.js';
import { formatBenchTable } from '../runtime/bench/report.js';
import { compileOrReport, type SpecOptions } from './common.js';
import type { CliIo } from './io.js';
import {
  parseNonNegativeInt,
  parsePositiveInt,
  parsePositiveNumber,
  parseTorchDevice,
  withSpecOptions,
} from './options.js';

interface BenchCliOptions extends SpecOptions {
  readonly backend?: string[];
  readonly batchSize: number;
  readonly warmup: number;
  readonly repeats: number;
  readonly epochImages: number;
  readonly seed: number;
  readonly lr: number;
  readonly pytorch: boolean;
  readonly python: string;
  readonly torchThreads: number;
  readonly torchDevice: string;
  readonly json?: boolean;
  readonly profile?: boolean;
}

/** The spec benchmarked when none is given: the seed ResNet18 shipped with the package. */
const DEFAULT_SPEC = fileURLToPath(new URL('../../specs/resnet18.yaml', import.meta.url));

/**
 * pytorch-bench's DEFAULT_PYTHON (a test holds them equal), written out here because that module loads the code
 * generators (handlebars), which `netspec --help` should not wait for.
 */
export const BENCH_DEFAULT_PYTHON = '/usr/bin/python3';

type TimedBackend = Exclude<BackendName, 'auto'>;

/** Registers `netspec bench`; `setExit` records the exit code. */
export function registerBench(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('bench')
      .description(
        'time forward and training step on tfjs backends and PyTorch (the generated module), side by side',
      )
      .argument('[spec]', 'spec file (.yaml or .net); default: the seed ResNet18 (specs/resnet18.yaml)')
      .addOption(
        new Option(
          '--backend <names...>',
          'tfjs backends to time, in order (default: native when built, and wasm; cpu takes minutes on ResNet18; ' +
            'webgpu on a software adapter such as SwiftShader is not timing a GPU)',
        ).choices(BACKEND_NAMES.filter((n) => n !== 'auto')),
      )
      .option('--batch-size <n>', 'examples per batch', parsePositiveInt, 64)
      .option('--warmup <n>', 'untimed runs before timing', parseNonNegativeInt, 2)
      .option('--repeats <n>', 'timed runs (the median is reported)', parsePositiveInt, 5)
      .option(
        '--epoch-images <n>',
        'images per training epoch, for the images/s estimate',
        parsePositiveInt,
        1000,
      )
      .option('--seed <n>', 'seed of the weights and the random batch', parseNonNegativeInt, 0)
      .option('--lr <x>', 'SGD learning rate of the timed steps', parsePositiveNumber, 0.005)
      .option('--no-pytorch', 'leave PyTorch out')
      .option('--python <file>', 'the Python that has torch', BENCH_DEFAULT_PYTHON)
      .option('--torch-threads <n>', 'torch.set_num_threads for PyTorch', parsePositiveInt, 2)
      .option('--torch-device <device>', 'where PyTorch runs: cpu, cuda or cuda:N', parseTorchDevice, 'cpu')
      .option('--profile', 'also profile one training step per tfjs backend, kernel by kernel')
      .option('--json', 'print one JSON document on stdout and nothing else there'),
  ).action(async (spec: string | undefined, options: BenchCliOptions) => {
    const ir = compileOrReport(spec ?? DEFAULT_SPEC, options, io);
    if (!ir) return setExit(1);
    const requested = options.backend as TimedBackend[] | undefined;
    // tfjs loads only for commands that run a model, so `check` and the reports start fast.
    const { runBench } = await import('../runtime/bench/bench.js');
    const report = await runBench(ir, {
      backends: requested ?? ['native', 'wasm'],
      optional: requested ? [] : ['native'],
      batchSize: options.batchSize,
      warmup: options.warmup,
      repeats: options.repeats,
      epochImages: options.epochImages,
      lr: options.lr,
      seed: options.seed,
      ...(options.pytorch
        ? { pytorch: { python: options.python, threads: options.torchThreads, device: options.torchDevice } }
        : {}),
      profile: options.profile === true,
      progress: (line) => io.stderr(`bench: ${line}\n`),
    });
    io.stdout(options.json ? JSON.stringify(report, null, 2) + '\n' : formatBenchTable(report));
  });
}

/**
 * `netspec evaluate <spec> --checkpoint DIR`: loads a verified checkpoint into the spec's network and reports
 * accuracy and loss on the test (or dev) split of the run's data, as RunnerV3's `evaluate` does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../runtime/backends/names.js';
import { checkCheckpointFits, loadCheckpoint, type LoadedCheckpoint } from '../runtime/checkpoint/index.js';
import type { RunConfig } from '../runtime/train/config.js';
import { formatFixed, testLine } from '../runtime/train/log-lines.js';
import { compileOrReport, parsePositiveInt, withSpecOptions, type SpecOptions } from './common.js';
import { UserError, type CliIo } from './io.js';
import { asUserError, loadRunData, loadRuntime } from './run.js';

interface EvaluateOptions extends SpecOptions {
  readonly checkpoint: string;
  readonly data?: string;
  readonly split: 'test' | 'dev';
  readonly backend: BackendName;
  readonly batchSize?: number;
}

/** Registers `netspec evaluate`; `setExit` records the exit code. */
export function registerEvaluate(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('evaluate')
      .description("evaluate a checkpoint on the test (or dev) split of its run's data")
      .argument('<spec>', 'spec file (.yaml or .net)')
      .requiredOption(
        '--checkpoint <dir>',
        'a checkpoint folder (checkpoints/best, checkpoints/last) or a run folder (uses its best)',
      )
      .option('--data <source>', "data source (default: the run's)")
      .addOption(new Option('--split <split>', 'which split').choices(['test', 'dev']).default('test'))
      .addOption(new Option('--backend <name>', 'where tfjs runs').choices(BACKEND_NAMES).default('auto'))
      .option(
        '--batch-size <n>',
        "examples per batch (default: the run's; the loss is a mean of batch means)",
        parsePositiveInt,
      ),
  ).action(async (spec: string, options: EvaluateOptions) => {
    setExit(await evaluateCommand(spec, options, io));
  });
}

/** A checkpoint folder, or a run folder whose checkpoints/best (else last) is meant. */
function resolveCheckpointDir(dir: string): string {
  if (fs.existsSync(path.join(dir, 'manifest.json'))) return dir;
  for (const kind of ['best', 'last']) {
    const inner = path.join(dir, 'checkpoints', kind);
    if (fs.existsSync(path.join(inner, 'manifest.json'))) return inner;
  }
  return dir;
}

function describeCheckpoint(c: LoadedCheckpoint): string {
  const m = c.meta;
  if (m.kind === 'best' && m.best)
    return `${c.dir} (best model: step ${m.best.step}, epoch ${m.best.epoch}, dev accuracy ${formatFixed(m.best.score, 5)})`;
  if (m.progress) return `${c.dir} (${m.kind}: epoch ${m.progress.epoch}, step ${m.progress.globalStep})`;
  return `${c.dir} (${m.kind})`;
}

async function evaluateCommand(spec: string, options: EvaluateOptions, io: CliIo): Promise<number> {
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  let checkpoint: LoadedCheckpoint;
  try {
    checkpoint = loadCheckpoint(resolveCheckpointDir(options.checkpoint));
    checkCheckpointFits(checkpoint, ir, spec);
  } catch (e) {
    throw asUserError(e);
  }
  const runtime = await loadRuntime();
  let backend;
  try {
    backend = await runtime.backends.selectBackend(options.backend);
  } catch (e) {
    throw asUserError(e);
  }
  io.stdout(`backend: ${backend.name}\n${backend.reasons.map((r) => `  ${r}\n`).join('')}`);
  const saved = checkpoint.meta.config;
  const config: RunConfig = { ...saved, data: { ...saved.data, source: options.data ?? saved.data.source } };
  let data;
  try {
    data = await loadRunData(ir, config);
  } catch (e) {
    throw asUserError(e);
  }
  io.stdout(`data: ${data.description}\n`);
  io.stdout(`checkpoint: ${describeCheckpoint(checkpoint)}\n`);
  const model = runtime.target.buildModel(ir, { seed: 0 });
  const diagnostics = runtime.target.setStateDict(model, ir, checkpoint.weights);
  if (diagnostics.length)
    throw new UserError(`${checkpoint.dir}: ${diagnostics.map((d) => d.message).join('; ')}`);
  const split = options.split === 'dev' ? data.dev : data.test;
  const result = runtime.trainer.evaluate(model, ir, split, options.batchSize ?? saved.training.batchSize);
  model.dispose();
  io.stdout(`${testLine(result.accuracy, result.loss, options.split)}\n`);
  return 0;
}

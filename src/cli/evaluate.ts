/**
 * `netspec evaluate <spec> --checkpoint DIR`: loads a verified checkpoint into the spec's network and reports
 * accuracy and loss on the test (or dev) split of the run's data, as RunnerV3's `evaluate` does.
 */
import { Option, type Command } from 'commander';
import type { BackendName } from '../runtime/backends/names.js';
import { compileOrReport, type SpecOptions } from './common.js';
import type { CliIo } from './io.js';
import { backendOption, parsePositiveInt, withSpecOptions } from './options.js';

interface EvaluateOptions extends SpecOptions {
  readonly checkpoint: string;
  readonly data?: string;
  readonly split: 'test' | 'dev';
  readonly backend: BackendName;
  readonly batchSize?: number;
  readonly json?: boolean;
}

/** What `evaluate --json` prints: the final metrics, with the split and the checkpoint they are of. */
export interface EvaluationJson {
  /** Fraction of the split's examples classified right, 0 to 1. */
  readonly accuracy: number;
  /** Mean cross-entropy (a mean of batch means). */
  readonly loss: number;
  /** Examples evaluated. */
  readonly count: number;
  readonly split: 'test' | 'dev';
  /** The checkpoint as given by --checkpoint (a checkpoint folder, or a run folder whose best is meant). */
  readonly checkpoint: string;
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
      .addOption(backendOption())
      .option(
        '--batch-size <n>',
        "examples per batch (default: the run's; the loss is a mean of batch means)",
        parsePositiveInt,
      )
      .option(
        '--json',
        'print the final metrics as one JSON object on stdout {accuracy, loss, count, split, checkpoint}; ' +
          'the other lines go to stderr',
      ),
  ).action(async (spec: string, options: EvaluateOptions) => {
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    // tfjs loads only for commands that run a model, so `check`, `compile` and the reports start fast.
    const { evaluateCheckpoint } = await import('../runtime/session/index.js');
    const result = await evaluateCheckpoint({
      spec,
      ir,
      checkpoint: options.checkpoint,
      ...(options.data !== undefined ? { data: options.data } : {}),
      split: options.split,
      backend: options.backend,
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      // With --json, stdout holds the JSON document only; what is evaluated (and the text result) goes to stderr.
      line: (text) => (options.json ? io.stderr(`${text}\n`) : io.stdout(`${text}\n`)),
    });
    if (options.json) {
      const json: EvaluationJson = {
        accuracy: result.accuracy,
        loss: result.loss,
        count: result.count,
        split: options.split,
        checkpoint: options.checkpoint,
      };
      io.stdout(JSON.stringify(json, null, 2) + '\n');
    }
  });
}

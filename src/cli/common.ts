/** Shared pieces of the commands: compiling a spec with diagnostics printed, and the `--set` option. */
import { InvalidArgumentError, type Command } from 'commander';
import { compileSpec, type CompileOptions } from '../compiler/index.js';
import type { IrNetwork } from '../compiler/ir.js';
import { hasErrors } from '../diagnostics.js';
import { fileHost, type CliIo } from './io.js';
import { renderDiagnostics } from './render.js';

/** Options every spec-taking command accepts (`batchSize` only where the command has `--batch-size`). */
export interface SpecOptions {
  readonly set?: string[];
  readonly maxParams?: number;
  readonly batchSize?: number;
}

/** Adds `--set name=value` (repeatable) and `--max-params N` to a command. */
export function withSpecOptions(command: Command): Command {
  return command
    .option('--set <name=value>', 'override a network parameter (repeatable)', collect, [])
    .option('--max-params <n>', 'refuse networks with more trainable parameters than this', parsePositiveInt);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses a positive integer option, or throws commander's invalid-argument error. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, found '${value}'`);
  return n;
}

/**
 * Compiles `spec`, printing diagnostics to stderr; undefined when there was an error. Activations are sized at
 * the command's `--batch-size` when it has one, else at the compiler's default batch (64).
 */
export function compileOrReport(spec: string, options: SpecOptions, io: CliIo): IrNetwork | undefined {
  const compileOptions: CompileOptions = {
    ...(options.set ? { set: options.set } : {}),
    ...(options.maxParams !== undefined ? { maxParams: options.maxParams } : {}),
    ...(typeof options.batchSize === 'number' ? { batchSize: options.batchSize } : {}),
  };
  const result = compileSpec(spec, fileHost, compileOptions);
  if (result.diagnostics.length) io.stderr(renderDiagnostics(result.diagnostics, result.sources));
  if (hasErrors(result.diagnostics) || !result.ir) return undefined;
  return result.ir;
}

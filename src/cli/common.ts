/** Compiling a spec for a command, with its diagnostics printed (the option parsers are in options.ts). */
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

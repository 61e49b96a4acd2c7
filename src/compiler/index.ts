/**
 * The compiler's entry point: spec file → resolved AST → IR, with every diagnostic found on the way.
 * Reads files only through the given host.
 */
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import type { IrNetwork } from './ir.js';
import { lower } from './lower.js';
import { parseOverrides, resolveSpec, type SpecHost } from './resolve.js';

export type { SpecHost, SpecReadFailure } from './resolve.js';
export { DEFAULT_MAX_PARAMS } from './lower.js';

/** Options of a compilation: `--set` assignments and the parameter limit. */
export interface CompileOptions {
  readonly set?: readonly string[];
  readonly maxParams?: number;
}

/** What a compilation returns; `ir` is present only when there is no error. */
export interface CompileResult {
  readonly ir: IrNetwork | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** Every source text read, by file name, so diagnostics can be shown with their lines. */
  readonly sources: ReadonlyMap<string, string>;
}

/** Compiles the spec at `file` (and whatever it extends) to IR. */
export function compileSpec(file: string, host: SpecHost, options: CompileOptions = {}): CompileResult {
  const resolved = resolveSpec(file, host);
  const sources = new Map(resolved.sources);
  if (!resolved.ast) return { ir: undefined, diagnostics: resolved.diagnostics, sources };
  const set = options.set ?? [];
  const { overrides, diagnostics: setDiagnostics } = parseOverrides(set, resolved.ast.params);
  if (set.length) sources.set('--set', set.join('\n'));
  const diagnostics = [...resolved.diagnostics, ...setDiagnostics];
  const lowered = lower(resolved.ast, {
    overrides,
    ...(options.maxParams !== undefined ? { maxParams: options.maxParams } : {}),
  });
  const all = [...diagnostics, ...lowered.diagnostics];
  return { ir: hasErrors(all) ? undefined : lowered.ir, diagnostics: all, sources };
}

/** Compiles specs from disk or from inline text, for tests. */
import fs from 'node:fs';
import { compileSpec, type CompileOptions, type CompileResult } from '../../src/compiler/index.js';
import type { IrNetwork } from '../../src/compiler/ir.js';

/** Reads from an in-memory file set first, then from disk. */
export function hostWith(files: Record<string, string> = {}) {
  return {
    readFile: (f: string): string | undefined =>
      files[f] ?? (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
  };
}

/** Compiles `file` (inline `files` first), returning the whole result. */
export function compile(
  file: string,
  files: Record<string, string> = {},
  options: CompileOptions = {},
): CompileResult {
  return compileSpec(file, hostWith(files), options);
}

/** Compiles and returns the IR, failing with the diagnostics when there is none. */
export function compileIr(
  file: string,
  files: Record<string, string> = {},
  options: CompileOptions = {},
): IrNetwork {
  const result = compile(file, files, options);
  if (!result.ir) throw new Error(`compile failed: ${JSON.stringify(result.diagnostics, null, 2)}`);
  return result.ir;
}

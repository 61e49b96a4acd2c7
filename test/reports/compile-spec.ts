/** Compiles a spec file for report tests, failing loudly with its diagnostics when it does not compile. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSpec } from '../../src/compiler/index.js';
import type { IrNetwork } from '../../src/compiler/ir.js';

/** The repository root. */
export const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

const host = {
  readFile: (f: string): string | undefined => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
};

/** The IR of `file` (relative to the repository root), or an exception listing the diagnostics. */
export function compileFile(file: string, set: readonly string[] = []): IrNetwork {
  const result = compileSpec(path.join(ROOT, file), host, { set });
  if (!result.ir)
    throw new Error(
      `${file} does not compile:\n${result.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n')}`,
    );
  return result.ir;
}

/** A text file of the repository, relative to its root. */
export function readRepoFile(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), 'utf8');
}

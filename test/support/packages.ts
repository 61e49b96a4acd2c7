/** Which npm packages a CLI command loads: for the start-up tests (a heavy package loads only where it is used). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';

/**
 * The npm packages the module graph of `netspec <argv>` (from source) reaches, sorted: run in a child process whose
 * ESM resolve hook names every package resolved (not by timing).
 */
export function packagesLoadedBy(...argv: string[]): string[] {
  const hook = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
  if (m) process.stderr.write('PACKAGE ' + m[1] + '\\n');
  return result;
}`;
  const main = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
const { runCli } = await import(${JSON.stringify(path.resolve('src/cli/main.ts'))});
process.exitCode = await runCli(${JSON.stringify(argv)});`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', main], {
    encoding: 'utf8',
  });
  const packages = new Set(
    run.stderr
      .split('\n')
      .filter((l) => l.startsWith('PACKAGE '))
      .map((l) => l.slice('PACKAGE '.length)),
  );
  expect(packages.has('commander')).toBe(true); // the hook saw the graph
  return [...packages].sort();
}

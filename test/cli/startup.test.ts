/**
 * `netspec --help` (and a typo) loads no heavy package: commands import tfjs, vega, resvg, the compiler's parser
 * (chevrotain), the code generators (handlebars), ONNX's protobuf code, Graphviz (viz) and the language server only
 * when they run. Checked in a child process whose ESM
 * resolve hook names every package the module graph reaches (not by timing).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BENCH_DEFAULT_PYTHON } from '../../src/cli/bench.js';
import { DEFAULT_PYTHON } from '../../src/runtime/bench/pytorch-bench.js';

/** Packages that take tens to hundreds of milliseconds to load. */
const HEAVY = [
  '@tensorflow/',
  'vega',
  '@resvg/',
  'chevrotain',
  'handlebars',
  'onnx-proto',
  'protobufjs',
  '@viz-js/',
  'vscode-languageserver',
];

/** The npm packages the module graph of `netspec <argv>` (from source) reaches, sorted. */
function packagesLoadedBy(...argv: string[]): string[] {
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

const heavyIn = (packages: readonly string[]): string[] =>
  packages.filter((p) => HEAVY.some((h) => (h.endsWith('/') ? p.startsWith(h) : p === h)));

describe('start-up', () => {
  it('netspec --help, a typo and completion load none of tfjs, vega, resvg, chevrotain, handlebars, onnx-proto, viz, the LSP', () => {
    expect(heavyIn(packagesLoadedBy('--help'))).toEqual([]);
    expect(heavyIn(packagesLoadedBy('compile', '--targt'))).toEqual([]);
    expect(heavyIn(packagesLoadedBy('completion', 'bash'))).toEqual([]);
  });

  it('netspec check loads the parser but not tfjs, vega or resvg', () => {
    const packages = packagesLoadedBy('check', 'specs/lenet5.yaml');
    expect(packages).toContain('chevrotain');
    expect(heavyIn(packages)).toEqual(['chevrotain']);
  });

  it("bench's --python default is pytorch-bench's (written out so that --help does not load it)", () => {
    expect(BENCH_DEFAULT_PYTHON).toBe(DEFAULT_PYTHON);
  });
});

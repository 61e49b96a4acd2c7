/**
 * `netspec --help` (and a typo) loads no heavy package: commands import tfjs, vega, resvg, the compiler's parser
 * (chevrotain), the code generators (handlebars), ONNX's protobuf code, Graphviz (viz) and the language server only
 * when they run. Checked in a child process whose ESM
 * resolve hook names every package the module graph reaches (not by timing).
 */
import { describe, expect, it } from 'vitest';
import { BENCH_DEFAULT_PYTHON } from '../../src/cli/bench.js';
import { DEFAULT_PYTHON } from '../../src/runtime/bench/pytorch-bench.js';
import { packagesLoadedBy } from '../support/packages.js';

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

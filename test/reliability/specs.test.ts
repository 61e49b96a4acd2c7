/**
 * Bad specs get precise errors (`file:line:col: error CODE: message`), fast and in bounded memory, and never
 * produce output: alias bombs and repeat bombs, duplicate and prototype-reaching names, non-finite, fractional,
 * negative and zero sizes, networks too large to allocate, and DSL errors the parser recovers from.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { compile } from '../support/compile.js';
import { STACK_LINE } from './support.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-specs-rel-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes `text` to a file named `name` in the temporary folder and returns its path. */
function specFile(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The diagnostics of compiling `text` (as `file`), as `line:col CODE`. */
function diagnostics(file: string, text: string): string[] {
  const result = compile(file, { [file]: text });
  if (result.diagnostics.length) expect(result.ir).toBeUndefined();
  return result.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code}`);
}

/** Heap growth while running `f` (after a collection when node exposes gc). */
async function heapGrowth(f: () => Promise<unknown>): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  await f();
  return process.memoryUsage().heapUsed - before;
}

const MB = 2 ** 20;

describe('alias bombs and repeat bombs', () => {
  it('a billion-laughs YAML: YAML_ALIAS_LIMIT naming the file, in well under a second and a few MB', async () => {
    const lines = ['netspec: 1', 'name: lol', 'input: [1, 8, 8]', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 20; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const file = specFile('bomb.yaml', `${lines.join('\n')}\nmodules: []\n`);
    let run = { code: 0, stdout: '', stderr: '' };
    const start = performance.now();
    const grown = await heapGrowth(async () => (run = await cli('check', file)));
    expect(performance.now() - start).toBeLessThan(1000);
    expect(grown).toBeLessThan(32 * MB);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(
      `${file}:5:16: error YAML_ALIAS_LIMIT: ${file}: more than 1000 alias expansions (*a); this looks like an alias bomb`,
    );
  });

  it('a wide alias bomb (900 aliases of a 1,000-item list) stops at the expansion budget', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i).join(', ');
    const text = `netspec: 1\nname: wide\nbig: &b [${items}]\nmany: [${Array(900).fill('*b').join(', ')}]\n`;
    const file = specFile('wide.yaml', text);
    const start = performance.now();
    const run = await cli('check', file);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^${escape(file)}:3:\\d+: error YAML_ALIAS_LIMIT: ${escape(file)}: aliases \\(\\*name\\) expand the document to more than 200000 values$`,
      ),
    );
  });

  it('a legitimate spec with hundreds of aliases compiles to the IR of its expanded twin', () => {
    const n = 400;
    const aliased = `netspec: 1\nname: many\ninput: [1, 8, 8]\nmodules:\n  - body:\n      - conv: &c {out: 2, kernel: 3, padding: 1}\n${'      - conv: *c\n'.repeat(n - 1)}  - head: [flatten, linear: {out: 3}]\n`;
    const expanded = aliased
      .replace(' &c', '')
      .replaceAll('conv: *c', 'conv: {out: 2, kernel: 3, padding: 1}');
    const a = compile('many.yaml', { 'many.yaml': aliased });
    const b = compile('many.yaml', { 'many.yaml': expanded });
    expect(a.diagnostics).toEqual([]);
    expect(a.ir?.nodes.filter((node) => node.kind === 'conv')).toHaveLength(n);
    expect(a.ir).toEqual(b.ir);
  });

  it.each([
    [
      'repeat.net',
      'network r {\n  input [1, 4, 4]\n  module m { relu() * 1000000000 }\n}\n',
      '3:23 TOO_LARGE',
    ],
    [
      'repeat.yaml',
      'netspec: 1\nname: r\ninput: [1, 4, 4]\nmodules:\n  - m: [relu: {repeat: 1000000000}]\n',
      '5:24 TOO_LARGE',
    ],
  ])('a repeat count of a billion (%s): TOO_LARGE at the count, quickly', (file, text, expected) => {
    const start = performance.now();
    expect(diagnostics(file, text)).toEqual([expected]);
    expect(performance.now() - start).toBeLessThan(3000);
  });

  it('repeats multiplied through nested blocks: one error per place, not one per repetition', () => {
    const text =
      'network r {\n  input [1, 4, 4]\n  block A { relu() }\n  block B { A() * 1000 }\n  block C { B() * 1000 }\n  module m { C() * 1000000 }\n}\n';
    const start = performance.now();
    const found = diagnostics('nested.net', text);
    expect(performance.now() - start).toBeLessThan(3000);
    // Repeats inside blocks are numbered (B.A.0, B.A.1, ...), so nothing clashes: the expansion limit stops it.
    expect(found).toEqual(['3:13 TOO_LARGE']);
  });
});

describe('duplicate and prototype-reaching names', () => {
  it('duplicates are reported at the second occurrence, in both formats', () => {
    expect(
      diagnostics(
        'dup.yaml',
        'netspec: 1\nname: d\nparams: {a: 1, b: 2, a: 3}\ninput: [1, 8, 8]\nmodules:\n  - m: [flatten]\n',
      ),
    ).toEqual(['3:22 YAML_DUPLICATE_KEY']);
    expect(
      diagnostics(
        'dup.net',
        'network d(a = 1, a = 2) {\n  input [1, 8, 8]\n  module m { flatten(); linear(3, out = 4) }\n  module m { flatten() }\n}\n',
      ),
    ).toEqual(['1:18 DUPLICATE_NAME', '3:35 DUPLICATE_ARGUMENT', '4:10 DUPLICATE_NAME']);
  });

  it('__proto__, constructor and prototype are refused as names in the DSL too; Object.prototype is untouched', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const text =
      'network p(__proto__ = 1, constructor = 2) {\n' +
      '  input [1, 8, 8]\n' +
      '  block prototype(__proto__: int) { relu() }\n' +
      '  module constructor { __proto__ = conv(4, kernel = 3); flatten(); linear(3) }\n' +
      '}\n';
    expect(diagnostics('proto.net', text)).toEqual([
      '1:11 BAD_VALUE',
      '1:26 BAD_VALUE',
      '3:9 BAD_VALUE',
      '3:19 BAD_VALUE',
      '4:10 BAD_VALUE',
      '4:24 BAD_VALUE',
    ]);
    const yaml = compile('proto.yaml', {
      'proto.yaml':
        'netspec: 1\nname: p\nparams: {__proto__: {polluted: 1}}\ninput: [1, 8, 8]\nmodules:\n  - constructor: [flatten]\n',
    });
    expect(yaml.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code}`)).toEqual([
      '3:10 YAML_FORBIDDEN_KEY',
      '6:5 YAML_FORBIDDEN_KEY',
    ]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('numbers that cannot be sizes', () => {
  const yaml = (layer: string, input = '[1, 8, 8]'): string =>
    `netspec: 1\nname: v\ninput: ${input}\nmodules:\n  - m: [${layer}, flatten, linear: {out: 3}]\n`;
  const dsl = (layer: string, input = '[1, 8, 8]'): string =>
    `network v {\n  input ${input}\n  module m { ${layer}; flatten(); linear(3) }\n}\n`;

  it.each([
    ['.nan channels', yaml('conv: {out: .nan, kernel: 3}'), '5:21 BAD_VALUE'],
    ['.inf channels', yaml('conv: {out: .inf, kernel: 3}'), '5:21 BAD_VALUE'],
    ['1e309 channels', yaml('conv: {out: 1e309, kernel: 3}'), '5:21 BAD_VALUE'],
    ['fractional channels', yaml('conv: {out: 2.5, kernel: 3}'), '5:21 NOT_INTEGER'],
    [
      'fractional channels by division',
      yaml('conv: {out: "$x / 3", kernel: 3}').replace('input:', 'params: {x: 8}\ninput:'),
      '6:22 NOT_INTEGER',
    ],
    ['negative channels', yaml('conv: {out: -4, kernel: 3}'), '5:21 NON_POSITIVE'],
    ['zero kernel', yaml('conv: {out: 4, kernel: 0}'), '5:32 NON_POSITIVE'],
    ['zero stride', yaml('maxpool: {kernel: 2, stride: [1, 0]}'), '5:38 NON_POSITIVE'],
    ['negative padding (at least 0)', yaml('conv: {out: 4, kernel: 3, padding: -1}'), '5:44 BAD_VALUE'],
    ['zero input dimension', yaml('relu', '[1, 0, 8]'), '3:12 NON_POSITIVE'],
    ['negative input dimension', yaml('relu', '[1, 8, -8]'), '3:15 NON_POSITIVE'],
  ])('YAML: %s, at its position', (_what, text, expected) => {
    expect(diagnostics('v.yaml', text)).toEqual([expected]);
  });

  it.each([
    ['1e309 channels', dsl('conv(1e309, kernel = 3)'), '3:19 DSL_SYNTAX'],
    ['fractional channels', dsl('conv(2.5, kernel = 3)'), '3:19 NOT_INTEGER'],
    ['negative channels', dsl('conv(-4, kernel = 3)'), '3:19 NON_POSITIVE'],
    ['zero kernel', dsl('conv(4, kernel = 0)'), '3:31 NON_POSITIVE'],
    ['zero stride', dsl('maxpool(2, stride = [1, 0])'), '3:34 NON_POSITIVE'],
    ['negative padding (at least 0)', dsl('conv(4, kernel = 3, padding = -1)'), '3:44 BAD_VALUE'],
    ['zero input dimension', dsl('relu()', '[1, 0, 8]'), '2:13 NON_POSITIVE'],
    ['a huge product', dsl('conv(99999999999 * 99999999999, kernel = 3)'), '3:19 BAD_VALUE'],
  ])('DSL: %s, at its position', (_what, text, expected) => {
    expect(diagnostics('v.net', text)).toEqual([expected]);
  });
});

describe('networks too large to allocate', () => {
  it('check --max-params 1000 specs/lenet5.yaml: the estimated parameters and bytes, exit 1', async () => {
    const run = await cli('check', '--max-params', '1000', 'specs/lenet5.yaml');
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "specs/lenet5.yaml:3:7: error TOO_LARGE: network 'lenet5' has 61,706 parameters (241.0 KiB as float32), more than the limit of 1,000\n" +
        '3 | name: lenet5\n' +
        '  |       ^^^^^^\n' +
        '  hint: raise the limit with --max-params if this is intended\n',
    });
  });

  it('a billion channels: rejected with the estimated size, in both layer kinds', async () => {
    const linear = specFile(
      'wide.net',
      'network wide {\n  input [10]\n  module head { linear(1000000000) }\n}\n',
    );
    const run = await cli('check', linear);
    expect(run.code).toBe(1);
    // The activation at the assumed batch (64) is refused, with the layer's parameters.
    expect(run.stderr.split('\n')[0]).toBe(
      `${linear}:3:17: error TOO_LARGE: head.0: output [1000000000] has more than 2^30 elements at batch 64 ` +
        '(64,000,000,000 elements, 238.4 GiB as float32; the layer has 11,000,000,000 parameters, 41.0 GiB as float32)',
    );
    const conv = specFile(
      'wide.yaml',
      'netspec: 1\nname: wide\ninput: [3, 32, 32]\nmodules:\n  - m: [conv: {out: 1000000000, kernel: 3}]\n',
    );
    const convRun = await cli('check', conv);
    expect(convRun.code).toBe(1);
    expect(convRun.stderr.split('\n')[0]).toBe(
      `${conv}:5:9: error TOO_LARGE: m.0: output [1000000000, 30, 30] has more than 2^30 elements at batch 64 ` +
        '(57,600,000,000,000 elements, 209.5 TiB as float32; the layer has 28,000,000,000 parameters, 104.3 GiB as float32)',
    );
  });

  it('run --max-params refuses before any tensor exists or any folder is created', async () => {
    const tf = await import('@tensorflow/tfjs');
    const tensors = tf.memory().numTensors;
    const out = path.join(tmp, 'never');
    const run = await cli(
      'run',
      'specs/lenet5.yaml',
      '--max-params',
      '1000',
      '--out',
      out,
      '--backend',
      'cpu',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error TOO_LARGE: network 'lenet5' has 61,706 parameters (241.0 KiB as float32)",
    );
    expect(run.stdout).toBe('');
    expect(tf.memory().numTensors).toBe(tensors);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('DSL errors the parser recovers from', () => {
  it('a bad character: DSL_LEX at it, and compile writes nothing (exit 1)', async () => {
    const file = specFile(
      'recover.net',
      'network recover {\n  input [1, 8, 8]\n  module m { flatten() @ linear(10) }\n}\n',
    );
    const out = path.join(tmp, 'recover-out');
    const run = await cli('compile', file, '-o', out);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `${file}:3:24: error DSL_LEX: unexpected character '@'\n` +
        '3 |   module m { flatten() @ linear(10) }\n' +
        '  |                        ^\n',
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a missing token at the end of input: the position right after the last token, never NaN', async () => {
    const file = specFile('cut.net', 'network cut {\n  input [1, 8, 8]\n  module m { flatten(); linear(10');
    const out = path.join(tmp, 'cut-out');
    const run = await cli('compile', file, '-o', out, '--target', 'pytorch');
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(
      `${file}:3:34: error DSL_SYNTAX: expected ',' or ')' but found end of input`,
    );
    expect(run.stderr).not.toContain('NaN');
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a syntax error in the middle that recovery skips over: still exit 1 and nothing written', async () => {
    const file = specFile(
      'middle.net',
      'network middle {\n  input [1, 8, 8]\n  module a { conv(4 kernel = 3) }\n  module b { flatten(); linear(10) }\n}\n',
    );
    const out = path.join(tmp, 'middle-out');
    const run = await cli('compile', file, '-o', out);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toBe(
      `${file}:3:21: error DSL_SYNTAX: expected ',' or ')' but found 'kernel'`,
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.middle-out'))).toEqual([]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

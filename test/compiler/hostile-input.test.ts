/**
 * The compiler on hostile and unusual specs (issue 10, round 2): long expressions, activations too large for the
 * batch, float literals where integers belong, `extends` paths and chains, and the PyTorch target on very many
 * layers. Bounds on time are generous: the old code exceeded each by far.
 */
import { describe, expect, it } from 'vitest';
import {
  activationProblem,
  compileSpec,
  DEFAULT_BATCH_SIZE,
  MAX_ACTIVATION_ELEMENTS,
} from '../../src/compiler/index.js';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { MAX_EXTENDS_DEPTH } from '../../src/compiler/resolve.js';
import { generatePyTorch } from '../../src/compiler/targets/pytorch/index.js';
import { compile, compileIr } from '../support/compile.js';

/** `line:col CODE` of each diagnostic (with the message when asked). */
function found(
  file: string,
  files: Record<string, string>,
  withMessage = false,
  batchSize?: number,
): string[] {
  const result = compile(file, files, batchSize === undefined ? {} : { batchSize });
  if (result.diagnostics.length) expect(result.ir).toBeUndefined();
  return result.diagnostics.map(
    (d) => `${d.span?.line ?? 0}:${d.span?.col ?? 0} ${d.code}${withMessage ? ` ${d.message}` : ''}`,
  );
}

const yaml = (body: string): string => `netspec: 1\nname: n\ninput: [1, 8, 8]\nmodules:\n${body}`;

describe('long expressions evaluate without deep recursion (item 9)', () => {
  const chain = (n: number): string => Array(n).fill('1').join('+');

  it('a 4,000-term chain (8 KB) gives its value in both formats', () => {
    const dsl = compileIr('c.net', {
      'c.net': `network n(w = ${chain(4000)}) {\n  input [4]\n  module m { linear(w) }\n}\n`,
    });
    const fromYaml = compileIr('c.yaml', {
      'c.yaml': `netspec: 1\nname: n\nparams: {one: 1, w: "$one + ${chain(3999)}"}\ninput: [4]\nmodules:\n  - m: [linear: $w]\n`,
    });
    expect(dsl.params['w']).toBe(4000);
    expect(fromYaml.params['w']).toBe(4000);
    expect(dsl.outputShape).toEqual([4000]);
  });

  it('a 90,000-term chain too, and the errors in it are reported as before, left to right', () => {
    const ir = compileIr('c.net', {
      'c.net': `network n(w = ${chain(90_000)}) {\n  input [4]\n  module m { relu() }\n}\n`,
    });
    expect(ir.params['w']).toBe(90_000);
    const bad = `network n(w = 1 + x + ${chain(10_000)} + y + true) {\n  input [4]\n  module m { relu() }\n}\n`;
    expect(found('c.net', { 'c.net': bad }, true)).toEqual([
      "1:19 UNKNOWN_PARAMETER unknown parameter 'x'",
      `1:${19 + 4 + 2 * 10_000 - 1 + 3} UNKNOWN_PARAMETER unknown parameter 'y'`,
    ]);
  });

  it('evaluating the same long default in every block instance stops at the evaluation budget, positioned', () => {
    const text = `network n {\n  input [4]\n  block B(w = ${chain(90_000)}) { relu() }\n  module m { B() * 20000 }\n}\n`;
    const start = performance.now();
    const result = found('b.net', { 'b.net': text }, true);
    expect(performance.now() - start).toBeLessThan(15_000);
    expect(result).toHaveLength(1);
    // Where the budget ran out: inside the default that every instance evaluates again.
    expect(result[0]).toMatch(
      /^3:\d+ TOO_LARGE evaluating the spec's expressions takes more than 10,000,000 steps$/,
    );
    expect(Number(result[0]?.split(/[: ]/)[1])).toBeGreaterThan(15);
  });
});

describe('activations are sized at the batch (item 7)', () => {
  const huge = yaml('  - m: [conv: {out: 256, kernel: 1, padding: 700}]\n').replace(
    '[1, 8, 8]',
    '[1, 32, 32]',
  );

  it('a layer whose batch-sized output exceeds 2^30 elements is TOO_LARGE at the layer, naming the batch', () => {
    expect(found('h.yaml', { 'h.yaml': huge }, true)).toEqual([
      '5:9 TOO_LARGE m.0: output [256, 1432, 1432] has more than 2^30 elements at batch 64 ' +
        '(33,597,423,616 elements, 125.2 GiB as float32; the layer has 512 parameters, 2.0 KiB as float32)',
    ]);
    const hint = compile('h.yaml', { 'h.yaml': huge }).diagnostics[0]?.hint;
    expect(hint).toContain(`batch ${DEFAULT_BATCH_SIZE}`);
  });

  it('the batch is an option: at batch 1 the same layer fits (525 M elements), at batch 3 it does not', () => {
    expect(found('h.yaml', { 'h.yaml': huge }, false, 1)).toEqual([]);
    expect(found('h.yaml', { 'h.yaml': huge }, true, 3)[0]).toMatch(/^5:9 TOO_LARGE m\.0: .* at batch 3 \(/);
  });

  it('the input counts as an activation too', () => {
    const text = yaml('  - m: [relu]\n').replace('[1, 8, 8]', '[1, 8192, 8192]');
    expect(found('i.yaml', { 'i.yaml': text }, true)).toEqual([
      '3:8 TOO_LARGE input: [1, 8192, 8192] has more than 2^30 elements at batch 64 (4,294,967,296 elements, 16.0 GiB as float32)',
    ]);
  });

  it('activationProblem: the first activation too large at a batch, for commands with a batch of their own', () => {
    const ir = compileIr('h.yaml', { 'h.yaml': huge }, { batchSize: 1 });
    expect(activationProblem(ir, 1)).toBeUndefined();
    expect(activationProblem(ir, 2)).toBeUndefined(); // 1,049,919,488 elements: just under 2^30
    expect(activationProblem(ir, 3)).toBe(
      'm.0: output [256, 1432, 1432] has more than 2^30 elements at batch 3 ' +
        '(1,574,879,232 elements, 5.9 GiB as float32; the layer has 512 parameters, 2.0 KiB as float32)',
    );
    const small = compileIr('specs/lenet5.yaml');
    expect(activationProblem(small, 64)).toBeUndefined();
    expect(activationProblem(small, MAX_ACTIVATION_ELEMENTS)).toMatch(
      /^input: \[1, 32, 32\] has more than 2\^30 elements at batch 1,073,741,824 /,
    );
  });
});

describe('NOT_INTEGER says what was written and why it is refused (item 29)', () => {
  it('a float literal: as written, in YAML and the DSL alike, with a hint when it is whole', () => {
    const fromYaml = compile('f.yaml', { 'f.yaml': yaml('  - m: [conv: {out: 4.0, kernel: 1e0}]\n') });
    const fromDsl = compile('f.net', {
      'f.net': 'network n {\n  input [1, 8, 8]\n  module m { conv(4.0, kernel = 1e0) }\n}\n',
    });
    for (const result of [fromYaml, fromDsl]) {
      expect(result.diagnostics.map((d) => [d.code, d.message, d.hint])).toEqual([
        [
          'NOT_INTEGER',
          "conv argument 'out' expects an integer, found the float literal 4.0",
          "write 4: a number written with '.' or an exponent is a float, even when it is whole",
        ],
        [
          'NOT_INTEGER',
          "conv argument 'kernel' expects integers, found the float literal 1e0",
          "write 1: a number written with '.' or an exponent is a float, even when it is whole",
        ],
      ]);
    }
  });

  it('a computed float keeps its decimal point, so the message never reads "integer expected, found 4"', () => {
    const text = 'network n(w = 2.0) {\n  input [1, 8, 8]\n  module m { conv(w * 2) }\n}\n';
    const [d] = compile('f.net', { 'f.net': text }).diagnostics;
    expect(d?.message).toBe("conv argument 'out' expects an integer, found number 4.0");
    expect(d?.hint).toBe(
      'the value is a float because a float took part in computing it; compute it from integers',
    );
  });

  it('repeat counts, input dimensions and block arguments say the same', () => {
    const text =
      'network n {\n  input [1, 8.0, 8]\n  block B(c: int) { conv(c) }\n  module m { relu() * 2.0; B(c = 3.0) }\n}\n';
    expect(found('f.net', { 'f.net': text }, true)).toEqual([
      '2:13 NOT_INTEGER input dimension must be an integer, found the float literal 8.0',
      '4:23 NOT_INTEGER repeat count must be an integer, found the float literal 2.0',
      "4:34 NOT_INTEGER block B argument 'c' expects int, found the float literal 3.0",
    ]);
  });
});

describe('extends (item 27)', () => {
  const base = 'netspec: 1\nname: base\ninput: [4]\nmodules:\n  - m: [relu]\n';
  const variant = (target: string): string => `netspec: 1\nname: v\nextends: ${target}\n`;

  it("an absolute path is used as written, not joined onto the spec's folder", () => {
    const files = { '/abs/specs/base.yaml': base, 'work/v.yaml': variant('/abs/specs/base.yaml') };
    expect(found('work/v.yaml', files)).toEqual([]);
    const read: string[] = [];
    compileSpec('work/v.yaml', { readFile: (f) => (read.push(f), files[f as keyof typeof files]) });
    expect(read).toEqual(['work/v.yaml', '/abs/specs/base.yaml']);
  });

  it('a target that is no spec file is refused at the extends line, before it is read', () => {
    for (const target of ['/etc/passwd', '../../etc/passwd', 'base.txt']) {
      const read: string[] = [];
      const result = compileSpec('specs/v.yaml', {
        readFile: (f) => (read.push(f), f === 'specs/v.yaml' ? variant(target) : 'root:x:0:0'),
      });
      expect(read).toEqual(['specs/v.yaml']);
      expect(result.diagnostics.map((d) => `${d.span?.line}:${d.span?.col} ${d.code}`)).toEqual([
        '3:10 UNKNOWN_FORMAT',
      ]);
      expect(result.diagnostics[0]?.message).toMatch(/^cannot extend '.*': it is not a spec file$/);
    }
  });

  it('a 34-file acyclic chain compiles; past MAX_EXTENDS_DEPTH files it is EXTENDS_TOO_DEEP, not a cycle', () => {
    const chain = (n: number): Record<string, string> => {
      const files: Record<string, string> = { [`c${n}.yaml`]: base };
      for (let i = 1; i < n; i++) files[`c${i}.yaml`] = `netspec: 1\nname: c${i}\nextends: c${i + 1}.yaml\n`;
      return files;
    };
    expect(found('c1.yaml', chain(34))).toEqual([]);
    expect(found('c1.yaml', chain(MAX_EXTENDS_DEPTH))).toEqual([]);
    const deep = compile('c1.yaml', chain(MAX_EXTENDS_DEPTH + 1));
    expect(deep.diagnostics.map((d) => `${d.span?.file}:${d.span?.line}:${d.span?.col} ${d.code}`)).toEqual([
      `c${MAX_EXTENDS_DEPTH}.yaml:3:10 EXTENDS_TOO_DEEP`,
    ]);
    expect(deep.diagnostics[0]?.message).toMatch(/^extends chains deeper than 64 files are not supported/);
    // A real cycle stays a cycle.
    const cycle = { 'a.yaml': variant('b.yaml'), 'b.yaml': variant('a.yaml') };
    expect(found('a.yaml', cycle, true)).toEqual([
      '3:10 EXTENDS_CYCLE extends cycle: a.yaml -> b.yaml -> a.yaml',
    ]);
  });
});

describe('the PyTorch target is linear in the number of layers (item 21)', () => {
  /** `ir` whose node and group lists count every element read (the old target searched them per node). */
  function counting(ir: IrNetwork): { ir: IrNetwork; reads: () => number } {
    let reads = 0;
    const watch = <T extends object>(list: readonly T[]): readonly T[] =>
      new Proxy(list, {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      });
    return { ir: { ...ir, nodes: watch(ir.nodes), groups: watch(ir.groups) }, reads: () => reads };
  }
  const blocks = (n: number): string =>
    `network p {\n  input [4]\n  block B { linear(4); relu() }\n  module m { B() * ${n} }\n}\n`;

  it('reads each node and group a bounded number of times, however many there are', () => {
    for (const n of [500, 2000]) {
      const ir = compileIr('p.net', { 'p.net': blocks(n) });
      const watched = counting(ir);
      const files = generatePyTorch(watched.ir);
      expect(files.get('model.py')).toBe(generatePyTorch(ir).get('model.py'));
      // The old code read about n^2 elements (3 nodes and 1 group per instance: 2000 instances, ~10^7 reads).
      expect(watched.reads()).toBeLessThan(10 * (ir.nodes.length + ir.groups.length));
    }
  });

  it('generates 30,000 block instances (90,000 layers) well within 10 s (the old code took minutes)', () => {
    const ir = compileIr('p.net', { 'p.net': blocks(30_000) });
    const start = performance.now();
    const text = generatePyTorch(ir).get('model.py') ?? '';
    expect(performance.now() - start).toBeLessThan(10_000);
    expect(text).toContain('class B(nn.Module)');
  });
});

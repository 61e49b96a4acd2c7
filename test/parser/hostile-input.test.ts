/**
 * The parser on hostile and unusual text (issue 10, round 2): limits applied before any node exists, both line
 * ending conventions and a byte-order mark, YAML 1.2 only, one document, merge keys, and problems that do not hide
 * the rest of the file. Every case is also a bound on time: the old code took seconds to minutes on several.
 */
import { describe, expect, it } from 'vitest';
import { LineMap, MAX_DIAGNOSTICS, type Diagnostic } from '../../src/diagnostics.js';
import { MAX_TOKENS } from '../../src/parser/dsl/run-parser.js';
import { MAX_SPEC_LENGTH, parseSpec } from '../../src/parser/index.js';

const HEAD = 'netspec: 1\nname: n\ninput: [1, 8, 8]\n';

/** `CODE line:col` for each diagnostic, plus the message when asked. */
function diags(text: string, file: string, withMessage = false): string[] {
  const r = parseSpec(text, file);
  if (file.endsWith('.yaml') && r.diagnostics.some((d) => d.severity === 'error'))
    expect(r.ast).toBeUndefined();
  return r.diagnostics.map(
    (d: Diagnostic) =>
      `${d.code} ${d.span?.line ?? 0}:${d.span?.col ?? 0}${withMessage ? ` ${d.message}` : ''}`,
  );
}

/** Runs `f`, failing when it takes longer than `ms` (generous: the old code exceeded each bound many times). */
function within<T>(ms: number, f: () => T): T {
  const start = performance.now();
  const result = f();
  expect(performance.now() - start).toBeLessThan(ms);
  return result;
}

describe('YAML limits before parsing (items 19, 20)', () => {
  it('refuses a million open brackets at the 101st, in milliseconds (was 24-30 s and 1.17 GB)', () => {
    const found = within(2000, () => diags('['.repeat(1_000_000), 'deep.yaml', true));
    expect(found).toEqual(['TOO_LARGE 1:101 collections nested more than 100 levels deep']);
  });

  it('refuses deep block nesting written compactly on one line (- - - ...)', () => {
    const found = within(2000, () => diags(`${'- '.repeat(1_000_000)}x\n`, 'deep.yaml'));
    expect(found).toEqual(['TOO_LARGE 1:203']);
  });

  it('refuses deep nesting by indentation at the first entry too deep', () => {
    const lines = Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}k${i}:`);
    expect(diags(`${lines.join('\n')}\n`, 'deep.yaml')).toEqual(['TOO_LARGE 102:102']);
  });

  it('accepts nesting right at the limit, as the loader always did', () => {
    // The root map, then `a:`'s flow map and 99 lists: the innermost list is at depth 100.
    const text = `${HEAD}modules: []\nparams: {a: ${'['.repeat(99)}${']'.repeat(99)}}\n`;
    expect(diags(text, 'ok.yaml')).not.toContain(expect.stringMatching(/^TOO_LARGE/));
  });

  it('refuses a 4 MiB flow list at the 200,001st value without parsing it (a 6 MB one took 10-12 s)', () => {
    const text = `${HEAD}modules: []\nparams: {a: [${'1,'.repeat(2_000_000)}1]}\n`;
    expect(text.length).toBeLessThan(MAX_SPEC_LENGTH);
    const found = within(3000, () => diags(text, 'wide.yaml', true));
    expect(found).toEqual(['TOO_LARGE 5:399996 wide.yaml: more than 200000 values in one spec']);
  });

  it('counts empty values too: a million `-` lines stop at the limit', () => {
    expect(within(4000, () => diags('-\n'.repeat(1_000_000), 'dashes.yaml'))).toEqual(['TOO_LARGE 200001:1']);
  });

  it('refuses text longer than 4 MiB before either front end runs, at the first character past the limit', () => {
    for (const file of ['big.yaml', 'big.net']) {
      const text = `${'#'.repeat(MAX_SPEC_LENGTH)}\n!`;
      const found = within(2000, () => diags(text, file, true));
      expect(found).toEqual([
        `TOO_LARGE 1:${MAX_SPEC_LENGTH + 1} ${file}: a spec may be at most 4 MiB (4,194,304 characters); this one has 4,194,306`,
      ]);
    }
  });

  it("stays linear in the number of keys (yaml's own duplicate check compared every pair: 40,000 keys took 19 s)", () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: 1`).join('\n');
    const found = within(8000, () =>
      diags(`${HEAD}modules: []\nparams:\n${keys.replace(/^/gm, '  ')}\n  k7: 2\n`, 'keys.yaml'),
    );
    expect(found).toEqual(['YAML_DUPLICATE_KEY 60006:3']);
  });

  it('reports at most MAX_DIAGNOSTICS problems, then one TOO_MANY_ERRORS', () => {
    const bad = Array.from({ length: 5000 }, (_, i) => `bad${i}: 1`).join('\n');
    const found = diags(`${HEAD}modules: []\n${bad}\n`, 'many.yaml');
    expect(found).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(found[MAX_DIAGNOSTICS]).toBe(`TOO_MANY_ERRORS ${MAX_DIAGNOSTICS + 5}:1`);
  });
});

describe('DSL limits (items 9, 37)', () => {
  it('refuses more than MAX_TOKENS tokens after lexing, at the first token past the budget', () => {
    const text = `network x {\n  module m { ${'relu() '.repeat(MAX_TOKENS / 3 + 10)}}\n}\n`;
    const found = within(5000, () => diags(text, 'long.net', true));
    expect(found).toEqual([
      // 6 tokens before the calls, 3 per call: token 200,000 (0-based) is the ')' of call 66,664.
      `TOO_LARGE 2:${14 + 7 * 66_664 + 5} long.net: more than 200,000 tokens in one spec`,
    ]);
  });

  it('parses a flat chain of 4,000 terms (8 KB) in both formats', () => {
    const chain = Array(4000).fill('1').join(' + ');
    const dsl = parseSpec(`network x(w = ${chain}) {}\n`, 'chain.net');
    expect(dsl.diagnostics).toEqual([]);
    const yaml = parseSpec(`${HEAD}params: {w: 1, v: "$w + ${chain}"}\nmodules: []\n`, 'chain.yaml');
    expect(yaml.diagnostics).toEqual([]);
    // A quoted value with an escape is parsed off-text and respanned: that must not recurse per term either.
    const escaped = parseSpec(
      `${HEAD}params: {w: 1, v: "$w + ${chain} + \\u0031"}\nmodules: []\n`,
      'chain.yaml',
    );
    expect(escaped.diagnostics).toEqual([]);
  });

  it('refuses 100,000 nested parentheses at the 65th level (the parameter list is the first), in both formats', () => {
    const deep = `${'('.repeat(100_000)}1${')'.repeat(100_000)}`;
    expect(within(2000, () => diags(`network x(a = ${deep}) {}`, 'deep.net', true))).toEqual([
      'DSL_SYNTAX 1:78 nesting is too deep (more than 64 levels)',
    ]);
    expect(
      within(2000, () => diags(`${HEAD}params: {a: 1, b: "$a + ${deep}"}\nmodules: []\n`, 'deep.yaml')),
    ).toEqual(['EXPR_SYNTAX 4:89']);
  });

  it('refuses thousands of prefix operators at the one too many, not at 1:1 (item 37)', () => {
    const message = 'expression is nested too deeply (more than 64 levels of brackets and prefix operators)';
    expect(diags(`network x(a = ${'- '.repeat(5000)}1) {}`, 'u.net', true)).toEqual([
      `DSL_SYNTAX 1:${15 + 2 * 63} ${message}`,
    ]);
    expect(diags(`network x(a = ${'not '.repeat(5000)}true) {}`, 'u.net', true)).toEqual([
      `DSL_SYNTAX 1:${15 + 4 * 63} ${message}`,
    ]);
    expect(diags(`${HEAD}params: {a: "$a - ${'- '.repeat(5000)}1"}\nmodules: []\n`, 'u.yaml')).toEqual([
      `EXPR_SYNTAX 4:${19 + 2 * 64}`,
    ]);
    // A binary minus is no prefix: `a - - b` nests one level, and 64 levels are fine.
    expect(diags(`network x(a = 1 - ${'- '.repeat(63)}1) {}`, 'u.net')).toEqual([]);
  });
});

describe('line endings and a byte-order mark (items 26, 35)', () => {
  const yamlBad = (eol: string) =>
    `netspec: 1${eol}name: n${eol}input: [1]${eol}modules: []${eol}foo: 1${eol}`;
  const dslBad = (eol: string) => `network x {${eol}  // comment${eol}  input [1]${eol}  @${eol}}${eol}`;

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s line endings give the same positions in both formats', (_name, eol) => {
    expect(diags(yamlBad(eol), 'eol.yaml')).toEqual(['UNKNOWN_KEY 5:1']);
    expect(diags(dslBad(eol), 'eol.net')).toEqual(['DSL_LEX 4:3']);
  });

  it('a byte-order mark takes no column on line 1, in both formats', () => {
    expect(diags('\uFEFFnetspec: 1\nname: n\ninput: [1]\nmodules: []\nfoo: 1\n', 'bom.yaml')).toEqual([
      'UNKNOWN_KEY 5:1',
    ]);
    expect(diags('\uFEFFnetspec: 1\nname: n\ninput: [1]\nmodules: [] \nbad: 1\n', 'bom.yaml')[0]).toBe(
      'UNKNOWN_KEY 5:1',
    );
    expect(diags('\uFEFFfoo: 1\nnetspec: 1\nname: n\ninput: [1]\nmodules: []\n', 'bom.yaml')).toEqual([
      'UNKNOWN_KEY 1:1',
    ]);
    expect(diags('\uFEFFnetwork x { @ }', 'bom.net')).toEqual(['DSL_LEX 1:13']);
  });

  it('LineMap: every line break style ends a line; lineText has neither the break nor the mark', () => {
    const map = new LineMap('f', '\uFEFFab\r\ncd\ref\ngh');
    expect([1, 2, 3, 4].map((l) => map.lineText(l))).toEqual(['ab', 'cd', 'ef', 'gh']);
    expect(map.span(1)).toMatchObject({ line: 1, col: 1 });
    expect(map.span(5)).toMatchObject({ line: 2, col: 1 });
    expect(map.span(8)).toMatchObject({ line: 3, col: 1 });
    expect(map.span(11)).toMatchObject({ line: 4, col: 1 });
  });
});

describe('YAML 1.2, one document, merge keys (items 28, 33, 34)', () => {
  it('refuses a %YAML 1.1 directive at the directive, and reads the rest as YAML 1.2', () => {
    const text = `%YAML 1.1\n---\n${HEAD}modules:\n  - m: [conv: {out: 4, kernel: 1, bias: on}]\n  - n: {}\n`;
    expect(diags(text, 'v.yaml', true)).toEqual([
      'YAML_VERSION 1:1 netspec reads YAML 1.2, but this document asks for YAML 1.1',
      // As YAML 1.2 reads it, `on` is a string; the schema finds the module that is no list as usual.
      'WRONG_TYPE 8:8 expected list, found a map',
    ]);
    expect(diags(`%YAML 1.2\n---\n${HEAD}modules: []\n`, 'v.yaml')).toEqual([]);
  });

  it('a second document: one error where it starts, and the first is still checked', () => {
    expect(diags(`${HEAD}modules: []\nmodel: 1\n---\nname: m\n---\n`, 'two.yaml', true)).toEqual([
      "UNKNOWN_KEY 5:1 unknown key 'model' (expected 'netspec', 'name', 'extends', 'params', 'input', 'blocks', 'modules', 'training')",
      'YAML_MULTIPLE_DOCUMENTS 6:1 a spec is one YAML document; a second document starts at 6:1',
    ]);
  });

  it('a merge key: one YAML_MERGE_KEY at the key, nothing at the anchor', () => {
    const text = `${HEAD}modules:\n  - m:\n      - conv: &c {out: 4, kernel: 1}\n      - conv: {<<: *c, kernel: 3}\n`;
    expect(diags(text, 'merge.yaml', true)).toEqual([
      'YAML_MERGE_KEY 7:16 YAML merge keys (<<) are not supported: netspec reads YAML 1.2, where << is an ordinary key',
    ]);
  });
});

describe('problems that leave the document readable do not hide the rest (item 32)', () => {
  it('a duplicate key, then schema and expression errors elsewhere, each once', () => {
    const text = `${HEAD}name: again\nmodules:\n  - m: [conv: {out: "$out +", kernel: 3, out: 2}, relu: {x: [1]}]\nextra: 1\n`;
    expect(diags(text, 'dup.yaml')).toEqual([
      'YAML_DUPLICATE_KEY 4:1',
      'EXPR_SYNTAX 6:28',
      'YAML_DUPLICATE_KEY 6:42',
      'UNKNOWN_KEY 7:1',
    ]);
  });

  it('a wrong value gets one report, not a schema error and an expression error', () => {
    expect(diags(`${HEAD}modules:\n  - m: [conv: {out: {a: "$ +"}}]\n`, 'one.yaml')).toEqual([
      'WRONG_TYPE 5:21',
    ]);
  });

  it('a syntax error stops the file, and says that nothing else was checked', () => {
    const r = parseSpec(`${HEAD}modules: [\nfoo: 1\n`, 'syntax.yaml');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['YAML_SYNTAX']);
    expect(r.diagnostics[0]?.hint).toMatch(/\nnothing else in this file is checked until the YAML reads$/);
  });
});

describe('quoted user text is bounded (item 30)', () => {
  it('a 100,000-digit number and a 1 MB name are cut in messages, in both formats', () => {
    const digits = '9'.repeat(100_000);
    for (const r of [
      parseSpec(`${HEAD}modules:\n  - m: [conv: {out: ${digits}}]\n`, 'n.yaml'),
      parseSpec(`network x { module m { conv(${digits}) } }`, 'n.net'),
      parseSpec(`network x(a: ${'t'.repeat(1_000_000)}) {}`, 't.net'),
    ]) {
      expect(r.diagnostics).toHaveLength(1);
      expect(r.diagnostics[0]?.message.length).toBeLessThan(300);
      expect(r.diagnostics[0]?.message).toMatch(/… \((100,000|1,000,000) characters\)/);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/parser/yaml/index.js';

const FILE = 'spec.yaml';
const CANON = readFileSync(new URL('../../specs/resnet18.yaml', import.meta.url), 'utf8');
const HEAD = 'netspec: 1\nname: n\ninput: [1, 8, 8]\n';

/** Diagnostics as `CODE line:col` (plus message when asked), the shape golden files will use. */
function diags(text: string, withMessage = false): string[] {
  const r = parseYaml(text, FILE);
  if (r.diagnostics.some((d) => d.severity === 'error')) expect(r.ast).toBeUndefined();
  return r.diagnostics.map(
    (d) => `${d.code} ${d.span?.line ?? 0}:${d.span?.col ?? 0}${withMessage ? ` ${d.message}` : ''}`,
  );
}

describe('parseYaml: YAML-level diagnostics', () => {
  it('reports syntax errors at the error position', () => {
    // An unclosed bracket is reported at the bracket, not where the parser noticed it.
    expect(diags('netspec: 1\nname: [a, b\nx: 1\n')).toEqual(['YAML_SYNTAX 2:7']);
    expect(diags('netspec: 1\n\tname: n\n')).toContain('YAML_SYNTAX 2:1');
    expect(diags('netspec: 1\nname: "a\\qb"\n')).toEqual(['YAML_SYNTAX 2:9']);
  });

  it('reports a second document at its start, and checks the first one', () => {
    expect(diags(`${HEAD}modules: []\nmodels: []\n---\nname: m\n`, true)).toEqual([
      "UNKNOWN_KEY 5:1 unknown key 'models' (expected 'netspec', 'name', 'extends', 'params', 'input', 'blocks', 'modules', 'training')",
      'YAML_MULTIPLE_DOCUMENTS 6:1 a spec is one YAML document; a second document starts at 6:1',
    ]);
    // After `...`, whatever follows is a second document too.
    expect(diags(`${HEAD}modules: []\n...\nname: m\n`)).toEqual(['YAML_MULTIPLE_DOCUMENTS 6:1']);
    expect(diags(`---\n${HEAD}modules: []\n...\n# only a comment\n`)).toEqual([]);
  });

  it('refuses repeat: on a merge at the key, as the DSL refuses `concat { ... } * 2`', () => {
    const text = `${HEAD}blocks:\n  Res:\n    body:\n      - concat: {a: [relu], b: [], repeat: 2}\nmodules:\n  - m: [Res]\n`;
    expect(diags(text, true)).toEqual([
      'SCHEMA 7:36 a merge cannot be repeated: put it in a block and repeat the block',
    ]);
  });

  it('reports duplicate keys at the second key', () => {
    expect(diags(`${HEAD}modules: []\nname: again\n`, true)).toEqual([
      "YAML_DUPLICATE_KEY 5:1 duplicate key 'name'",
    ]);
    expect(diags(`${HEAD}modules:\n  - m: [conv: {out: 1, kernel: 3, out: 2}]\n`)).toEqual([
      'YAML_DUPLICATE_KEY 5:35',
    ]);
  });

  it('refuses __proto__, constructor and prototype keys anywhere, without touching Object.prototype', () => {
    const text = `${HEAD}__proto__: {polluted: 1}\nmodules:\n  - m: [conv: {constructor: 1, prototype: {x: 1}}]\n`;
    expect(diags(text)).toEqual([
      'YAML_FORBIDDEN_KEY 4:1',
      'YAML_FORBIDDEN_KEY 6:16',
      'YAML_FORBIDDEN_KEY 6:32',
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(diags('netspec: 1\nname: n\nparams: {"__proto__": 1}\n')).toContain('YAML_FORBIDDEN_KEY 3:10');
  });

  it('stops a billion-laughs alias bomb quickly, naming the file', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const text = `${lines.join('\n')}\n`;
    const start = performance.now();
    const r = parseYaml(text, 'bomb.yaml');
    expect(performance.now() - start).toBeLessThan(2000);
    expect(r.ast).toBeUndefined();
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]?.code).toBe('YAML_ALIAS_LIMIT');
    expect(r.diagnostics[0]?.message).toContain('bomb.yaml');
  });

  it('reports an unknown anchor and a self-referencing alias', () => {
    expect(diags(`${HEAD}modules: *nope\n`)).toEqual(['YAML_SYNTAX 4:10']);
    expect(diags(`${HEAD}modules: &m [*m]\n`)[0]).toMatch(/^YAML_(SYNTAX|ALIAS_LIMIT) 4:/);
  });

  it('rejects .nan, .inf and overflowing numbers as BAD_VALUE at their position', () => {
    const text = `${HEAD}params: {a: .nan, b: -.inf, c: 1e309, d: 123456789012345678901}\nmodules: []\n`;
    expect(diags(text)).toEqual(['BAD_VALUE 4:13', 'BAD_VALUE 4:22', 'BAD_VALUE 4:32', 'BAD_VALUE 4:42']);
    expect(diags('netspec: .inf\nname: n\ninput: [1]\nmodules: []\n')).toEqual(['BAD_VALUE 1:10']);
  });

  it('reports keys that are not strings', () => {
    expect(diags(`${HEAD}modules: []\nparams: {1: 2}\n`, true)).toEqual([
      'WRONG_TYPE 5:10 expected a string key, found number 1',
    ]);
  });
});

describe('parseYaml: expression diagnostics', () => {
  it('reports expression errors at their exact position in plain and quoted scalars', () => {
    expect(diags('netspec: 1\nname: n\ninput: [$c +, 8]\nmodules: []\n')).toEqual(['EXPR_SYNTAX 3:13']);
    expect(diags('netspec: 1\nname: n\ninput: ["$c * (2", 8]\nmodules: []\n')).toEqual(['EXPR_SYNTAX 3:17']);
    expect(diags('netspec: 1\nname: n\ninput: [$]\nmodules: []\n')).toEqual(['EXPR_SYNTAX 3:9']);
  });

  it('falls back to the whole scalar when escapes make the value differ from the source', () => {
    const r = parseYaml('netspec: 1\nname: n\ninput: ["$c\\t* 2 +", 8]\nmodules: []\n', FILE);
    expect(r.diagnostics.map((d) => [d.code, d.span?.line, d.span?.col, d.span?.endOffset])).toEqual([
      ['EXPR_SYNTAX', 3, 9, 'netspec: 1\nname: n\ninput: ["$c\\t* 2 +"'.length],
    ]);
  });
});

describe('parseYaml: schema diagnostics', () => {
  it('reports an unknown top-level key at the key, with a did-you-mean hint', () => {
    const r = parseYaml(`${HEAD}modles: []\n`, FILE);
    const unknown = r.diagnostics.find((d) => d.code === 'UNKNOWN_KEY');
    expect(unknown).toMatchObject({ span: { line: 4, col: 1 }, hint: "did you mean 'modules'?" });
    expect(diags(`${HEAD}modles: []\n`)).toEqual(['MISSING_KEY 1:1', 'UNKNOWN_KEY 4:1']);
  });

  it('reports an unknown block key at the key', () => {
    const text = `${HEAD}blocks:\n  B:\n    body: [relu]\n    shortcuts: {layers: [relu]}\nmodules: []\n`;
    const r = parseYaml(text, FILE);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_KEY',
        span: expect.objectContaining({ line: 7, col: 5 }),
        hint: "did you mean 'shortcut'?",
      }),
    ]);
  });

  it('reports missing keys at the parent map', () => {
    expect(diags('netspec: 1\ninput: [1]\nmodules: []\n', true)).toEqual([
      "MISSING_KEY 1:1 missing required key 'name'",
    ]);
    expect(diags('netspec: 1\nname: n\n', true)).toEqual([
      "MISSING_KEY 1:1 missing required key 'input' (required unless the spec extends another)",
      "MISSING_KEY 1:1 missing required key 'modules' (required unless the spec extends another)",
    ]);
    expect(diags(`${HEAD}blocks:\n  B:\n    after: [relu]\nmodules: []\n`, true)).toEqual([
      "MISSING_KEY 6:5 missing required key 'body'",
    ]);
    expect(diags(`${HEAD}blocks:\n  B: {body: [relu], residual: true}\nmodules: []\n`, true)).toEqual([
      "MISSING_KEY 5:21 'residual' requires 'merge'",
    ]);
  });

  it('accepts a spec that extends another without input and modules', () => {
    expect(diags('netspec: 1\nname: v\nextends: ./base.yaml\n')).toEqual([]);
  });

  it('reports wrong types at the value', () => {
    expect(diags(`${HEAD}modules:\n  - m: [conv: {out: 8, repeat: abc}]\n`, true)).toEqual([
      'WRONG_TYPE 5:32 expected integer, found string "abc"',
    ]);
    expect(diags('netspec: 1\nname: n\ninput: [1, 2.5, true]\nmodules: []\n', true)).toEqual([
      'WRONG_TYPE 3:12 expected integer, found number 2.5',
      'WRONG_TYPE 3:17 expected integer, found boolean true',
    ]);
    expect(diags('netspec: "1"\nname: [a]\ninput: [1]\nmodules: {}\n', true)).toEqual([
      'WRONG_TYPE 1:10 expected integer, found string "1"',
      'WRONG_TYPE 2:7 expected string, found a list',
      'WRONG_TYPE 4:10 expected list, found a map',
    ]);
    expect(diags('- a\n- b\n', true)).toEqual(['WRONG_TYPE 1:1 expected map, found a list']);
    expect(diags('', true)).toEqual(['WRONG_TYPE 1:1 expected map, found an empty value']);
  });

  it('reports netspec: 2 as BAD_VALUE', () => {
    expect(diags('netspec: 2\nname: n\ninput: [1]\nmodules: []\n', true)).toEqual([
      'BAD_VALUE 1:10 expected 1, found integer 2',
    ]);
  });

  it('reports a bad enum value with a hint', () => {
    const r = parseYaml(
      `${HEAD}blocks:\n  B:\n    body: [relu]\n    shortcut: {when: shape_change, layers: [relu]}\nmodules: []\n`,
      FILE,
    );
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'BAD_VALUE',
        span: expect.objectContaining({ line: 7, col: 22 }),
        hint: "did you mean 'shape_changes'?",
      }),
    ]);
  });

  it('checks the structure of layer items but not argument names', () => {
    expect(diags(`${HEAD}modules:\n  - m: [conv: {whatever: 1, kernal: 3}]\n`)).toEqual([]);
    expect(diags(`${HEAD}modules:\n  - m: [5]\n`, true)).toEqual([
      'WRONG_TYPE 5:9 expected a layer (a name, or a single-key map `kind: args`), found integer 5',
    ]);
    const twoKeys = `${HEAD}modules:\n  - m:\n    - conv:\n      out: 64\n`;
    const r = parseYaml(twoKeys, FILE);
    expect(r.diagnostics.map((d) => `${d.code} ${d.span?.line}:${d.span?.col} ${d.message}`)).toEqual([
      'SCHEMA 6:7 a layer must be a single-key map (`kind: args`), found 2 keys (conv, out)',
    ]);
    expect(r.diagnostics[0]?.hint).toBe("indent the other keys under 'conv' to make them its arguments");
    expect(diags(`${HEAD}modules:\n  - m: [conv: {out: {a: 1}}]\n`, true)).toEqual([
      'WRONG_TYPE 5:21 expected number, boolean, string, list or a branch (list of layers), found a map',
    ]);
    expect(diags(`${HEAD}modules:\n  - m: [bad-name]\n`, true)).toEqual([
      'BAD_VALUE 5:9 expected a name (letters, digits and _, not starting with a digit), or $param, found string "bad-name"',
    ]);
    expect(diags(`${HEAD}modules:\n  - m: [conv: {<<: 1}]\n`)).toEqual(['YAML_MERGE_KEY 5:16']);
    // Quoted, "<<" is an ordinary key, and no argument name.
    expect(diags(`${HEAD}modules:\n  - m: [conv: {"<<": 1}]\n`)).toEqual(['BAD_VALUE 5:16']);
  });

  it('reports modules that are not single-key maps', () => {
    expect(diags(`${HEAD}modules:\n  - a: [relu]\n    b: [relu]\n`, true)).toEqual([
      'SCHEMA 5:5 a module must be a single-key map (`name: [layers]`), found 2 keys (a, b)',
    ]);
    expect(diags(`${HEAD}modules: [stem]\n`, true)).toEqual([
      'WRONG_TYPE 4:11 expected map, found string "stem"',
    ]);
  });

  it('reports several problems at once (allErrors), in document order', () => {
    const text = 'netspec: 3\nname: n\ninpt: [1]\nmodules:\n  - m: [conv: {repeat: x}]\n';
    expect(diags(text)).toEqual(
      ['BAD_VALUE 1:10', 'MISSING_KEY 1:1', 'UNKNOWN_KEY 3:1', 'WRONG_TYPE 5:24'].sort(byPosition),
    );
  });

  it('gives the canonical spec no diagnostics', () => {
    expect(diags(CANON)).toEqual([]);
  });
});

function byPosition(a: string, b: string): number {
  const pos = (s: string) => s.split(' ')[1]?.split(':').map(Number) ?? [0, 0];
  const [al = 0, ac = 0] = pos(a);
  const [bl = 0, bc = 0] = pos(b);
  return al - bl || ac - bc;
}

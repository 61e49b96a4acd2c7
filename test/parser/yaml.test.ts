import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LineMap } from '../../src/diagnostics.js';
import type { Span } from '../../src/diagnostics.js';
import { calleeOf, type Call, type Expr } from '../../src/parser/ast.js';
import { parseDsl } from '../../src/parser/dsl/index.js';
import { parseSpec } from '../../src/parser/index.js';
import { parseYaml } from '../../src/parser/yaml/index.js';

const FILE = 'spec.yaml';

/** The span of the `nth` occurrence of `needle` in `text` (so tests state positions by what they cover). */
function at(text: string, needle: string, nth = 0, file = FILE): Span {
  let from = -1;
  for (let i = 0; i <= nth; i++) {
    from = text.indexOf(needle, from + 1);
    if (from < 0) throw new Error(`'${needle}' #${nth} not in text`);
  }
  return new LineMap(file, text).span(from, from + needle.length);
}

/** The span of `part` inside the first occurrence of `context`. */
function within(text: string, context: string, part: string): Span {
  const base = text.indexOf(context);
  if (base < 0) throw new Error(`'${context}' not in text`);
  const from = base + context.indexOf(part);
  return new LineMap(FILE, text).span(from, from + part.length);
}

function ok(text: string, file = FILE) {
  const r = parseYaml(text, file);
  expect(r.diagnostics).toEqual([]);
  if (!r.ast) throw new Error('no AST');
  return r.ast;
}

describe('parseYaml: AST', () => {
  it('builds the network header, params and input with exact spans', () => {
    const text =
      'netspec: 1\nname: tiny\nparams: {c: 3, rate: 0.5, flag: true, tag: "hi", k: [3, 3]}\ninput: [$c, 8, 8]\nmodules: []\n';
    const ast = ok(text);
    expect(ast.kind).toBe('network');
    expect(ast.format).toBe('yaml');
    expect(ast.file).toBe(FILE);
    expect(ast.name).toBe('tiny');
    expect(ast.nameSpan).toEqual(at(text, 'tiny'));
    expect(ast.nameSpan).toMatchObject({ line: 2, col: 7 });
    expect(ast.extends).toBeUndefined();
    expect(ast.params).toEqual([
      {
        kind: 'param',
        name: 'c',
        nameSpan: within(text, '{c:', 'c'),
        default: { kind: 'int', value: 3, span: within(text, 'c: 3', '3') },
        span: at(text, 'c: 3'),
      },
      {
        kind: 'param',
        name: 'rate',
        nameSpan: at(text, 'rate'),
        default: { kind: 'float', value: 0.5, span: at(text, '0.5') },
        span: at(text, 'rate: 0.5'),
      },
      {
        kind: 'param',
        name: 'flag',
        nameSpan: at(text, 'flag'),
        default: { kind: 'bool', value: true, span: at(text, 'true') },
        span: at(text, 'flag: true'),
      },
      {
        kind: 'param',
        name: 'tag',
        nameSpan: at(text, 'tag'),
        default: { kind: 'string', value: 'hi', span: at(text, '"hi"') },
        span: at(text, 'tag: "hi"'),
      },
      {
        kind: 'param',
        name: 'k',
        nameSpan: within(text, 'k: [', 'k'),
        default: {
          kind: 'list',
          items: [
            { kind: 'int', value: 3, span: at(text, '3', 1) },
            { kind: 'int', value: 3, span: at(text, '3', 2) },
          ],
          span: at(text, '[3, 3]'),
        },
        span: at(text, 'k: [3, 3]'),
      },
    ]);
    expect(ast.input?.span).toEqual(at(text, '[$c, 8, 8]'));
    expect(ast.input?.dims.map((d) => d.kind)).toEqual(['ref', 'int', 'int']);
    expect(ast.input?.dims[0]).toMatchObject({ kind: 'ref', name: 'c', span: at(text, '$c') });
    expect(ast.modules).toEqual([]);
    expect(ast.blocks).toEqual([]);
    expect(ast.span).toMatchObject({ offset: 0, line: 1, col: 1, endOffset: text.indexOf('[]') + 2 });
  });

  it('tells int from float by how the number is written', () => {
    const text =
      'netspec: 1\nname: n\nparams: {a: 1, b: 1.0, c: 1e3, d: -2, e: 0x10, f: !!int 4}\n' +
      'input: [1]\nmodules: []\n';
    const ast = ok(text);
    expect(ast.params.map((p) => [p.name, p.default?.kind, (p.default as { value: number }).value])).toEqual([
      ['a', 'int', 1],
      ['b', 'float', 1],
      ['c', 'float', 1000],
      ['d', 'int', -2],
      ['e', 'int', 16],
      ['f', 'int', 4],
    ]);
  });

  it('turns layer items into calls: bare, named args, name/repeat, null, positional', () => {
    const text = [
      'netspec: 1',
      'name: n',
      'input: [1, 28, 28]',
      'modules:',
      '  - body:',
      '      - relu',
      '      - conv: {name: c1, out: 64, kernel: 3, repeat: 2}',
      '      - batchnorm:',
      '      - dropout: ~',
      '      - linear: $classes',
      '      - pad: [1, 2]',
      '',
    ].join('\n');
    const ast = ok(text);
    expect(ast.modules).toHaveLength(1);
    const mod = ast.modules[0];
    expect(mod?.name).toBe('body');
    expect(mod?.nameSpan).toEqual(at(text, 'body'));
    expect(mod?.span).toEqual({ ...at(text, 'body'), endOffset: text.indexOf('[1, 2]') + 6 });
    const [relu, conv, bn, drop, linear, pad] = mod?.items ?? [];
    expect(relu).toEqual({
      kind: 'call',
      callee: 'relu',
      calleeSpan: at(text, 'relu'),
      args: [],
      span: at(text, 'relu'),
    });
    expect(conv).toEqual({
      kind: 'call',
      callee: 'conv',
      calleeSpan: at(text, 'conv'),
      name: 'c1',
      nameSpan: at(text, 'c1'),
      args: [
        {
          kind: 'arg',
          name: 'out',
          nameSpan: at(text, 'out'),
          value: { kind: 'int', value: 64, span: at(text, '64') },
          span: at(text, 'out: 64'),
        },
        {
          kind: 'arg',
          name: 'kernel',
          nameSpan: at(text, 'kernel'),
          value: { kind: 'int', value: 3, span: within(text, 'kernel: 3', '3') },
          span: at(text, 'kernel: 3'),
        },
      ],
      repeat: { kind: 'int', value: 2, span: within(text, 'repeat: 2', '2') },
      span: at(text, 'conv: {name: c1, out: 64, kernel: 3, repeat: 2}'),
    });
    expect(bn).toEqual({
      kind: 'call',
      callee: 'batchnorm',
      calleeSpan: at(text, 'batchnorm'),
      args: [],
      span: at(text, 'batchnorm'),
    });
    expect(drop).toMatchObject({ callee: 'dropout', args: [] });
    expect(linear).toMatchObject({ callee: 'linear', span: at(text, 'linear: $classes') });
    expect(linear?.args).toEqual([
      {
        kind: 'arg',
        value: expect.objectContaining({ kind: 'ref', name: 'classes', span: at(text, '$classes') }),
        span: at(text, '$classes'),
      },
    ]);
    expect(pad?.args[0]?.value).toMatchObject({ kind: 'list', span: at(text, '[1, 2]') });
  });

  it('keeps named args in the order written', () => {
    const text = 'netspec: 1\nname: n\ninput: [1]\nmodules:\n  - m: [conv: {stride: 2, out: 8, kernel: 1}]\n';
    const ast = ok(text);
    expect(ast.modules[0]?.items[0]?.args.map((a) => a.name)).toEqual(['stride', 'out', 'kernel']);
  });

  it('passes quoted and plain $-strings to the expression parser at their true offsets', () => {
    const text = 'netspec: 1\nname: n\nparams: {a: 2}\ninput: ["$a * 4", $a + 1]\nmodules: []\n';
    const ast = ok(text);
    const [q, p] = ast.input?.dims ?? [];
    expect(q).toMatchObject({ kind: 'binary', op: '*', span: at(text, '$a * 4') });
    expect((q as Extract<Expr, { kind: 'binary' }>).left).toMatchObject({
      kind: 'ref',
      name: 'a',
      span: at(text, '$a'),
    });
    expect(p).toMatchObject({ kind: 'binary', op: '+', span: at(text, '$a + 1') });
  });

  it('builds blocks: typed and defaulted params, body, shortcut, merge with condition, after', () => {
    const text = [
      'netspec: 1',
      'name: n',
      'params: {residual: true}',
      'input: [1, 8, 8]',
      'blocks:',
      '  B:',
      '    params: {out: int, stride: 1, rate: float, tag: relu}',
      '    body: [conv: {out: $out}]',
      '    shortcut:',
      '      layers: [conv: {out: $out, kernel: 1}]',
      '    merge: add',
      '    residual: $residual',
      '    after: [relu]',
      '  C:',
      '    body: [relu]',
      '    shortcut: {when: always, layers: [identity]}',
      'modules:',
      '  - m: [B: {out: 4}, C]',
      '',
    ].join('\n');
    const ast = ok(text);
    const [b, c] = ast.blocks;
    expect(b?.name).toBe('B');
    expect(b?.nameSpan).toEqual(within(text, '  B:', 'B'));
    expect(b?.span).toEqual({ ...within(text, '  B:', 'B'), endOffset: text.indexOf('[relu]') + 6 });
    expect(b?.params).toEqual([
      {
        kind: 'param',
        name: 'out',
        nameSpan: within(text, 'out: int', 'out'),
        type: 'int',
        span: at(text, 'out: int'),
      },
      {
        kind: 'param',
        name: 'stride',
        nameSpan: at(text, 'stride'),
        default: { kind: 'int', value: 1, span: within(text, 'stride: 1', '1') },
        span: at(text, 'stride: 1'),
      },
      {
        kind: 'param',
        name: 'rate',
        nameSpan: at(text, 'rate'),
        type: 'float',
        span: at(text, 'rate: float'),
      },
      {
        kind: 'param',
        name: 'tag',
        nameSpan: at(text, 'tag'),
        default: { kind: 'string', value: 'relu', span: within(text, 'tag: relu', 'relu') },
        span: at(text, 'tag: relu'),
      },
    ]);
    expect(b?.body.map(calleeOf)).toEqual(['conv']);
    expect(b?.shortcut).toMatchObject({
      kind: 'shortcut',
      when: 'shape_changes',
      span: { offset: text.indexOf('shortcut:') },
    });
    expect(b?.shortcut?.whenSpan).toBeUndefined();
    expect(b?.shortcut?.layers[0]?.args.map((a) => a.name)).toEqual(['out', 'kernel']);
    expect(b?.merge).toEqual({
      kind: 'merge',
      op: 'add',
      opSpan: at(text, 'add'),
      condition: expect.objectContaining({ kind: 'ref', name: 'residual', span: at(text, '$residual') }),
      span: at(text, 'merge: add'),
    });
    expect(b?.after.map(calleeOf)).toEqual(['relu']);
    expect(c?.shortcut).toMatchObject({ when: 'always', whenSpan: at(text, 'always') });
    expect(c?.merge).toBeUndefined();
    expect(c?.after).toEqual([]);
    expect(ast.modules[0]?.items.map(calleeOf)).toEqual(['B', 'C']);
  });

  it('follows a handful of aliases', () => {
    const text =
      'netspec: 1\nname: n\ninput: [1]\nmodules:\n  - a: &layers [relu, conv: &args {out: 3}]\n  - b: *layers\n  - c: [linear: *args]\n';
    const ast = ok(text);
    expect(ast.modules.map((m) => m.items.map(calleeOf))).toEqual([
      ['relu', 'conv'],
      ['relu', 'conv'],
      ['linear'],
    ]);
    expect(ast.modules[2]?.items[0]?.args[0]?.name).toBe('out');
  });
});

describe('parseYaml: canonical specs', () => {
  it('loads specs/resnet18.yaml', () => {
    const text = readFileSync(new URL('../../specs/resnet18.yaml', import.meta.url), 'utf8');
    const ast = ok(text, 'specs/resnet18.yaml');
    expect(ast.name).toBe('resnet18');
    expect(ast.params.map((p) => [p.name, p.default?.kind])).toEqual([
      ['in_channels', 'int'],
      ['num_classes', 'int'],
      ['residual', 'bool'],
    ]);
    expect(ast.input?.dims.map((d) => d.kind)).toEqual(['ref', 'int', 'int']);
    const block = ast.blocks[0];
    expect(block?.name).toBe('ResBlock');
    expect(block?.params.map((p) => [p.name, p.type, p.default?.kind])).toEqual([
      ['out', 'int', undefined],
      ['stride', undefined, 'int'],
    ]);
    expect(block?.body.map((c) => `${c.name ?? ''}=${calleeOf(c)}`)).toEqual([
      'conv1=conv',
      'bn1=batchnorm',
      '=relu',
      'conv2=conv',
      'bn2=batchnorm',
    ]);
    expect((block?.body[0] as Call | undefined)?.args.map((a) => a.name)).toEqual([
      'out',
      'kernel',
      'stride',
      'padding',
      'bias',
    ]);
    expect(block?.shortcut?.when).toBe('shape_changes');
    expect(block?.shortcut?.layers.map((c) => c.name)).toEqual(['shortcut', 'bn3']);
    expect(block?.merge?.condition).toMatchObject({ kind: 'ref', name: 'residual' });
    expect(block?.after.map(calleeOf)).toEqual(['relu']);
    expect(ast.modules.map((m) => [m.name, m.items.length])).toEqual([
      ['stem', 4],
      ['stage2', 1],
      ['stage3', 2],
      ['stage4', 2],
      ['stage5', 2],
      ['head', 3],
    ]);
    expect((ast.modules[1]?.items[0] as Call | undefined)?.repeat).toMatchObject({ kind: 'int', value: 2 });
    expect((ast.modules[5]?.items[2] as Call | undefined)?.args[0]?.value).toMatchObject({
      kind: 'ref',
      name: 'num_classes',
    });
    // Spans point into the file: the stage3 module name is on line 32, col 5.
    expect(ast.modules[2]?.nameSpan).toMatchObject({ file: 'specs/resnet18.yaml', line: 32, col: 5 });
  });

  it('loads specs/resnet18-plain.yaml', () => {
    const text = readFileSync(new URL('../../specs/resnet18-plain.yaml', import.meta.url), 'utf8');
    const ast = ok(text, 'specs/resnet18-plain.yaml');
    expect(ast.extends).toEqual({
      kind: 'extends',
      path: './resnet18.yaml',
      span: at(text, './resnet18.yaml', 0, 'specs/resnet18-plain.yaml'),
    });
    expect(ast.params).toEqual([
      {
        kind: 'param',
        name: 'residual',
        nameSpan: {
          ...at(text, 'residual: false', 0, 'specs/resnet18-plain.yaml'),
          endOffset: text.indexOf('residual: false') + 8,
        },
        default: { kind: 'bool', value: false, span: at(text, 'false', 0, 'specs/resnet18-plain.yaml') },
        span: at(text, 'residual: false', 0, 'specs/resnet18-plain.yaml'),
      },
    ]);
    expect(ast.input).toBeUndefined();
    expect(ast.blocks).toEqual([]);
    expect(ast.modules).toEqual([]);
  });
});

/** The AST without positions, file and format: what must agree between the two front ends. */
function shape(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(shape);
  if (x === null || typeof x !== 'object') return x;
  const entries = Object.entries(x).filter(([k]) => !/span$/i.test(k) && k !== 'file' && k !== 'format');
  return Object.fromEntries(entries.map(([k, v]) => [k, shape(v)]));
}

/** YAML names the first argument (`out: 64`) where the DSL passes it positionally (`conv(64)`). */
function positionalFirst(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(positionalFirst);
  if (x === null || typeof x !== 'object') return x;
  const o = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, positionalFirst(v)]));
  if (o['kind'] === 'call' && Array.isArray(o['args']) && o['args'][0]?.name === 'out') {
    const [first, ...rest] = o['args'] as Record<string, unknown>[];
    const { name: _name, ...positional } = first ?? {};
    o['args'] = [positional, ...rest];
  }
  return o;
}

describe('parseYaml: agrees with the DSL', () => {
  for (const base of ['resnet18', 'resnet18-plain']) {
    it(`gives specs/${base}.yaml the AST of specs/${base}.net, up to spans and positional first arguments`, () => {
      const yamlText = readFileSync(new URL(`../../specs/${base}.yaml`, import.meta.url), 'utf8');
      const dslText = readFileSync(new URL(`../../specs/${base}.net`, import.meta.url), 'utf8');
      const fromYaml = parseYaml(yamlText, `${base}.yaml`);
      const fromDsl = parseDsl(dslText, `${base}.net`);
      expect(fromDsl.diagnostics).toEqual([]);
      const yamlShape = positionalFirst(shape(fromYaml.ast)) as Record<string, unknown>;
      const dslShape = shape(fromDsl.ast) as Record<string, unknown>;
      // extends paths name the sibling file of each format.
      if (yamlShape['extends']) yamlShape['extends'] = { kind: 'extends', path: './resnet18' };
      if (dslShape['extends']) dslShape['extends'] = { kind: 'extends', path: './resnet18' };
      expect(yamlShape).toEqual(dslShape);
    });
  }
});

describe('parseSpec', () => {
  it('dispatches .yaml and .yml to the YAML front end', () => {
    const text = 'netspec: 1\nname: n\ninput: [1]\nmodules: []\n';
    expect(parseSpec(text, 'a.yaml').ast?.format).toBe('yaml');
    expect(parseSpec(text, 'a.YML').ast?.format).toBe('yaml');
  });

  it('refuses unknown extensions', () => {
    const r = parseSpec('netspec: 1', 'spec.json');
    expect(r.ast).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['UNKNOWN_FORMAT']);
  });
});

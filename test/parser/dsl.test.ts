import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDsl } from '../../src/parser/dsl/index.js';
import { calleeOf, type Call } from '../../src/parser/ast.js';
import { stripSpans } from './dsl-test-utils.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/dsl/${name}`, import.meta.url), 'utf8');

const int = (value: number) => ({ kind: 'int', value });
const bool = (value: boolean) => ({ kind: 'bool', value });
const ref = (name: string) => ({ kind: 'ref', name });
const arg = (value: unknown, name?: string) =>
  name === undefined ? { kind: 'arg', value } : { kind: 'arg', name, value };
const call = (callee: string, args: unknown[] = [], extra: { name?: string; repeat?: unknown } = {}) => ({
  kind: 'call',
  callee,
  ...(extra.name !== undefined ? { name: extra.name } : {}),
  args,
  ...(extra.repeat !== undefined ? { repeat: extra.repeat } : {}),
});
const param = (name: string, extra: { type?: string; default?: unknown } = {}) => ({
  kind: 'param',
  name,
  ...extra,
});
const module = (name: string, items: unknown[]) => ({ kind: 'module', name, items });
const resblock = (out: number, stride?: number) =>
  call('ResBlock', stride === undefined ? [arg(int(out))] : [arg(int(out)), arg(int(stride), 'stride')]);

describe('parseDsl on the canonical specs', () => {
  it('reads resnet18.net into the exact AST', () => {
    const { ast, diagnostics } = parseDsl(fixture('resnet18.net'), 'specs/resnet18.net');
    expect(diagnostics).toEqual([]);
    expect(ast?.file).toBe('specs/resnet18.net');
    expect(stripSpans(ast)).toStrictEqual({
      kind: 'network',
      format: 'dsl',
      name: 'resnet18',
      params: [
        param('in_channels', { default: int(1) }),
        param('num_classes', { default: int(10) }),
        param('residual', { default: bool(true) }),
      ],
      input: { kind: 'input', dims: [ref('in_channels'), int(32), int(32)] },
      blocks: [
        {
          kind: 'block',
          name: 'ResBlock',
          params: [param('out', { type: 'int' }), param('stride', { default: int(1) })],
          body: [
            call(
              'conv',
              [
                arg(ref('out')),
                arg(int(3), 'kernel'),
                arg(ref('stride'), 'stride'),
                arg(int(1), 'padding'),
                arg(bool(false), 'bias'),
              ],
              { name: 'conv1' },
            ),
            call('batchnorm', [], { name: 'bn1' }),
            call('relu'),
            call(
              'conv',
              [arg(ref('out')), arg(int(3), 'kernel'), arg(int(1), 'padding'), arg(bool(false), 'bias')],
              {
                name: 'conv2',
              },
            ),
            call('batchnorm', [], { name: 'bn2' }),
          ],
          shortcut: {
            kind: 'shortcut',
            when: 'shape_changes',
            layers: [
              call(
                'conv',
                [
                  arg(ref('out')),
                  arg(int(1), 'kernel'),
                  arg(ref('stride'), 'stride'),
                  arg(bool(false), 'bias'),
                ],
                {
                  name: 'shortcut',
                },
              ),
              call('batchnorm', [], { name: 'bn3' }),
            ],
          },
          merge: { kind: 'merge', op: 'add', condition: ref('residual') },
          after: [call('relu')],
        },
      ],
      modules: [
        module('stem', [
          call('conv', [arg(int(64)), arg(int(7), 'kernel'), arg(int(2), 'stride'), arg(int(3), 'padding')]),
          call('batchnorm'),
          call('relu'),
          call('maxpool', [arg(int(3), 'kernel'), arg(int(2), 'stride'), arg(int(1), 'padding')]),
        ]),
        module('stage2', [call('ResBlock', [arg(int(64))], { repeat: int(2) })]),
        module('stage3', [resblock(128, 2), resblock(128)]),
        module('stage4', [resblock(256, 2), resblock(256)]),
        module('stage5', [resblock(512, 2), resblock(512)]),
        module('head', [call('global_avgpool'), call('flatten'), call('linear', [arg(ref('num_classes'))])]),
      ],
    });
  });

  it('reads resnet18-plain.net: a quoted name, extends, overrides, no body', () => {
    const text = fixture('resnet18-plain.net');
    const { ast, diagnostics } = parseDsl(text, 'specs/resnet18-plain.net');
    expect(diagnostics).toEqual([]);
    expect(stripSpans(ast)).toStrictEqual({
      kind: 'network',
      format: 'dsl',
      name: 'resnet18-plain',
      extends: { kind: 'extends', path: './resnet18.net' },
      params: [param('residual', { default: bool(false) })],
      blocks: [],
      modules: [],
    });
    // Line 2 is: network "resnet18-plain" extends "./resnet18.net" (residual = false)
    const line2 = text.indexOf('network');
    expect(ast?.nameSpan).toEqual({
      file: 'specs/resnet18-plain.net',
      offset: line2 + 8,
      endOffset: line2 + 24,
      line: 2,
      col: 9,
    });
    expect(ast?.extends?.span).toMatchObject({ offset: line2 + 25, endOffset: line2 + 49, line: 2, col: 26 });
  });

  it('gives spans to the nodes of the canonical spec', () => {
    const text = fixture('resnet18.net');
    const { ast } = parseDsl(text, 'r.net');
    const block = ast?.blocks[0];
    // `    merge add if residual` is line 15
    expect(block?.merge?.span).toMatchObject({
      line: 15,
      col: 5,
      endOffset: (block?.merge?.span.offset ?? 0) + 21,
    });
    expect(block?.merge?.opSpan).toMatchObject({ line: 15, col: 11 });
    expect(block?.shortcut?.whenSpan).toMatchObject({ line: 11, col: 19 });
    expect(block?.shortcut?.layers[0]?.nameSpan).toMatchObject({ line: 12, col: 7 });
    const stage2 = ast?.modules[1]?.items[0];
    expect(stage2?.span).toMatchObject({ line: 25, col: 19 });
    expect(text.slice(stage2?.span.offset, stage2?.span.endOffset)).toBe('ResBlock(64) * 2');
    expect(text.slice(ast?.span.offset, ast?.span.endOffset)).toMatch(/^network resnet18\(.*\}$/s);
  });
});

describe('parseDsl on small inputs', () => {
  const text =
    'network tiny(n: float = 0.5, flag) {\n  input [3, 8 * 2]\n  module m { c1 = conv(n * 4, kernel = [3, 3]) * 2; relu() }\n}';
  const { ast, diagnostics } = parseDsl(text, 't.net');

  it('builds the exact AST', () => {
    expect(diagnostics).toEqual([]);
    expect(stripSpans(ast)).toStrictEqual({
      kind: 'network',
      format: 'dsl',
      name: 'tiny',
      params: [param('n', { type: 'float', default: { kind: 'float', value: 0.5 } }), param('flag')],
      input: { kind: 'input', dims: [int(3), { kind: 'binary', op: '*', left: int(8), right: int(2) }] },
      blocks: [],
      modules: [
        module('m', [
          call(
            'conv',
            [
              arg({ kind: 'binary', op: '*', left: ref('n'), right: int(4) }),
              arg({ kind: 'list', items: [int(3), int(3)] }, 'kernel'),
            ],
            { name: 'c1', repeat: int(2) },
          ),
          call('relu'),
        ]),
      ],
    });
  });

  it('puts spans on the identifiers and the nodes', () => {
    const c1 = ast?.modules[0]?.items[0] as Call | undefined;
    expect(ast?.nameSpan).toEqual({ file: 't.net', offset: 8, endOffset: 12, line: 1, col: 9 });
    expect(ast?.params[0]?.span).toEqual({ file: 't.net', offset: 13, endOffset: 27, line: 1, col: 14 });
    expect(ast?.params[0]?.nameSpan).toMatchObject({ offset: 13, endOffset: 14 });
    expect(ast?.input?.span).toMatchObject({ line: 2, col: 3, offset: 39, endOffset: 55 });
    expect(c1?.nameSpan).toMatchObject({ line: 3, col: 14, offset: 69, endOffset: 71 });
    expect(c1?.calleeSpan).toMatchObject({ line: 3, col: 19, offset: 74, endOffset: 78 });
    expect(text.slice(c1?.span.offset, c1?.span.endOffset)).toBe('c1 = conv(n * 4, kernel = [3, 3]) * 2');
    const kernel = c1?.args[1];
    expect(text.slice(kernel?.span.offset, kernel?.span.endOffset)).toBe('kernel = [3, 3]');
    expect(text.slice(kernel?.nameSpan?.offset, kernel?.nameSpan?.endOffset)).toBe('kernel');
    const first = c1?.args[0]?.value;
    expect(text.slice(first?.span.offset, first?.span.endOffset)).toBe('n * 4');
  });

  it('parses expressions with the documented precedence', () => {
    const value = (expr: string) => {
      const r = parseDsl(`network x { module m { f(${expr}) } }`, 'x.net');
      expect(r.diagnostics).toEqual([]);
      return stripSpans(r.ast?.modules[0]?.items[0]?.args[0]?.value);
    };
    const bin = (op: string, left: unknown, right: unknown) => ({ kind: 'binary', op, left, right });
    expect(value('1 + 2 * 3')).toEqual(bin('+', int(1), bin('*', int(2), int(3))));
    expect(value('1 - 2 - 3')).toEqual(bin('-', bin('-', int(1), int(2)), int(3)));
    expect(value('(1 + 2) * -a')).toEqual(
      bin('*', bin('+', int(1), int(2)), { kind: 'unary', op: '-', operand: ref('a') }),
    );
    expect(value('a div 2 % 3 / 4')).toEqual(bin('/', bin('%', bin('//', ref('a'), int(2)), int(3)), int(4)));
    expect(value('not a == b and c or d')).toEqual(
      bin(
        'or',
        bin('and', { kind: 'unary', op: 'not', operand: bin('==', ref('a'), ref('b')) }, ref('c')),
        ref('d'),
      ),
    );
    expect(value('$out * 4')).toEqual(bin('*', ref('out'), int(4)));
    expect(value('1e-5')).toEqual({ kind: 'float', value: 1e-5 });
    expect(value('"a\\"b\\u00e9"')).toEqual({ kind: 'string', value: 'a"bé' });
    expect(value('[]')).toEqual({ kind: 'list', items: [] });
  });

  it('does not let keywords swallow identifiers that start with them', () => {
    const r = parseDsl(
      'network networks { module inputs { blocks = adder(notable = android, iffy = true_) } }',
      'k.net',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.ast?.name).toBe('networks');
    expect(stripSpans(r.ast?.modules[0])).toStrictEqual(
      module('inputs', [
        call('adder', [arg(ref('android'), 'notable'), arg(ref('true_'), 'iffy')], { name: 'blocks' }),
      ]),
    );
  });

  it('accepts the three comment styles, semicolons and trailing commas', () => {
    const r = parseDsl(
      '# hash\nnetwork /* inline */ x(a = 1,) { // line\n ; input [1, 2,] ; module m { ; f(1,); g() ; }\n}\n',
      'c.net',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.ast?.params).toHaveLength(1);
    expect(r.ast?.input?.dims).toHaveLength(2);
    expect(r.ast?.modules[0]?.items.map(calleeOf)).toEqual(['f', 'g']);
  });

  it('defaults shortcut when to shape_changes without a whenSpan, and reads `always`', () => {
    const r = parseDsl(
      'network x { block B { f(); shortcut { g() } merge add } block C { shortcut when always {} } }',
      'b.net',
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.ast?.blocks[0]?.shortcut?.when).toBe('shape_changes');
    expect(r.ast?.blocks[0]?.shortcut).not.toHaveProperty('whenSpan');
    expect(r.ast?.blocks[0]?.merge).not.toHaveProperty('condition');
    expect(r.ast?.blocks[1]?.shortcut?.when).toBe('always');
    expect(r.ast?.blocks[1]?.body).toEqual([]);
  });

  it('treats a network without a body as empty', () => {
    const r = parseDsl('network x', 'e.net');
    expect(r.diagnostics).toEqual([]);
    expect(stripSpans(r.ast)).toStrictEqual({
      kind: 'network',
      format: 'dsl',
      name: 'x',
      params: [],
      blocks: [],
      modules: [],
    });
  });
});

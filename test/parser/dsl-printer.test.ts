import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Span } from '../../src/diagnostics.js';
import type {
  Arg,
  BlockDecl,
  BranchMerge,
  Call,
  Expr,
  Item,
  ModuleDecl,
  NetworkAst,
  ParamDecl,
} from '../../src/parser/ast.js';
import { parseDsl, printDsl } from '../../src/parser/dsl/index.js';
import { KEYWORDS } from '../../src/parser/dsl/tokens.js';
import { stripSpans } from './dsl-test-utils.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/dsl/${name}`, import.meta.url), 'utf8');

function roundTrip(ast: NetworkAst): void {
  const text = printDsl(ast);
  const again = parseDsl(text, 'printed.net');
  expect(again.diagnostics, text).toEqual([]);
  expect(stripSpans(again.ast), text).toStrictEqual(stripSpans(ast));
}

describe('printDsl', () => {
  it('prints resnet18 in the canonical layout', () => {
    const { ast } = parseDsl(fixture('resnet18.net'), 'resnet18.net');
    if (!ast) throw new Error('fixture must parse');
    expect(printDsl(ast)).toBe(`network resnet18(in_channels = 1, num_classes = 10, residual = true) {
  input [in_channels, 32, 32]

  block ResBlock(out: int, stride = 1) {
    conv1 = conv(out, kernel = 3, stride = stride, padding = 1, bias = false)
    bn1 = batchnorm()
    relu()
    conv2 = conv(out, kernel = 3, padding = 1, bias = false)
    bn2 = batchnorm()
    shortcut when shape_changes {
      shortcut = conv(out, kernel = 1, stride = stride, bias = false)
      bn3 = batchnorm()
    }
    merge add if residual
    relu()
  }

  module stem {
    conv(64, kernel = 7, stride = 2, padding = 3)
    batchnorm()
    relu()
    maxpool(kernel = 3, stride = 2, padding = 1)
  }

  module stage2 {
    ResBlock(64) * 2
  }

  module stage3 {
    ResBlock(128, stride = 2)
    ResBlock(128)
  }

  module stage4 {
    ResBlock(256, stride = 2)
    ResBlock(256)
  }

  module stage5 {
    ResBlock(512, stride = 2)
    ResBlock(512)
  }

  module head {
    global_avgpool()
    flatten()
    linear(num_classes)
  }
}
`);
    roundTrip(ast);
  });

  it('prints merges of branches and conditions, and reads them back', () => {
    const text = readFileSync('test/fixtures/graphs/branches.net', 'utf8');
    const parsed = parseDsl(text, 'branches.net');
    expect(parsed.diagnostics).toEqual([]);
    if (!parsed.ast) throw new Error('no AST');
    const printed = printDsl(parsed.ast);
    expect(printed).toContain(
      [
        '    concat {',
        '      input {}',
        '      new {',
        '        batchnorm()',
        '        $act()',
        '        conv(growth, kernel = 3, padding = 1, bias = false) if growth > 0',
        '      }',
        '    }',
      ].join('\n'),
    );
    roundTrip(parsed.ast);
  });

  it('prints the plain variant as a one-liner', () => {
    const { ast } = parseDsl(fixture('resnet18-plain.net'), 'resnet18-plain.net');
    if (!ast) throw new Error('fixture must parse');
    expect(printDsl(ast)).toBe('network "resnet18-plain" extends "./resnet18.net" (residual = false)\n');
    roundTrip(ast);
  });

  it('parenthesizes only where precedence needs it', () => {
    const text =
      'network x { module m { f((a + b) * c, a + b * c, -(-a), (not a) == b, not (a == b), (a < b) == c, a - (b - c), 1.0, "q\\"\\n") } }';
    const { ast } = parseDsl(text, 'p.net');
    if (!ast) throw new Error('must parse');
    expect(printDsl(ast)).toContain(
      'f((a + b) * c, a + b * c, -(-a), (not a) == b, not a == b, (a < b) == c, a - (b - c), 1.0, "q\\"\\n")',
    );
    roundTrip(ast);
  });

  it('writes floor division as div, and keyword-named refs with $', () => {
    const { ast } = parseDsl('network x { module m { f(a div 2, $if) } }', 'd.net');
    if (!ast) throw new Error('must parse');
    expect(printDsl(ast)).toContain('f(a div 2, $if)');
    roundTrip(ast);
  });
});

// --- random ASTs in the space the DSL parser produces -------------------------------------------------------
const S: Span = { file: 'gen.net', offset: 0, endOffset: 0, line: 1, col: 1 };
const identifier = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/).filter((s) => !KEYWORDS.has(s));
const anyName = fc.oneof(identifier, fc.constantFrom(...KEYWORDS));
// The keywords that may name a layer (not the expression ones: `f() * n` then `and = g()` would continue `n`).
const layerName = fc.oneof(
  identifier,
  fc.constantFrom('network', 'extends', 'input', 'block', 'module', 'shortcut', 'when', 'merge', 'add'),
);
const declName = fc.oneof(identifier, fc.string({ unit: 'binary', maxLength: 8 }));

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.maxSafeNat().map((value): Expr => ({ kind: 'int', value, span: S })),
    fc
      .double({ min: 0, noNaN: true, noDefaultInfinity: true })
      .filter((v) => !Object.is(v, -0))
      .map((value): Expr => ({ kind: 'float', value, span: S })),
    fc.boolean().map((value): Expr => ({ kind: 'bool', value, span: S })),
    fc.string({ unit: 'binary', maxLength: 6 }).map((value): Expr => ({ kind: 'string', value, span: S })),
    anyName.map((name): Expr => ({ kind: 'ref', name, span: S })),
    fc
      .tuple(fc.constantFrom<'-' | 'not'>('-', 'not'), tie('expr'))
      .map(([op, operand]): Expr => ({ kind: 'unary', op, operand, span: S })),
    fc
      .tuple(
        fc.constantFrom(
          ...(['+', '-', '*', '/', '//', '%', '==', '!=', '<', '<=', '>', '>=', 'and', 'or'] as const),
        ),
        tie('expr'),
        tie('expr'),
      )
      .map(([op, left, right]): Expr => ({ kind: 'binary', op, left, right, span: S })),
    fc.array(tie('expr'), { maxLength: 3 }).map((items): Expr => ({ kind: 'list', items, span: S })),
  ),
}));

const arg = fc.tuple(fc.option(identifier, { nil: undefined }), expr).map(([name, value]): Arg => ({
  kind: 'arg',
  ...(name !== undefined ? { name, nameSpan: S } : {}),
  value,
  span: S,
}));
const call = fc
  .tuple(
    identifier,
    fc.option(layerName, { nil: undefined }),
    fc.array(arg, { maxLength: 3 }),
    fc.option(expr, { nil: undefined }),
    fc.option(expr, { nil: undefined }),
  )
  .map(([callee, name, args, repeat, condition]): Call => ({
    kind: 'call',
    callee,
    calleeSpan: S,
    ...(name !== undefined ? { name, nameSpan: S } : {}),
    args,
    ...(repeat ? { repeat } : {}),
    ...(condition ? { condition } : {}),
    span: S,
  }));
const { items } = fc.letrec<{ items: Item[]; item: Item; merge: BranchMerge }>((tie) => ({
  items: fc.array(tie('item'), { maxLength: 3 }),
  item: fc.oneof({ depthSize: 'small', maxDepth: 3 }, call, tie('merge')),
  merge: fc
    .record({
      op: fc.oneof(identifier, fc.constant('add')),
      name: fc.option(layerName, { nil: undefined }),
      args: fc.array(arg, { maxLength: 2 }),
      condition: fc.option(expr, { nil: undefined }),
      branches: fc.array(fc.tuple(layerName, tie('items')), { maxLength: 3 }),
    })
    .map((m): BranchMerge => ({
      kind: 'branches',
      op: m.op,
      opSpan: S,
      ...(m.name !== undefined ? { name: m.name, nameSpan: S } : {}),
      args: m.args,
      ...(m.condition ? { condition: m.condition } : {}),
      branches: m.branches.map(([name, list]) => ({
        kind: 'branch',
        name,
        nameSpan: S,
        items: list,
        span: S,
      })),
      span: S,
    })),
}));
const calls = items;
const param = fc
  .tuple(
    identifier,
    fc.option(fc.constantFrom('int', 'float', 'bool', 'string', 'list' as const), { nil: undefined }),
    fc.option(expr, { nil: undefined }),
  )
  .map(([name, type, value]): ParamDecl => ({
    kind: 'param',
    name,
    nameSpan: S,
    ...(type ? { type } : {}),
    ...(value ? { default: value } : {}),
    span: S,
  }));
const params = fc.array(param, { maxLength: 3 });
const block = fc
  .record({
    name: declName,
    params,
    body: calls,
    shortcut: fc.option(fc.tuple(fc.constantFrom('shape_changes', 'always' as const), calls), {
      nil: undefined,
    }),
    merge: fc.option(fc.tuple(fc.option(expr, { nil: undefined }), calls), { nil: undefined }),
  })
  .map((b): BlockDecl => ({
    kind: 'block',
    name: b.name,
    nameSpan: S,
    params: b.params,
    body: b.body,
    ...(b.shortcut
      ? { shortcut: { kind: 'shortcut', when: b.shortcut[0], layers: b.shortcut[1], span: S } }
      : {}),
    ...(b.merge
      ? {
          merge: {
            kind: 'merge',
            op: 'add',
            opSpan: S,
            ...(b.merge[0] ? { condition: b.merge[0] } : {}),
            span: S,
          },
        }
      : {}),
    // Layers after the merge only exist when there is a merge.
    after: b.merge ? b.merge[1] : [],
    span: S,
  }));
const moduleDecl = fc
  .tuple(declName, calls)
  .map(([name, items]): ModuleDecl => ({ kind: 'module', name, nameSpan: S, items, span: S }));
const network = fc
  .record({
    name: declName,
    extendsPath: fc.option(fc.string({ unit: 'binary', maxLength: 10 }), { nil: undefined }),
    params,
    input: fc.option(fc.array(expr, { maxLength: 4 }), { nil: undefined }),
    blocks: fc.array(block, { maxLength: 2 }),
    modules: fc.array(moduleDecl, { maxLength: 3 }),
  })
  .map((n): NetworkAst => ({
    kind: 'network',
    file: 'gen.net',
    format: 'dsl',
    name: n.name,
    nameSpan: S,
    ...(n.extendsPath !== undefined ? { extends: { kind: 'extends', path: n.extendsPath, span: S } } : {}),
    params: n.params,
    ...(n.input ? { input: { kind: 'input', dims: n.input, span: S } } : {}),
    blocks: n.blocks,
    modules: n.modules,
    span: S,
  }));

describe('printDsl round trip on random ASTs', () => {
  it('parseDsl(printDsl(ast)) == ast modulo spans', () => {
    fc.assert(
      fc.property(network, (ast) => roundTrip(ast)),
      { numRuns: Number(process.env['FC_RUNS'] ?? 300) },
    );
  });
});

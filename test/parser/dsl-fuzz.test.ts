import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineMap } from '../../src/diagnostics.js';
import { parseDsl, parseExpression, printDsl } from '../../src/parser/dsl/index.js';
import { collectSpans, spanIsValid, stripSpans } from './dsl-test-utils.js';

const canonical = readFileSync(new URL('./fixtures/dsl/resnet18.net', import.meta.url), 'utf8');
const runs = Number(process.env['FC_RUNS'] ?? 300);

/** Whatever the input: no exception, every span inside the text, and an error-free parse prints back to itself. */
function checkDsl(text: string): void {
  const { ast, diagnostics } = parseDsl(text, 'fuzz.net');
  for (const d of diagnostics) {
    expect(['DSL_LEX', 'DSL_SYNTAX']).toContain(d.code);
    expect(d.span).toBeDefined();
  }
  expect(collectSpans([ast, diagnostics]).filter((span) => !spanIsValid(span, text.length))).toEqual([]);
  if (diagnostics.length === 0) {
    expect(ast).toBeDefined();
    if (!ast) return;
    const again = parseDsl(printDsl(ast), 'fuzz.net');
    expect(again.diagnostics).toEqual([]);
    expect(stripSpans(again.ast)).toStrictEqual(stripSpans(ast));
  }
}

const TOKENS = [
  'network',
  'x',
  '"n"',
  'extends',
  '"./p.net"',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  'input',
  'block',
  'module',
  'B',
  'shortcut',
  'when',
  'always',
  'shape_changes',
  'merge',
  'add',
  'if',
  '=',
  '*',
  '1',
  '2.5',
  '1e-5',
  ',',
  ';',
  ':',
  'int',
  'conv',
  'kernel',
  'not',
  'and',
  'or',
  '-',
  '+',
  '/',
  'div',
  '//',
  '#',
  '/*',
  '*/',
  '==',
  '<',
  '$out',
  'true',
  '\n',
  '@',
  '"',
  '\\',
];
const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(' '));

/** The canonical spec with one random edit: delete a range, then insert a few characters there. */
const mutated = fc
  .tuple(
    fc.nat({ max: canonical.length }),
    fc.nat({ max: 12 }),
    fc.string({ unit: fc.constantFrom(...'{}()[]=,;:*+-/<>!"#$@ \n\tabcx019._'.split('')), maxLength: 4 }),
  )
  .map(([at, remove, insert]) => canonical.slice(0, at) + insert + canonical.slice(at + remove));

describe('parseDsl never throws and keeps spans in range', () => {
  it('on random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), checkDsl), { numRuns: runs });
  });
  it('on token soups', () => {
    fc.assert(fc.property(tokenSoup, checkDsl), { numRuns: runs });
  });
  it('on mutated canonical specs', () => {
    fc.assert(fc.property(mutated, checkDsl), { numRuns: runs });
  });
  it('on deep nesting and long prefix chains', () => {
    for (const text of [
      `network x(a = ${'('.repeat(500)}1)`,
      `network x(a = ${'['.repeat(64)}${']'.repeat(64)})`,
      `network x(a = ${'- '.repeat(20000)}1)`,
      `network x(a = ${'not '.repeat(20000)}1)`,
      `network x { ${'module m { f() } '.repeat(2000)} }`,
    ]) {
      checkDsl(text);
    }
    // The parser instance is reused: a refused input must not leave state behind.
    expect(parseDsl('network x', 'ok.net').diagnostics).toEqual([]);
  });
});

describe('parseExpression never throws and keeps spans in the enclosing file', () => {
  it('on random expressions at an offset', () => {
    const expressionSoup = fc
      .array(
        fc.constantFrom(
          '$out',
          'x',
          '1',
          '0.5',
          '(',
          ')',
          '[',
          ']',
          ',',
          '*',
          '//',
          '/',
          '-',
          'not',
          'and',
          '==',
          '"s"',
          '@',
        ),
        {
          maxLength: 20,
        },
      )
      .map((parts) => parts.join(' '));
    fc.assert(
      fc.property(
        fc.oneof(expressionSoup, fc.string({ unit: 'binary', maxLength: 30 })),
        fc.string({ maxLength: 10 }),
        (expr, prefix) => {
          const file = `${prefix}${expr}\n`;
          const map = new LineMap('f.yaml', file);
          const result = parseExpression(expr, map, prefix.length);
          for (const d of result.diagnostics) expect(d.code).toBe('EXPR_SYNTAX');
          expect(
            collectSpans(result).filter((span) => !spanIsValid(span, expr.length, prefix.length)),
          ).toEqual([]);
          if (result.diagnostics.length === 0) expect(result.expr).toBeDefined();
        },
      ),
      { numRuns: runs },
    );
  });
});

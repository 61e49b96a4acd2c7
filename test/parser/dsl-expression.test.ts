import { describe, expect, it } from 'vitest';
import { LineMap } from '../../src/diagnostics.js';
import { parseExpression } from '../../src/parser/dsl/index.js';
import { stripSpans } from './dsl-test-utils.js';

/** Parses `expr` where it sits inside `file` (found by its first occurrence), as the YAML front end does. */
function inFile(file: string, expr: string) {
  const map = new LineMap('spec.yaml', file);
  return parseExpression(expr, map, file.indexOf(expr));
}

describe('parseExpression', () => {
  const file = 'blocks:\n  B:\n    out: $out * 4 // 2\n';

  it('gives absolute spans in the enclosing file', () => {
    const { expr, diagnostics } = inFile(file, '$out * 4 // 2');
    expect(diagnostics).toEqual([]);
    expect(stripSpans(expr)).toEqual({
      kind: 'binary',
      op: '//',
      left: { kind: 'binary', op: '*', left: { kind: 'ref', name: 'out' }, right: { kind: 'int', value: 4 } },
      right: { kind: 'int', value: 2 },
    });
    expect(expr?.span).toEqual({ file: 'spec.yaml', offset: 22, endOffset: 35, line: 3, col: 10 });
    if (expr?.kind !== 'binary' || expr.left.kind !== 'binary') throw new Error('shape checked above');
    // `$out` spans its dollar too, but names the ref `out`.
    expect(expr.left.left.span).toEqual({ file: 'spec.yaml', offset: 22, endOffset: 26, line: 3, col: 10 });
    expect(expr.right.span).toMatchObject({ offset: 34, endOffset: 35, col: 22 });
  });

  it('treats $name and name as the same reference, and `div` like `//`', () => {
    const a = parseExpression('$out div 2', new LineMap('a', '$out div 2'), 0);
    const b = parseExpression('out // 2', new LineMap('b', 'out // 2'), 0);
    expect(stripSpans(a.expr)).toEqual(stripSpans(b.expr));
  });

  it('reads every literal kind', () => {
    const text = '[1, 0.5, 1e-5, true, false, "s", -2, not x]';
    const { expr, diagnostics } = parseExpression(text, new LineMap('l', text), 0);
    expect(diagnostics).toEqual([]);
    expect(stripSpans(expr)).toEqual({
      kind: 'list',
      items: [
        { kind: 'int', value: 1 },
        { kind: 'float', value: 0.5 },
        { kind: 'float', value: 1e-5 },
        { kind: 'bool', value: true },
        { kind: 'bool', value: false },
        { kind: 'string', value: 's' },
        { kind: 'unary', op: '-', operand: { kind: 'int', value: 2 } },
        { kind: 'unary', op: 'not', operand: { kind: 'ref', name: 'x' } },
      ],
    });
  });

  it('reports every problem as EXPR_SYNTAX at its absolute position', () => {
    const text = 'x: $out * + 1\ny: 2 @ 3\nz: (1\nw: ';
    const map = new LineMap('e.yaml', text);
    const at = (s: string) => parseExpression(s, map, text.indexOf(s)).diagnostics;
    const show = (s: string) => at(s).map((d) => `${d.code} ${d.span?.line}:${d.span?.col} ${d.message}`);
    expect(show('$out * + 1')).toEqual(["EXPR_SYNTAX 1:11 expected an expression but found '+'"]);
    expect(show('2 @ 3')).toEqual(["EXPR_SYNTAX 2:6 unexpected character '@'"]);
    expect(show('(1')).toEqual(["EXPR_SYNTAX 3:6 expected ')' but found end of input"]);
    expect(
      parseExpression('', map, text.length).diagnostics.map((d) => [d.message, d.span?.line, d.span?.col]),
    ).toEqual([['expected an expression but found end of input', 4, 4]]);
    expect(parseExpression('a b', new LineMap('f', 'a b'), 0).diagnostics.map((d) => d.message)).toEqual([
      "expected end of input but found 'b'",
    ]);
  });

  it('has no comments: `#` is just a bad character', () => {
    const { diagnostics } = parseExpression('1 # c', new LineMap('f', '1 # c'), 0);
    expect(diagnostics.map((d) => d.code)).toContain('EXPR_SYNTAX');
  });
});

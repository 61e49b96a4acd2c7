import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/diagnostics.js';
import { parseDsl } from '../../src/parser/dsl/index.js';

/** `CODE line:col [offset,endOffset) message`: everything a golden diagnostic pins down, on one line. */
function render(d: Diagnostic): string {
  const s = d.span;
  const where = s ? `${s.line}:${s.col} [${s.offset},${s.endOffset})` : '-';
  return `${d.code} ${where} ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`;
}

function diagnose(text: string): string[] {
  const { diagnostics } = parseDsl(text, 'bad.net');
  for (const d of diagnostics) expect(d.severity).toBe('error');
  return diagnostics.map(render);
}

describe('DSL diagnostics', () => {
  it('bad character: DSL_LEX at that character, and parsing goes on without it', () => {
    const text = 'network x {\n  input [1, @ 2]\n}';
    expect(diagnose(text)).toEqual(["DSL_LEX 2:13 [24,25) unexpected character '@'"]);
    expect(parseDsl(text, 'bad.net').ast?.input?.dims).toHaveLength(2);
    // The syntax error at `2` that the removed `~~` causes is an echo on the same line, so it is not reported.
    expect(diagnose('network x { module m { f(1 ~~ 2) } }')).toEqual([
      "DSL_LEX 1:28 [27,29) unexpected characters '~~'",
    ]);
    expect(diagnose('network x\u0007')).toEqual(['DSL_LEX 1:10 [9,10) unexpected character U+0007']);
  });

  it("missing ')': at the token found instead", () => {
    expect(diagnose('network x {\n  module m { conv(64, kernel = 3 }\n}')).toEqual([
      "DSL_SYNTAX 2:34 [45,46) expected ',' or ')' but found '}'",
    ]);
    expect(diagnose('network x(a = 1 {\n}')).toEqual([
      "DSL_SYNTAX 1:17 [16,17) expected ',' or ')' but found '{'",
    ]);
  });

  it("missing '}' at end of input: right after the last token, never NaN", () => {
    expect(diagnose('network x {\n  module m { conv(64) }\n  // trailing comment\n')).toEqual([
      "DSL_SYNTAX 2:24 [35,35) expected 'input', 'block', 'module', 'training' or '}' but found end of input",
    ]);
    expect(diagnose('network x {\n  block B {\n    relu()')).toEqual([
      "DSL_SYNTAX 3:11 [34,34) expected a layer, 'shortcut', 'merge' or '}' but found end of input",
    ]);
  });

  it('`conv(64 kernel = 3)`: one error at `kernel`, no echo of the recovery', () => {
    expect(diagnose('network x {\n  module m { conv(64 kernel = 3) }\n}')).toEqual([
      "DSL_SYNTAX 2:22 [33,39) expected ',' or ')' but found 'kernel'",
    ]);
  });

  it('unknown type: DSL_SYNTAX at the type, with a did-you-mean hint when one is close', () => {
    expect(diagnose('network x {\n  block B(out: integer, k: Float) { relu() }\n}')).toEqual([
      "DSL_SYNTAX 2:16 [27,34) unknown type 'integer' (expected int, float, bool or string)",
      "DSL_SYNTAX 2:28 [39,44) unknown type 'Float' (expected int, float, bool or string) (hint: did you mean 'float'?)",
    ]);
  });

  it('stray tokens', () => {
    expect(diagnose('network x {\n  input [1] )\n}')).toEqual([
      "DSL_SYNTAX 2:13 [24,25) expected 'input', 'block', 'module', 'training' or '}' but found ')'",
    ]);
    expect(diagnose('network x {\n  module m {\n    relu()\n    +\n  }\n}')).toEqual([
      "DSL_SYNTAX 4:5 [40,41) expected a layer or '}' but found '+'",
    ]);
    expect(diagnose('network x { } }')).toEqual([
      "DSL_SYNTAX 1:15 [14,15) expected end of input but found '}'",
    ]);
    expect(diagnose('network x { foo }')).toEqual([
      "DSL_SYNTAX 1:13 [12,15) expected 'input', 'block', 'module', 'training' or '}' but found 'foo'",
    ]);
  });

  it('reports an error on each line it happens on', () => {
    expect(diagnose('network x {\n  module m { f(1 2) }\n  module n { g(,) }\n}')).toEqual([
      "DSL_SYNTAX 2:18 [29,30) expected ',' or ')' but found '2'",
      "DSL_SYNTAX 3:16 [49,50) expected an argument or ')' but found ','",
    ]);
  });

  it('empty and truncated input', () => {
    expect(diagnose('')).toEqual(["DSL_SYNTAX 1:1 [0,0) expected 'network' but found end of input"]);
    expect(diagnose('// only a comment\n')).toEqual([
      "DSL_SYNTAX 1:1 [0,0) expected 'network' but found end of input",
    ]);
    expect(diagnose('network')).toEqual(['DSL_SYNTAX 1:8 [7,7) expected a name but found end of input']);
    expect(parseDsl('network', 'bad.net').ast).toBeUndefined();
    expect(diagnose('network x extends y')).toEqual([
      "DSL_SYNTAX 1:19 [18,19) expected a string but found 'y'",
    ]);
  });

  it('bad strings and comments', () => {
    expect(diagnose('network "abc')).toEqual(['DSL_LEX 1:9 [8,12) unterminated string']);
    expect(diagnose('network "a\\qb"')).toEqual(["DSL_LEX 1:11 [10,12) invalid escape '\\q' in string"]);
    expect(diagnose('network x /* never closed')).toEqual(['DSL_LEX 1:11 [10,12) unterminated comment']);
  });

  it('expressions', () => {
    expect(diagnose('network x { module m { f(kernel = ) } }')).toEqual([
      "DSL_SYNTAX 1:35 [34,35) expected an expression but found ')'",
    ]);
    expect(diagnose('network x { module m { f(a < b < c) } }')).toEqual([
      "DSL_SYNTAX 1:32 [31,32) expected ',' or ')' but found '<'",
    ]);
    expect(diagnose('network x { module m { f(99999999999999999999) } }')).toEqual([
      'DSL_SYNTAX 1:26 [25,45) integer 99999999999999999999 is too large',
    ]);
    // `//` is a comment in the DSL; the error it causes says so.
    const hint = "(hint: '//' starts a comment in the DSL; write floor division as 'div')";
    expect(diagnose('network x { module m { f(out // 2) } }')).toEqual([
      `DSL_SYNTAX 1:29 [28,28) expected ',' or ')' but found end of input ${hint}`,
    ]);
    expect(diagnose('network x {\n  module m { f(out // 2) }\n  module n {}\n}')).toEqual([
      `DSL_SYNTAX 3:3 [41,47) expected ',' or ')' but found 'module' ${hint}`,
    ]);
    expect(diagnose('network x {\n  module m { f(out, // 2)\n  ) }\n}')).toEqual([]);
    expect(diagnose(`network x(a = ${'('.repeat(70)}1${')'.repeat(70)})`)).toEqual([
      'DSL_SYNTAX 1:78 [77,78) nesting is too deep (more than 64 levels)',
    ]);
  });

  it('block structure: body, shortcut, merge, after', () => {
    expect(diagnose('network x { block B { relu(); merge add; shortcut { conv() } } }')).toEqual([
      "DSL_SYNTAX 1:42 [41,49) 'shortcut' must come before 'merge'",
    ]);
    expect(diagnose('network x { block B { shortcut {} relu() merge add } }')).toEqual([
      "DSL_SYNTAX 1:35 [34,40) a layer after 'shortcut' must come after 'merge' (or before 'shortcut')",
    ]);
    expect(diagnose('network x { block B { merge add; merge add } }')).toEqual([
      "DSL_SYNTAX 1:34 [33,38) duplicate 'merge': a block has at most one",
    ]);
    expect(diagnose('network x { block B { shortcut when sometimes { } } }')).toEqual([
      "DSL_SYNTAX 1:37 [36,45) unknown shortcut condition 'sometimes' (expected shape_changes or always)",
    ]);
    expect(diagnose('network x { input [1]\n input [2] }')).toEqual([
      "DSL_SYNTAX 2:2 [23,28) duplicate 'input': a network has one input shape",
    ]);
  });
});

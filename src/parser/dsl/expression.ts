/** Standalone expressions (a YAML value such as `$out * 4`), parsed by the DSL's own expression grammar. */
import type { Diagnostic, LineMap } from '../../diagnostics.js';
import type { Expr } from '../ast.js';
import { AstBuilder } from './cst-to-ast.js';
import { byPosition, runParser, type TokenBudget } from './run-parser.js';

const EXPR_CODES = { lex: 'EXPR_SYNTAX', syntax: 'EXPR_SYNTAX' } as const;

/**
 * Parses `text`, an expression that starts at `baseOffset` in the file `map` describes; spans are absolute in
 * that file. `$name` and `name` are the same reference; `//` is floor division here (there are no comments).
 * Every problem is an EXPR_SYNTAX diagnostic (TOO_LARGE past the token budget, which the expressions of one spec
 * share when the caller passes one); `expr` is a best-effort result, undefined when nothing was read.
 */
export function parseExpression(
  text: string,
  map: LineMap,
  baseOffset: number,
  budget?: TokenBudget,
): { expr: Expr | undefined; diagnostics: Diagnostic[] } {
  const run = runParser(text, 'expression', map, baseOffset, EXPR_CODES, budget);
  if (!run.cst) return { expr: undefined, diagnostics: byPosition(run.diagnostics) };
  const builder = new AstBuilder(run.spans, 'EXPR_SYNTAX');
  const expr = builder.expression(run.cst);
  return { expr, diagnostics: byPosition([...run.diagnostics, ...builder.diagnostics]) };
}

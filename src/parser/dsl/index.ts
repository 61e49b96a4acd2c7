/** The DSL front end: `.net` text → AST (with spans and diagnostics), and AST → canonical `.net` text. */
import { LineMap } from '../../diagnostics.js';
import type { ParseResult } from '../ast.js';
import { AstBuilder } from './cst-to-ast.js';
import { byPosition, runParser } from './run-parser.js';

export { parseExpression } from './expression.js';
export { printDsl } from './printer.js';

const DSL_CODES = { lex: 'DSL_LEX', syntax: 'DSL_SYNTAX' } as const;

/**
 * Parses one `.net` file. Never throws: lexing problems are DSL_LEX, everything else DSL_SYNTAX. After an error
 * the AST is chevrotain's best-effort recovery (undefined if not even the network's name was read); callers stop
 * on any error anyway.
 */
export function parseDsl(text: string, file: string): ParseResult {
  const run = runParser(text, 'file', new LineMap(file, text), 0, DSL_CODES);
  if (!run.cst) return { ast: undefined, diagnostics: byPosition(run.diagnostics) };
  const builder = new AstBuilder(run.spans, 'DSL_SYNTAX');
  const ast = builder.network(run.cst, file);
  return { ast, diagnostics: byPosition([...run.diagnostics, ...builder.diagnostics]) };
}

/** Lex + parse one text with the shared parser, turning every lexing and parsing problem into a Diagnostic. */
import type { CstNode, IToken } from 'chevrotain';
import { error, type Diagnostic, type DiagnosticCode, type LineMap } from '../../diagnostics.js';
import { tokenize } from './lexer.js';
import { dslParser } from './parser.js';
import { SpanMaker, isRealToken, tokenEnd } from './spans.js';
import {
  DollarIdentifier,
  FloatLiteral,
  Identifier,
  IntLiteral,
  KwFalse,
  KwTrue,
  LBracket,
  LCurly,
  LParen,
  RBracket,
  RCurly,
  RParen,
  StringLiteral,
} from './tokens.js';

/** Deeper nesting than this is refused before parsing, so recursion in the parser cannot overflow the stack. */
export const MAX_NESTING = 64;

const ENDS_OPERAND = new Set([
  IntLiteral,
  FloatLiteral,
  StringLiteral,
  Identifier,
  DollarIdentifier,
  KwTrue,
  KwFalse,
  RParen,
  RBracket,
]);

/** Shown when a syntax error follows a `//` that was probably meant as floor division (`out // 2`). */
export const FLOOR_DIVISION_HINT = "'//' starts a comment in the DSL; write floor division as 'div'";

/**
 * True when the last thing before relative offset `at` is a `//` comment that directly follows an operand on the
 * same line: then the user most likely meant floor division, and the comment ate the rest of the line.
 */
function afterSuspiciousComment(
  text: string,
  tokens: readonly IToken[],
  comments: readonly IToken[],
  at: number,
): boolean {
  const comment = comments.findLast((c) => c.startOffset < at);
  const before = tokens.findLast((t) => t.startOffset < at);
  if (!comment || !before || before.startOffset > comment.startOffset) return false;
  if (!ENDS_OPERAND.has(before.tokenType)) return false;
  return !text.slice(tokenEnd(before), comment.startOffset).includes('\n');
}

/** The CST (absent when the text could not be parsed at all), spans for building the AST, and diagnostics. */
export interface ParserRun {
  readonly cst: CstNode | undefined;
  readonly spans: SpanMaker;
  readonly diagnostics: Diagnostic[];
}

/** Which diagnostic codes a run reports: the DSL's own, or EXPR_SYNTAX for everything in a standalone expression. */
export interface RunCodes {
  readonly lex: DiagnosticCode;
  readonly syntax: DiagnosticCode;
}

function tooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const token of tokens) {
    const type = token.tokenType;
    if (type === LParen || type === LBracket || type === LCurly) {
      depth++;
      if (depth > MAX_NESTING) return token;
    } else if (type === RParen || type === RBracket || type === RCurly) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/**
 * Parses `text` (which starts at `base` in the file `map` describes) with the entry rule `entry`. Never throws
 * for any input: problems come back as diagnostics, sorted by position.
 */
export function runParser(
  text: string,
  entry: 'file' | 'expression',
  map: LineMap,
  base: number,
  codes: RunCodes,
): ParserRun {
  const { tokens, problems, lineComments } = tokenize(text, entry === 'file' ? 'dsl' : 'expression');
  const last = tokens[tokens.length - 1];
  const spans = new SpanMaker(map, base, last ? tokenEnd(last) : 0);
  const diagnostics: Diagnostic[] = problems.map((p) =>
    error(codes.lex, p.message, spans.at(p.offset, p.endOffset)),
  );

  const deep = tooDeep(tokens);
  if (deep) {
    diagnostics.push(
      error(codes.syntax, `nesting is too deep (more than ${MAX_NESTING} levels)`, spans.token(deep)),
    );
    return { cst: undefined, spans, diagnostics };
  }

  let cst: CstNode | undefined;
  try {
    dslParser.input = tokens;
    cst = entry === 'file' ? dslParser.file() : dslParser.expression();
  } catch (e) {
    // Long chains of prefix operators (`- - - ... x`) recurse without brackets; refuse them rather than crash.
    if (!(e instanceof RangeError)) throw e;
    diagnostics.push(error(codes.syntax, 'expression is nested too deeply', spans.at(0)));
    return { cst: undefined, spans, diagnostics };
  }

  for (const e of dslParser.errors) {
    const span = isRealToken(e.token) ? spans.token(e.token) : spans.at(spans.fallback);
    // After an error, recovery guesses; what it then trips over on the same line is an echo of the first error
    // (`conv(64 kernel = 3)` would also report `3` as a bad layer name), so keep one error per line.
    const echo = diagnostics.some(
      (d) => d.span !== undefined && d.span.line === span.line && d.span.offset <= span.offset,
    );
    if (echo) continue;
    const at = isRealToken(e.token) ? e.token.startOffset : Infinity;
    const hint = afterSuspiciousComment(text, tokens, lineComments, at) ? FLOOR_DIVISION_HINT : undefined;
    diagnostics.push(error(codes.syntax, e.message, span, hint));
  }
  return { cst, spans, diagnostics };
}

/** Sorts diagnostics by position, keeping the order of those at the same place. */
export function byPosition(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => (a.span?.offset ?? 0) - (b.span?.offset ?? 0));
}

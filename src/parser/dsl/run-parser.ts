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
  KwNot,
  KwTraining,
  KwTrue,
  LBracket,
  LCurly,
  LParen,
  Minus,
  RBracket,
  RCurly,
  RParen,
  StringLiteral,
} from './tokens.js';

/**
 * Deeper nesting than this is refused before parsing, so recursion in the parser cannot overflow the stack:
 * brackets, plus prefix operators in a row (`- - x`, `not not x` recurse as brackets do).
 */
export const MAX_NESTING = 64;

/**
 * Most tokens one spec may hold: a whole `.net` file, or all `$` expressions of one YAML file together (real
 * specs have a few thousand). Parsing costs about 1 KB and 10 µs per token, so this bounds a hostile file's parse
 * to a few hundred MB and a few seconds; a longer file is refused after lexing, before the parser runs.
 */
export const MAX_TOKENS = 200_000;

/** The tokens a spec may still use; one budget is shared by every parse of the same spec. */
export interface TokenBudget {
  left: number;
  /** Set once the budget ran out and that was reported (later parses stay silent). */
  exhausted?: boolean;
}

/** A fresh budget of MAX_TOKENS tokens. */
export function createTokenBudget(): TokenBudget {
  return { left: MAX_TOKENS };
}

const ENDS_OPERAND = new Set([
  IntLiteral,
  FloatLiteral,
  StringLiteral,
  Identifier,
  KwTraining,
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
  const comment = lastBefore(comments, at);
  const before = lastBefore(tokens, at);
  if (!comment || !before || before.startOffset > comment.startOffset) return false;
  if (!ENDS_OPERAND.has(before.tokenType)) return false;
  return !/[\n\r]/.test(text.slice(tokenEnd(before), comment.startOffset));
}

/** The last token that starts before `at` (tokens are in text order), by binary search. */
function lastBefore(tokens: readonly IToken[], at: number): IToken | undefined {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((tokens[mid]?.startOffset ?? Infinity) < at) lo = mid + 1;
    else hi = mid;
  }
  return tokens[lo - 1];
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

/** The first token past MAX_NESTING levels of brackets and prefix operators, and what it nests too deeply. */
function tooDeep(tokens: readonly IToken[]): { token: IToken; message: string } | undefined {
  let depth = 0;
  let prefixes = 0;
  let previous: IToken | undefined;
  for (const token of tokens) {
    const type = token.tokenType;
    if (type === LParen || type === LBracket || type === LCurly) {
      depth++;
      if (depth > MAX_NESTING)
        return { token, message: `nesting is too deep (more than ${MAX_NESTING} levels)` };
    } else if (type === RParen || type === RBracket || type === RCurly) {
      depth = Math.max(0, depth - 1);
    }
    // `a - -b`: the first '-' after an operand is binary; every prefix operator after it nests one level.
    const prefix = type === KwNot || (type === Minus && !(previous && ENDS_OPERAND.has(previous.tokenType)));
    prefixes = prefix ? prefixes + 1 : 0;
    if (depth + prefixes > MAX_NESTING)
      return {
        token,
        message: `expression is nested too deeply (more than ${MAX_NESTING} levels of brackets and prefix operators)`,
      };
    previous = token;
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
  budget: TokenBudget = createTokenBudget(),
): ParserRun {
  const { tokens, problems, lineComments } = tokenize(text, entry === 'file' ? 'dsl' : 'expression');
  const last = tokens[tokens.length - 1];
  const spans = new SpanMaker(map, base, last ? tokenEnd(last) : 0);
  const diagnostics: Diagnostic[] = problems.map((p) =>
    error(codes.lex, p.message, spans.at(p.offset, p.endOffset)),
  );

  // Both checks are linear, before the parser (whose cost per token and per level is what they bound) runs.
  const deep = tooDeep(tokens);
  if (deep) {
    diagnostics.push(error(codes.syntax, deep.message, spans.token(deep.token)));
    return { cst: undefined, spans, diagnostics };
  }
  if (budget.exhausted) return { cst: undefined, spans, diagnostics: [] };
  if (tokens.length > budget.left) {
    budget.exhausted = true;
    const first = tokens[budget.left];
    const where = entry === 'file' ? 'one spec' : "one spec's expressions";
    const message = `${map.file}: more than ${MAX_TOKENS.toLocaleString('en-US')} tokens in ${where}`;
    return { cst: undefined, spans, diagnostics: [error('TOO_LARGE', message, spans.token(first))] };
  }
  budget.left -= tokens.length;

  let cst: CstNode | undefined;
  try {
    dslParser.input = tokens;
    cst = entry === 'file' ? dslParser.file() : dslParser.expression();
  } catch (e) {
    // A backstop: tooDeep keeps the recursion shallow, so the stack should never run out here.
    if (!(e instanceof RangeError)) throw e;
    diagnostics.push(error(codes.syntax, 'expression is nested too deeply', spans.at(spans.fallback)));
    return { cst: undefined, spans, diagnostics };
  }

  // After an error, recovery guesses; what it then trips over on the same line is an echo of the first error
  // (`conv(64 kernel = 3)` would also report `3` as a bad layer name), so keep one error per line.
  const firstOnLine = new Map<number, number>();
  const note = (d: Diagnostic): void => {
    if (!d.span) return;
    const known = firstOnLine.get(d.span.line);
    if (known === undefined || d.span.offset < known) firstOnLine.set(d.span.line, d.span.offset);
  };
  diagnostics.forEach(note);
  for (const e of dslParser.errors) {
    const span = isRealToken(e.token) ? spans.token(e.token) : spans.at(spans.fallback);
    const first = firstOnLine.get(span.line);
    if (first !== undefined && first <= span.offset) continue;
    const at = isRealToken(e.token) ? e.token.startOffset : Infinity;
    const hint = afterSuspiciousComment(text, tokens, lineComments, at) ? FLOOR_DIVISION_HINT : undefined;
    const d = error(codes.syntax, e.message, span, hint);
    diagnostics.push(d);
    note(d);
  }
  return { cst, spans, diagnostics };
}

/** Sorts diagnostics by position, keeping the order of those at the same place. */
export function byPosition(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => (a.span?.offset ?? 0) - (b.span?.offset ?? 0));
}

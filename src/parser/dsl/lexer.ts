/** Lexing with readable errors: `unexpected character '@'`, `unterminated string`, `unterminated comment`. */
import type { IToken } from 'chevrotain';
import { clip, MAX_DIAGNOSTICS } from '../../diagnostics.js';
import { BadString, dslLexer, expressionLexer, StringLiteral } from './tokens.js';

/** A lexing problem, in offsets relative to the lexed text. */
export interface LexProblem {
  readonly offset: number;
  readonly endOffset: number;
  readonly message: string;
}

/** Tokens ready for the parser, and every lexing problem. */
export interface LexResult {
  readonly tokens: IToken[];
  readonly problems: LexProblem[];
  /** The `//` comments, in order (the other comment styles are simply skipped). */
  readonly lineComments: IToken[];
}

function showCharacters(chars: string): string {
  const code = chars.codePointAt(0) ?? 0;
  if (chars.length === 1 && (code < 32 || code === 127))
    return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${clip(chars)}'`;
}

const VALID_ESCAPE = /^\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/;

/** Why a BadString token is bad, located as precisely as we can. */
function badStringProblem(token: IToken): LexProblem {
  const image = token.image;
  const start = token.startOffset;
  const closed = image.length >= 2 && image.endsWith('"') && !image.endsWith('\\"');
  if (closed) {
    for (let i = 1; i < image.length - 1; i++) {
      if (image[i] !== '\\') continue;
      const escape = image.slice(i);
      if (!VALID_ESCAPE.test(escape)) {
        const length = escape[1] === 'u' ? Math.min(6, image.length - 1 - i) : 2;
        return {
          offset: start + i,
          endOffset: start + i + length,
          message: `invalid escape '${image.slice(i, i + length)}' in string`,
        };
      }
      i++;
    }
  }
  return { offset: start, endOffset: start + image.length, message: 'unterminated string' };
}

/** Lexes a whole `.net` file (`mode` 'dsl') or one expression (`mode` 'expression', where `//` divides). */
export function tokenize(text: string, mode: 'dsl' | 'expression'): LexResult {
  const result = (mode === 'dsl' ? dslLexer : expressionLexer).tokenize(text);
  // Past MAX_DIAGNOSTICS nothing is shown (see limitDiagnostics); keeping two more lets it tell there were more.
  const problems: LexProblem[] = result.errors.slice(0, MAX_DIAGNOSTICS + 2).map((e) => {
    const chars = text.slice(e.offset, e.offset + e.length);
    const plural = [...chars].length > 1 ? 'characters' : 'character';
    return {
      offset: e.offset,
      endOffset: e.offset + e.length,
      message: `unexpected ${plural} ${showCharacters(chars)}`,
    };
  });
  for (const comment of result.groups['errors'] ?? []) {
    problems.push({
      offset: comment.startOffset,
      endOffset: comment.startOffset + 2,
      message: 'unterminated comment',
    });
  }
  const tokens = result.tokens.map((token) => {
    if (token.tokenType !== BadString) return token;
    problems.push(badStringProblem(token));
    // Parse on as if the string were fine, so one typo gives one error.
    return {
      ...token,
      tokenType: StringLiteral,
      tokenTypeIdx: StringLiteral.tokenTypeIdx ?? token.tokenTypeIdx,
    };
  });
  problems.sort((a, b) => a.offset - b.offset);
  return { tokens, problems, lineComments: result.groups['comments'] ?? [] };
}

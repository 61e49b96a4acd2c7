/** Turns token and CST positions (relative to the parsed text) into absolute Spans, never NaN. */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { LineMap, Span } from '../../diagnostics.js';

/** True for a CST child that is a token (the other kind is a nested rule node). */
export function isToken(element: CstElement): element is IToken {
  return 'image' in element;
}

/** True for tokens that stand for real text: chevrotain's EOF and tokens inserted by recovery have NaN offsets. */
export function isRealToken(token: IToken | undefined): token is IToken {
  return token !== undefined && Number.isFinite(token.startOffset) && !token.isInsertedInRecovery;
}

/** The relative offset just past `token` (the lexer tracks only start offsets). */
export function tokenEnd(token: IToken): number {
  return token.startOffset + token.image.length;
}

/**
 * Builds spans for one parse. Offsets from the lexer are relative to the parsed text, which starts at `base`
 * in the file `map` describes (0 for a whole file, the value's offset for a YAML expression). Positions that
 * chevrotain cannot give (end of input, recovered nodes with no tokens) fall back to `fallback`, the end of
 * the last real token, which is where something was missing.
 */
export class SpanMaker {
  private readonly ranges = new WeakMap<CstNode, readonly [number, number] | null>();

  constructor(
    private readonly map: LineMap,
    private readonly base: number,
    /** Relative offset used when no position is known. */
    readonly fallback: number,
  ) {}

  /** The span of relative offsets [start, end). */
  at(start: number, end: number = start): Span {
    const s = Number.isFinite(start) ? start : this.fallback;
    const e = Number.isFinite(end) ? Math.max(end, s) : s;
    return this.map.span(this.base + s, this.base + e);
  }

  /** The span of one token (chevrotain's endOffset is inclusive), or the fallback for a virtual token. */
  token(token: IToken | undefined): Span {
    if (!isRealToken(token)) return this.at(this.fallback);
    return this.at(token.startOffset, tokenEnd(token));
  }

  /** The relative [start, end) covered by the real tokens under `node`, or undefined when it has none. */
  range(node: CstNode): readonly [number, number] | undefined {
    const cached = this.ranges.get(node);
    if (cached !== undefined) return cached ?? undefined;
    let start = Infinity;
    let end = -Infinity;
    for (const children of Object.values(node.children)) {
      for (const child of children) {
        let r: readonly [number, number] | undefined;
        if (isToken(child)) {
          r = isRealToken(child) ? [child.startOffset, tokenEnd(child)] : undefined;
        } else {
          r = this.range(child);
        }
        if (r) {
          start = Math.min(start, r[0]);
          end = Math.max(end, r[1]);
        }
      }
    }
    const result = Number.isFinite(start) ? ([start, end] as const) : undefined;
    this.ranges.set(node, result ?? null);
    return result;
  }

  /** The span of everything under `node`. */
  node(node: CstNode): Span {
    const r = this.range(node);
    return r ? this.at(r[0], r[1]) : this.at(this.fallback);
  }

  /** The span from the start of `first` to the end of `last` (CST nodes or tokens). */
  between(first: CstNode | IToken, last: CstNode | IToken): Span {
    const a = this.rangeOf(first);
    const b = this.rangeOf(last);
    if (!a && !b) return this.at(this.fallback);
    const start = a ? a[0] : (b?.[0] ?? this.fallback);
    const end = b ? b[1] : (a?.[1] ?? this.fallback);
    return this.at(start, end);
  }

  private rangeOf(element: CstNode | IToken): readonly [number, number] | undefined {
    if (isToken(element)) {
      return isRealToken(element) ? [element.startOffset, tokenEnd(element)] : undefined;
    }
    return this.range(element);
  }
}

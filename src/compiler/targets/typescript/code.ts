/**
 * Safe spelling of values in generated TypeScript: every string becomes a JSON string literal (plus the two
 * line terminators JSON leaves raw), every identifier is sanitized and made unique, every number round-trips.
 */

/** A TypeScript string literal for `s`, safe anywhere an expression may stand (also inside line comments' neighbours). */
export function tsString(s: string): string {
  // JSON leaves U+2028/U+2029 raw; they are line terminators in older JS parsers and end a `//` comment.
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A number literal that parses back to exactly `n`. */
export function tsNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`typescript target: cannot spell the number ${n}`);
  return Object.is(n, -0) ? '-0' : JSON.stringify(n);
}

/** Text safe inside a `//` comment: plain names as they are, anything else as an escaped string literal. */
export function commentText(s: string): string {
  return /^[A-Za-z0-9_.\- ]*$/.test(s) ? s : tsString(s);
}

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'as implements interface let package private protected public static yield await async of type any boolean ' +
    'constructor declare get module require number set string symbol from global never object unknown keyof ' +
    'readonly infer is satisfies arguments eval undefined NaN Infinity'
  ).split(' '),
);

/** Hands out valid, unique identifiers derived from arbitrary names, in call order (so deterministic). */
export class IdentifierPool {
  private readonly used = new Set<string>();

  /** `taken` are names the surrounding code already uses (imports, exports, locals). */
  constructor(taken: Iterable<string> = []) {
    for (const t of taken) this.used.add(t);
  }

  /** A fresh identifier resembling `name`: invalid characters become '_', clashes get a numeric suffix. */
  claim(name: string): string {
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (base === '' || /^[0-9]/.test(base)) base = `_${base}`;
    if (RESERVED.has(base)) base = `${base}_`;
    let id = base;
    for (let i = 2; this.used.has(id); i++) id = `${base}_${i}`;
    this.used.add(id);
    return id;
  }
}

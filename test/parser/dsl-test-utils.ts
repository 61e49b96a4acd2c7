/** Shared helpers for the DSL front-end tests. */
import type { Span } from '../../src/diagnostics.js';

/** A deep copy of `value` without spans or the file name, for comparing ASTs modulo positions. */
export function stripSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSpans);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === 'span' || key.endsWith('Span') || key === 'file') continue;
      out[key] = stripSpans(v);
    }
    return out;
  }
  return value;
}

/** Every Span found anywhere inside `value` (AST nodes and diagnostics alike). */
export function collectSpans(value: unknown, out: Span[] = []): Span[] {
  if (Array.isArray(value)) for (const v of value) collectSpans(v, out);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record['offset'] === 'number' && typeof record['endOffset'] === 'number')
      out.push(record as unknown as Span);
    else for (const v of Object.values(record)) collectSpans(v, out);
  }
  return out;
}

/** True when a span is well-formed and inside a text of length `length` (starting at `base`). */
export function spanIsValid(span: Span, length: number, base = 0): boolean {
  return (
    Number.isInteger(span.offset) &&
    Number.isInteger(span.endOffset) &&
    span.offset >= base &&
    span.offset <= span.endOffset &&
    span.endOffset <= base + length &&
    Number.isInteger(span.line) &&
    span.line >= 1 &&
    Number.isInteger(span.col) &&
    span.col >= 1
  );
}

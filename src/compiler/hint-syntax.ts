/**
 * Hints quote code in the syntax of the file they point into: a hint in a `.yaml` spec shows YAML
 * (`conv: {out: 64, kernel: 3}`), one in a `.net` spec the DSL (`conv(out = 64, kernel = 3)`), so that a person can
 * copy what a hint says. The syntax is the span's file's (an `extends` chain may mix the two).
 */
import type { Span } from '../diagnostics.js';

/** The two spec syntaxes. */
export type SpecSyntax = 'yaml' | 'dsl';

/** The syntax of the file `span` is in: `.net` files are the DSL, everything else YAML. */
export function syntaxOf(span: Span | undefined): SpecSyntax {
  return span && /\.net$/i.test(span.file) ? 'dsl' : 'yaml';
}

/** One argument as written: `out: 64` (YAML) or `out = 64` (DSL); `value` is already in that syntax. */
export function argText(syntax: SpecSyntax, name: string, value: string): string {
  return syntax === 'dsl' ? `${name} = ${value}` : `${name}: ${value}`;
}

/**
 * A call as written: `conv: {out: 64, kernel: 3}` / `conv(out = 64, kernel = 3)`, `relu` / `relu()`; `args` are
 * pairs of a name and a value in that syntax.
 */
export function callText(
  syntax: SpecSyntax,
  callee: string,
  args: readonly (readonly [string, string])[] = [],
): string {
  const parts = args.map(([n, v]) => argText(syntax, n, v));
  if (syntax === 'dsl') return `${callee}(${parts.join(', ')})`;
  return parts.length === 0 ? callee : `${callee}: {${parts.join(', ')}}`;
}

/** A string value as written: `same` in YAML (a plain scalar), `"same"` in the DSL. */
export function stringText(syntax: SpecSyntax, value: string): string {
  return syntax === 'dsl' ? JSON.stringify(value) : value;
}

/** Diagnostics are data: every phase returns them, the CLI renders them. Nothing here prints or throws. */

/** A position range in one source file; `line` and `col` are 1-based, offsets are 0-based UTF-16 indices. */
export interface Span {
  readonly file: string;
  readonly offset: number;
  readonly endOffset: number;
  readonly line: number;
  readonly col: number;
}

/** The closed set of diagnostic codes; tests and docs refer to them by these names. */
export type DiagnosticCode =
  // syntax
  | 'YAML_SYNTAX'
  | 'YAML_DUPLICATE_KEY'
  | 'YAML_ALIAS_LIMIT'
  | 'YAML_FORBIDDEN_KEY'
  | 'DSL_LEX'
  | 'DSL_SYNTAX'
  | 'EXPR_SYNTAX'
  // structure (JSON Schema)
  | 'SCHEMA'
  | 'UNKNOWN_KEY'
  | 'MISSING_KEY'
  | 'WRONG_TYPE'
  // names
  | 'UNKNOWN_LAYER'
  | 'UNKNOWN_ARGUMENT'
  | 'UNKNOWN_BLOCK'
  | 'UNKNOWN_PARAMETER'
  | 'DUPLICATE_NAME'
  | 'DUPLICATE_ARGUMENT'
  | 'MISSING_ARGUMENT'
  | 'TOO_MANY_ARGUMENTS'
  // values
  | 'BAD_VALUE'
  | 'NON_POSITIVE'
  | 'NOT_INTEGER'
  | 'DIVISION_BY_ZERO'
  // shapes
  | 'KERNEL_TOO_LARGE'
  | 'SHAPE_MISMATCH'
  | 'NOT_FLAT'
  | 'BAD_INPUT_SHAPE'
  | 'TOO_LARGE'
  // files and variants
  | 'EXTENDS_CYCLE'
  | 'EXTENDS_NOT_FOUND'
  | 'FILE_NOT_FOUND'
  | 'UNKNOWN_FORMAT'
  | 'SET_SYNTAX'
  | 'SET_UNKNOWN_PARAMETER';

/** One finding about the user's input. `span` is absent only for findings without a source (e.g. a missing file). */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly span?: Span;
  readonly hint?: string;
}

/** Builds an error diagnostic; `hint` and `span` are optional. */
export function error(code: DiagnosticCode, message: string, span?: Span, hint?: string): Diagnostic {
  return {
    code,
    severity: 'error',
    message,
    ...(span ? { span } : {}),
    ...(hint !== undefined ? { hint } : {}),
  };
}

/** True when any diagnostic is an error (warnings never stop a pipeline). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Maps 0-based offsets in `text` to 1-based line/column; build once per file. */
export class LineMap {
  private readonly starts: number[] = [0];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  /** The span covering [offset, endOffset) of this file, clamped into the text. */
  span(offset: number, endOffset: number = offset): Span {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const e = Math.max(o, Math.min(endOffset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= o) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, offset: o, endOffset: e, line: lo + 1, col: o - (this.starts[lo] ?? 0) + 1 };
  }

  /** The text of 1-based line `line`, without its newline. */
  lineText(line: number): string {
    const start = this.starts[line - 1];
    if (start === undefined) return '';
    const next = this.starts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/** Edit distance with adjacent transpositions (optimal string alignment), for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++)
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  return at(a.length, b.length);
}

/** A "did you mean 'x'?" hint when a close candidate exists, else undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= limit ? `did you mean '${best}'?` : undefined;
}

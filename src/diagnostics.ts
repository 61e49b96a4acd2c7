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
  | 'YAML_MERGE_KEY'
  | 'YAML_VERSION'
  | 'YAML_MULTIPLE_DOCUMENTS'
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
  | 'UNKNOWN_MERGE'
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
  | 'EXTENDS_TOO_DEEP'
  | 'EXTENDS_NOT_FOUND'
  | 'EXTENDS_UNREADABLE'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'UNKNOWN_FORMAT'
  | 'SET_SYNTAX'
  | 'SET_UNKNOWN_PARAMETER'
  // training settings (the spec's `training:` section and `--set training.<key>=`)
  | 'UNKNOWN_TRAINING_KEY'
  | 'TRAINING_VALUE'
  | 'TRAINING_GROUP'
  | 'DUPLICATE_TRAINING_KEY'
  // reporting
  | 'TOO_MANY_ERRORS';

/** One finding about the user's input. `span` is absent only for findings without a source (e.g. a missing file). */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly span?: Span;
  readonly hint?: string;
  /** Other places the finding involves (the call of the block whose merge fails), each with a short note. */
  readonly related?: readonly { readonly span: Span; readonly message: string }[];
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

/** Most diagnostics one spec reports; a hostile file can hold millions of errors, and a person reads the first. */
export const MAX_DIAGNOSTICS = 100;

/**
 * The first MAX_DIAGNOSTICS of `diagnostics` (in their order), and one TOO_MANY_ERRORS error where the first left
 * out was, when there were more.
 */
export function limitDiagnostics(diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
  if (diagnostics.length <= MAX_DIAGNOSTICS + 1) return diagnostics;
  const first = diagnostics[MAX_DIAGNOSTICS];
  return [
    ...diagnostics.slice(0, MAX_DIAGNOSTICS),
    error(
      'TOO_MANY_ERRORS',
      `more than ${MAX_DIAGNOSTICS} problems; only the first ${MAX_DIAGNOSTICS} are shown`,
      first?.span,
    ),
  ];
}

/** True when any diagnostic is an error (warnings never stop a pipeline). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/**
 * Maps 0-based offsets in `text` to 1-based line/column; build once per file. Lines end at `\r\n`, `\n` or a lone
 * `\r` (YAML 1.2's line breaks; the YAML front end reads a lone `\r` as a newline too). A byte-order mark at the
 * start takes no column: offsets still count it (they index the text), but line 1 starts after it.
 */
export class LineMap {
  private readonly starts: number[] = [0];
  private readonly bom: number;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
    this.bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  }

  /** The span covering [offset, endOffset) of this file, clamped into the text. */
  span(offset: number, endOffset: number = offset): Span {
    const o = Math.max(0, Math.min(offset, this.text.length));
    const e = Math.max(o, Math.min(endOffset, this.text.length));
    const line = this.lineOf(o);
    const start = (this.starts[line - 1] ?? 0) + (line === 1 ? this.bom : 0);
    return { file: this.file, offset: o, endOffset: e, line, col: Math.max(1, o - start + 1) };
  }

  /** The 1-based line holding offset `offset`. */
  private lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The offset where the text of 1-based line `line` starts (after a byte-order mark on line 1). */
  lineStart(line: number): number {
    return (this.starts[line - 1] ?? this.text.length) + (line === 1 ? this.bom : 0);
  }

  /** The text of 1-based line `line`, without its line break (and without a byte-order mark). */
  lineText(line: number): string {
    const start = this.starts[line - 1];
    if (start === undefined) return '';
    const next = this.starts[line];
    let end = next ?? this.text.length;
    if (next !== undefined) {
      end--;
      if (this.text.charCodeAt(end) === 10 && this.text.charCodeAt(end - 1) === 13) end--;
    }
    return this.text.slice(start + (line === 1 ? this.bom : 0), end);
  }
}

/** Most characters of user text (a name, a number, a value) a message quotes; see `clip`. */
export const MAX_QUOTED = 60;

/**
 * User text as a message quotes it: at most `max` characters (a longer text is cut, with `…` and its length), and
 * control characters escaped (`\n`, `\u001b`) so that a message stays on one line whatever a spec holds.
 */
export function clip(text: string, max: number = MAX_QUOTED): string {
  let shown = text;
  if (text.length > max) {
    let cut = Math.max(1, max - 1);
    // Never split a surrogate pair.
    const last = text.charCodeAt(cut - 1);
    if (last >= 0xd800 && last <= 0xdbff) cut--;
    shown = `${text.slice(0, cut)}… (${text.length.toLocaleString('en-US')} characters)`;
  }
  return shown.replace(CONTROL, escapeControl);
}

const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;
const NAMED_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControl(c: string): string {
  return NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
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

/** Names longer than this get no "did you mean" hint. */
const MAX_HINT_LENGTH = 200;

/** A "did you mean 'x'?" hint when a close candidate exists, else undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  // Hints are for typos in names a person types; the table below is |name| x |candidate|.
  if (name.length > MAX_HINT_LENGTH) return undefined;
  const lowered = name.toLowerCase();
  for (const c of candidates) {
    if (c.length > MAX_HINT_LENGTH) continue;
    // The distance is at least the difference in length, and a hint needs it within a third of the longer
    // name: skipping hopeless pairs keeps a megabyte-long name from costing a megabyte-sized table.
    if (Math.abs(name.length - c.length) > Math.max(1, Math.floor(Math.max(name.length, c.length) / 3)))
      continue;
    const d = editDistance(lowered, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= limit ? `did you mean '${best}'?` : undefined;
}

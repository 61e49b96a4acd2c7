/**
 * The compiler's diagnostics as the editor shows them on one document: its code and severity, the hint as the
 * message's last line(s) (`hint: ...`), and call-site notes as related information.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Span } from '../diagnostics.js';
import type { Analysis } from './analysis.js';
import { LineStarts, type TextRange } from './positions.js';

/** A place in some file, as the protocol's `Location` (a file URI and a range). */
export interface FileLocation {
  readonly uri: string;
  readonly range: TextRange;
}

/** One diagnostic as the protocol publishes it; severity 1 is an error, 2 a warning. */
export interface EditorDiagnostic {
  readonly range: TextRange;
  readonly severity: 1 | 2;
  readonly code: string;
  readonly source: 'netspec';
  readonly message: string;
  readonly relatedInformation?: readonly { readonly location: FileLocation; readonly message: string }[];
}

/** The file URI of an absolute path. */
export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

/**
 * Maps spans of the analysis's files (the document and whatever it extends, as read for the compilation) to
 * protocol locations.
 */
export class SpanMapper {
  private readonly lines = new Map<string, LineStarts>();

  constructor(private readonly analysis: Analysis) {}

  /** The line table of `file` (the document, or a source the compilation read; empty when unknown). */
  linesOf(file: string): LineStarts {
    const key = path.resolve(file);
    let lines = this.lines.get(key);
    if (!lines) {
      const text =
        key === this.analysis.file
          ? this.analysis.text
          : (this.analysis.compiled.sources.get(file) ?? this.analysis.compiled.sources.get(key) ?? '');
      lines = new LineStarts(text);
      this.lines.set(key, lines);
    }
    return lines;
  }

  /** The range of `span` in its own file. */
  range(span: Span): TextRange {
    return this.linesOf(span.file).range(span.offset, span.endOffset);
  }

  /** The location of `span`. */
  location(span: Span): FileLocation {
    return { uri: fileUri(path.resolve(span.file)), range: this.range(span) };
  }

  /** True when `span` lies in the document itself. */
  inDocument(span: Span): boolean {
    return path.resolve(span.file) === this.analysis.file;
  }
}

/**
 * The diagnostics to show on the analysis's document. One found in another file (a parent it extends) is shown at
 * the document's `extends` (its message starts with `parent.net:12:5:`, and its related information points there);
 * one without a place (an unreadable file) at the start of the document.
 */
export function editorDiagnostics(analysis: Analysis): EditorDiagnostic[] {
  const mapper = new SpanMapper(analysis);
  const extendsSpan = analysis.parsed.ast?.extends?.span;
  const top: TextRange = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return analysis.compiled.diagnostics.map((d) => {
    const span = d.span;
    const here = span !== undefined && mapper.inDocument(span);
    const range = here ? mapper.range(span) : extendsSpan ? mapper.range(extendsSpan) : top;
    const related = (d.related ?? []).map((r) => ({ location: mapper.location(r.span), message: r.message }));
    let message = d.message;
    if (span && !here) {
      const at = mapper.range(span).start;
      const shown = path.relative(path.dirname(analysis.file), path.resolve(span.file));
      message = `${shown}:${at.line + 1}:${at.character + 1}: ${message}`;
      related.unshift({ location: mapper.location(span), message: 'the problem is here' });
    }
    return {
      range,
      severity: d.severity === 'error' ? 1 : 2,
      code: d.code,
      source: 'netspec',
      message: withHint(message, d),
      ...(related.length ? { relatedInformation: related } : {}),
    };
  });
}

/** `message`, then the hint's lines (`hint: ...`), as the command line renders them. */
function withHint(message: string, d: Diagnostic): string {
  if (d.hint === undefined) return message;
  const lines = d.hint.split('\n');
  return [message, ...lines.map((l, i) => (i === 0 ? `hint: ${l}` : `      ${l}`))].join('\n');
}

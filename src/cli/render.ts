/** Renders diagnostics for a terminal: `file:line:col: error CODE: message`, the source line, a caret, a hint. */
import { clip, LineMap, type Diagnostic, type Span } from '../diagnostics.js';

/** Most columns of a source line shown; a longer line is shown as a window around the span, cut with `…`. */
export const MAX_SOURCE_COLUMNS = 120;
/** Most characters of a message or hint shown (they quote user text only through `clip`, so this is a backstop). */
export const MAX_MESSAGE_LENGTH = 2000;

/** Formats each diagnostic with its source line when the source is known. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): string {
  const maps = new Map<string, LineMap>();
  const out: string[] = [];
  const source = (span: Span): void => {
    const text = sources.get(span.file);
    if (text === undefined) return;
    let map = maps.get(span.file);
    if (!map) {
      map = new LineMap(span.file, text);
      maps.set(span.file, map);
    }
    const line = map.lineText(span.line);
    const caretStart = Math.min(Math.max(0, span.col - 1), line.length);
    const width = Math.max(1, Math.min(span.endOffset - span.offset, line.length - caretStart));
    const shown = sourceWindow(line, caretStart, width);
    const gutter = `${span.line} | `;
    out.push(`${gutter}${shown.text}`);
    out.push(`${' '.repeat(gutter.length - 2)}| ${' '.repeat(shown.caret)}${'^'.repeat(shown.width)}`);
  };
  for (const d of diagnostics) {
    const span = d.span;
    const message = clip(d.message, MAX_MESSAGE_LENGTH);
    if (!span) {
      out.push(`${d.severity} ${d.code}: ${message}`);
    } else {
      out.push(`${span.file}:${span.line}:${span.col}: ${d.severity} ${d.code}: ${message}`);
      source(span);
    }
    // A related place (the call of a block whose merge fails) is shown as a note with its own source line.
    for (const r of d.related ?? []) {
      out.push(`${r.span.file}:${r.span.line}:${r.span.col}: note: ${clip(r.message, MAX_MESSAGE_LENGTH)}`);
      source(r.span);
    }
    // A hint may hold an example of several lines (its own line breaks; user text in it went through clip, which
    // escapes theirs): each line is shown under the first, indented, and clipped on its own.
    if (d.hint)
      d.hint
        .split('\n')
        .forEach((l, i) => out.push(`${i === 0 ? '  hint: ' : '        '}${clip(l, MAX_MESSAGE_LENGTH)}`));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/**
 * At most MAX_SOURCE_COLUMNS columns of `line` around the caret at column `caret` (0-based) of `width`, with `…`
 * where the line was cut, and the caret's position and width within what is shown. Control characters (a raw
 * escape, a tab) are shown as one space each so the caret stays under its character and nothing reaches the
 * terminal as a control sequence.
 */
function sourceWindow(
  line: string,
  caret: number,
  width: number,
): { text: string; caret: number; width: number } {
  const clean = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ');
  if (line.length <= MAX_SOURCE_COLUMNS) return { text: clean(line), caret, width };
  // Keep some context before the caret; what remains of the window shows the span and what follows it.
  const before = Math.min(caret, 40);
  let start = caret - before;
  const end = Math.min(line.length, start + MAX_SOURCE_COLUMNS);
  if (end === line.length) start = Math.max(0, end - MAX_SOURCE_COLUMNS);
  const head = start > 0 ? '…' : '';
  const tail = end < line.length ? '…' : '';
  const shownCaret = head.length + (caret - start);
  const shownWidth = Math.max(1, Math.min(width, end - caret));
  return { text: head + clean(line.slice(start, end)) + tail, caret: shownCaret, width: shownWidth };
}

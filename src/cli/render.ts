/** Renders diagnostics for a terminal: `file:line:col: error CODE: message`, the source line, a caret, a hint. */
import { LineMap, type Diagnostic } from '../diagnostics.js';

/** Formats each diagnostic with its source line when the source is known. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
): string {
  const maps = new Map<string, LineMap>();
  const out: string[] = [];
  for (const d of diagnostics) {
    const span = d.span;
    if (!span) {
      out.push(`${d.severity} ${d.code}: ${d.message}`);
    } else {
      out.push(`${span.file}:${span.line}:${span.col}: ${d.severity} ${d.code}: ${d.message}`);
      const text = sources.get(span.file);
      if (text !== undefined) {
        let map = maps.get(span.file);
        if (!map) {
          map = new LineMap(span.file, text);
          maps.set(span.file, map);
        }
        const line = map.lineText(span.line);
        const gutter = `${span.line} | `;
        const width = Math.max(1, Math.min(span.endOffset - span.offset, line.length - span.col + 1));
        out.push(`${gutter}${line}`);
        out.push(
          `${' '.repeat(gutter.length - 2)}| ${' '.repeat(Math.max(0, span.col - 1))}${'^'.repeat(width)}`,
        );
      }
    }
    if (d.hint) out.push(`  hint: ${d.hint}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

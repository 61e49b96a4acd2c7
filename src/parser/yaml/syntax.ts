/**
 * One YAML syntax error in plain words. The yaml package reports a mis-indented line as several errors about
 * implicit keys, often with the position on the line before; a person needs to hear which line is indented how
 * far and how far its siblings are. `findLayoutProblem` reads the lines of the text as block YAML does (levels of
 * indentation, sequence items and keys, flow brackets, block scalars) and names the first line that breaks the
 * layout; `explainSyntaxError` uses it when it lies no later than the parser's first error, and otherwise words
 * that error.
 */
import type { LineMap, Span } from '../../diagnostics.js';
import { clip } from '../../diagnostics.js';

/** A layout problem: where, what is wrong, and the expected form. */
export interface LayoutProblem {
  readonly offset: number;
  readonly endOffset: number;
  readonly line: number;
  readonly message: string;
  readonly hint: string;
}

/** One level of block structure: a sequence's `-` column or a map's key column, and a line that has it. */
interface Level {
  readonly indent: number;
  readonly kind: 'seq' | 'map';
  line: number;
}

/** A line of the text as block YAML sees it. */
interface LineInfo {
  readonly line: number;
  readonly start: number;
  readonly indent: number;
  /** The text after the indentation, without a trailing comment. */
  readonly body: string;
}

const spaces = (n: number): string => `${n} space${n === 1 ? '' : 's'}`;

/**
 * `- a`, `- - a`, `- key: v` → the levels the line opens, from its indentation inward, and what its innermost
 * value is: `open` when it ends with `key:` or `-` (the value follows on the next lines), `scalar` when it is a
 * bare value with no `key:` (a missing colon, or a continued scalar), `value` otherwise.
 */
function shape(
  body: string,
  indent: number,
): { levels: { indent: number; kind: 'seq' | 'map' }[]; ends: 'open' | 'scalar' | 'value' } {
  const levels: { indent: number; kind: 'seq' | 'map' }[] = [];
  let rest = body;
  let col = indent;
  for (;;) {
    const dash = /^-(?:[ \t]+|$)/.exec(rest);
    if (!dash) break;
    levels.push({ indent: col, kind: 'seq' });
    col += dash[0].length;
    rest = rest.slice(dash[0].length);
    if (rest === '') return { levels, ends: 'open' };
  }
  const key = keyEnd(rest);
  // `- stem` and `name n` are bare values: a missing colon when more-indented lines follow.
  if (key === undefined) return { levels, ends: /^[[{"'&*!]/.test(rest) ? 'value' : 'scalar' };
  levels.push({ indent: col, kind: 'map' });
  const value = rest.slice(key + 1).trim();
  if (value === '' || /^[|>][-+0-9]*$/.test(value) || /^[&!]\S*$/.test(value))
    return { levels, ends: 'open' };
  return { levels, ends: 'value' };
}

/** The index of the `:` that ends a plain or quoted key at the start of `text` (outside brackets), or undefined. */
function keyEnd(text: string): number | undefined {
  if (/^[[{]/.test(text)) return undefined;
  let i = 0;
  if (text[0] === '"' || text[0] === "'") {
    const q = text[0];
    i = 1;
    while (i < text.length && text[i] !== q) i += text[i] === '\\' && q === '"' ? 2 : 1;
    i++;
  }
  for (; i < text.length; i++) {
    if (text[i] === ':' && (i + 1 === text.length || text[i + 1] === ' ' || text[i + 1] === '\t')) return i;
    if (text[i] === ' ' && text[i + 1] === '#') return undefined;
  }
  return undefined;
}

/** `text` without a trailing ` # comment` (outside quotes), and the flow brackets it opens and closes. */
function scanLine(text: string, from: number, open: { char: string; offset: number }[]): { code: string } {
  let quote: string | undefined;
  let end = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      end = i;
      break;
    }
    // A quote opens a string only where a value starts (`it's` is plain text).
    if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1] ?? ''))) quote = c;
    else if (c === '[' || c === '{') open.push({ char: c, offset: from + i });
    else if ((c === ']' || c === '}') && open.length > 0) open.pop();
  }
  return { code: text.slice(0, end).trimEnd() };
}

/** The first line of `text` that breaks block YAML's layout, or undefined. */
export function findLayoutProblem(map: LineMap): LayoutProblem | undefined {
  const text = map.text;
  const lines: LineInfo[] = [];
  const open: { char: string; offset: number }[] = [];
  let flowLine: LineInfo | undefined;
  let blockScalarIndent: number | undefined;
  for (let n = 1; ; n++) {
    const start = map.lineStart(n);
    if (start >= text.length && n > 1) break;
    const raw = map.lineText(n);
    const lead = /^[ \t]*/.exec(raw)?.[0] ?? '';
    const content = raw.slice(lead.length);
    const blank = content === '' || content.startsWith('#');
    if (blockScalarIndent !== undefined) {
      if (blank || lead.length > blockScalarIndent) continue;
      blockScalarIndent = undefined;
    }
    if (open.length > 0 && flowLine) {
      // A flow collection may go on over lines indented more than the line it starts on.
      if (blank) continue;
      if (lead.length > flowLine.indent) {
        scanLine(content, start + lead.length, open);
        continue;
      }
      const opener = open[open.length - 1];
      if (opener) return unclosed(map, opener);
    }
    if (blank || /^(---|\.\.\.)(\s|$)/.test(content) || content.startsWith('%')) continue;
    const tab = lead.indexOf('\t');
    if (tab >= 0)
      return {
        offset: start + tab,
        endOffset: start + lead.length,
        line: n,
        message: 'this line is indented with a tab; YAML indents with spaces only',
        hint: 'replace the tab with spaces, as many as the lines it belongs with have',
      };
    const info: LineInfo = { line: n, start, indent: lead.length, body: '' };
    const { code } = scanLine(content, start + lead.length, open);
    const line: LineInfo = { ...info, body: code };
    lines.push(line);
    if (open.length > 0) flowLine = line;
    if (/(?:^|[\s:-])[|>][-+0-9]*$/.test(code)) blockScalarIndent = lead.length;
  }
  const last = open[open.length - 1];
  if (last) return unclosed(map, last);
  return checkIndentation(map, lines);
}

function unclosed(map: LineMap, opener: { char: string; offset: number }): LayoutProblem {
  const close = opener.char === '[' ? ']' : '}';
  const what = opener.char === '[' ? 'flow list' : 'flow map';
  return {
    offset: opener.offset,
    endOffset: opener.offset + 1,
    line: map.span(opener.offset).line,
    message: `this '${opener.char}' is never closed: a ${what} ends with '${close}'`,
    hint: `add '${close}' at the end of the ${what} (it may go on over lines indented more than its first line)`,
  };
}

/** Checks each line's indentation against the levels open above it. */
function checkIndentation(map: LineMap, lines: readonly LineInfo[]): LayoutProblem | undefined {
  const stack: Level[] = [];
  let prev: { info: LineInfo; ends: 'open' | 'scalar' | 'value' } | undefined;
  for (const info of lines) {
    const s = shape(info.body, info.indent);
    const kind = s.levels[0]?.kind;
    const i = info.indent;
    const all = [...stack];
    while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) > i) stack.pop();
    const top = stack[stack.length - 1];
    const opens = prev?.ends === 'open';
    let ok: boolean;
    if (kind === undefined) {
      // A bare value: the continuation of a plain scalar (indented more), or a key without its colon.
      const atKeys = top !== undefined && top.indent === i && top.kind === 'map';
      if (atKeys || (stack.length === 0 && prev !== undefined)) return missingColon(map, info);
      ok = true;
    } else if (top && top.indent === i) {
      if (top.kind === kind) ok = true;
      else if (kind === 'map') {
        // A key after a sequence at its own indentation (`key:` / `- a` / `key2:`): back to the map below it.
        const below = stack[stack.length - 2];
        ok = below !== undefined && below.indent === i && below.kind === 'map';
        if (ok) stack.pop();
      } else ok = opens && prev?.info.indent === i; // `key:` then `- item` at the key's own indentation
    } else if (top === undefined || i > top.indent) {
      ok = opens || stack.length === 0;
    } else ok = false;
    if (!ok) {
      if (prev && prev.ends === 'scalar' && i > prev.info.indent) return missingColon(map, prev.info, true);
      return misindented(map, info, kind ?? 'map', all);
    }
    for (const level of s.levels) {
      const t = stack[stack.length - 1];
      if (t && t.indent === level.indent && t.kind === level.kind) t.line = info.line;
      else stack.push({ ...level, line: info.line });
    }
    prev = { info, ends: s.ends };
  }
  return undefined;
}

function misindented(
  map: LineMap,
  info: LineInfo,
  kind: 'seq' | 'map',
  levels: readonly Level[],
): LayoutProblem {
  const same = levels.filter((l) => l.kind === kind);
  const pool = same.length > 0 ? same : levels;
  let best: Level | undefined;
  for (const l of pool)
    if (!best || Math.abs(l.indent - info.indent) < Math.abs(best.indent - info.indent)) best = l;
  const what = kind === 'seq' ? 'list items' : 'keys';
  const start = info.start + info.indent;
  const span = { offset: start, endOffset: start + Math.max(1, info.body.length) };
  if (!best)
    return {
      ...span,
      line: info.line,
      message: `this line is indented ${spaces(info.indent)}, but nothing above it opens a nested block`,
      hint: 'indent it as the lines it belongs with',
    };
  const example = `${' '.repeat(best.indent)}${info.body}`;
  return {
    ...span,
    line: info.line,
    message: `this line is indented ${spaces(info.indent)}, its sibling ${what} ${best.indent} (line ${best.line}); YAML reads the structure from the indentation`,
    hint: `indent it ${spaces(best.indent)}, as line ${best.line}:\n  ${clip(example, 100)}`,
  };
}

function missingColon(map: LineMap, info: LineInfo, holdsBelow = false): LayoutProblem {
  const body = info.body.replace(/^-\s+/, '');
  const at = info.start + info.indent + (info.body.length - body.length);
  const word = /^\S+/.exec(body)?.[0] ?? body;
  const rest = body.slice(word.length).trim();
  const fixed = `${word}:${rest ? ` ${rest}` : ''}`;
  return {
    offset: at,
    endOffset: at + Math.max(1, word.length),
    line: info.line,
    message: holdsBelow
      ? `'${clip(word)}' has no ':', so the more-indented lines below cannot belong to it`
      : `expected 'key: value', found '${clip(body)}' without a ':'`,
    hint: `write '${clip(fixed)}'`,
  };
}

/** One YAML syntax error from yaml's errors: the layout problem when there is one, else the first in words. */
export function explainSyntaxError(
  map: LineMap,
  first: { readonly message: string; readonly code: string; readonly pos: readonly [number, number] },
): { span: Span; message: string; hint?: string } {
  const errorLine = map.span(first.pos[0]).line;
  const layout = findLayoutProblem(map);
  if (layout && layout.line <= errorLine + 1)
    return { span: map.span(layout.offset, layout.endOffset), message: layout.message, hint: layout.hint };
  if (first.code === 'MISSING_CHAR' && /quote/i.test(first.message)) {
    const opened = unclosedQuote(map, errorLine, first.message.includes('"') ? '"' : "'");
    if (opened !== undefined)
      return {
        span: map.span(opened),
        message: 'this quoted string is never closed',
        hint: `end it with the same quote (${first.message.includes('"') ? '"' : "'"}) on this line`,
      };
  }
  return { span: map.span(first.pos[0], first.pos[1]), message: inWords(first) };
}

/** The offset of the quote that opens a string never closed, on a line up to `last`, or undefined. */
function unclosedQuote(map: LineMap, last: number, quote: string): number | undefined {
  for (let n = 1; n <= last; n++) {
    const text = map.lineText(n);
    const m = new RegExp(`(^|[\\s:\\[{,-])${quote}`).exec(text);
    if (!m) continue;
    const at = m.index + m[1]!.length;
    const rest = text.slice(at + 1);
    const closed = quote === '"' ? /(^|[^\\])"/.test(rest) : rest.replace(/''/g, '').includes("'");
    if (!closed) return map.lineStart(n) + at;
  }
  return undefined;
}

/** yaml's message for its error codes, said for a person who writes specs. */
function inWords(e: { readonly message: string; readonly code: string }): string {
  const m = e.message.split('\n')[0] ?? e.message;
  switch (e.code) {
    case 'BAD_DQ_ESCAPE':
      return `${m} in a double-quoted string (write \\\\ for a backslash, or use single quotes)`;
    case 'MISSING_CHAR':
      return /quote/i.test(m) ? `this quoted string is never closed (${m})` : m;
    case 'TAB_AS_INDENT':
      return 'this line is indented with a tab; YAML indents with spaces only';
    case 'MULTILINE_IMPLICIT_KEY':
      return `a key must be on one line and end with ':' (${m})`;
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `a list cannot be a key: check the indentation of this line and the one above (${m})`;
    case 'UNEXPECTED_TOKEN':
      if (/flow-seq-end|flow-map-end/.test(m)) {
        const c = m.includes('seq') ? ']' : '}';
        return `this '${c}' closes nothing: no '${c === ']' ? '[' : '{'}' is open before it`;
      }
      return m;
    default:
      return m;
  }
}

/**
 * A linear pre-scan of YAML text, before the yaml package builds any node: it bounds the parse. Building the node
 * tree costs time and memory per value and per level of nesting (a million `[` took 30 s and 1 GB), so the
 * limits the loader enforces on the tree (nesting, number of values) are first checked here on the token stream
 * of yaml's own lexer, which reads quotes, comments and block scalars exactly as the parser will. The counts are
 * lower bounds of what the loader counts, so the pre-scan refuses only what the loader would refuse, with the same
 * message, just sooner. It also settles what the text means before parsing: YAML 1.2 line breaks, one document,
 * no `%YAML` version other than 1.2.
 */
import { CST, Lexer } from 'yaml';
import { clip, error, type Diagnostic, type LineMap } from '../../diagnostics.js';
import { MAX_DEPTH, MAX_EXPANDED_NODES } from './limits.js';

/** What the pre-scan found, and what the parser should read. */
export interface YamlPrescan {
  /**
   * The text to parse, with the same offsets as the original: lone CRs read as newlines, a `%YAML` directive of
   * another version blanked, and everything from a second document on cut off. Undefined when a limit was
   * exceeded: then the text must not be parsed at all.
   */
  readonly text: string | undefined;
  readonly diagnostics: Diagnostic[];
}

/** Tokens that stand for no text: markers the lexer inserts. */
const MARKERS: ReadonlySet<string | null> = new Set(['doc-mode', 'flow-error-end', 'scalar']);
/** Tokens that neither start a node nor end a pending one. */
const LAYOUT: ReadonlySet<string | null> = new Set(['space', 'comment', 'newline', 'byte-order-mark']);

/** Scans `text` (the file `map` describes). Linear in the text, and stops at the first exceeded limit. */
export function prescanYaml(text: string, map: LineMap): YamlPrescan {
  const diagnostics: Diagnostic[] = [];
  // YAML 1.2 reads CR, LF and CRLF as line breaks (and folds each to LF in values); the yaml package knows only
  // LF and CRLF. Replacing a lone CR with LF keeps every offset and gives exactly the 1.2 reading.
  let source = text.includes('\r') ? text.replace(/\r(?!\n)/g, '\n') : text;
  const tooLarge = (message: string, offset: number, length: number): YamlPrescan => {
    diagnostics.push(error('TOO_LARGE', message, map.span(offset, offset + length)));
    return { text: undefined, diagnostics };
  };

  let offset = 0;
  let lineStart = 0;
  let scalarSource = false;
  let flowDepth = 0;
  // Block nesting: the columns of the entries that enclose the current one (each more indented than the last).
  const columns: number[] = [];
  let lineHasEntry = false;
  let afterIndicator = false;
  let blockScalar = false;
  // Values, counted as the loader counts them (not keys): `:` and `-` open a value slot (counted once, whatever
  // fills it, null included); a scalar outside a slot is a value unless a `:` follows it (then it was a key).
  let values = 0;
  let slot = false;
  // A scalar that is a value unless a `:` follows; where it is, for the report when it is one too many.
  let pending: { at: number; length: number } | undefined;
  let explicitKey = false;
  // Documents: only the first is a spec.
  let docStarted = false;
  let docContent = false;
  let docEnded = false;

  for (const token of new Lexer().lex(source)) {
    if (scalarSource) {
      // The text of a plain or block scalar, announced by a marker: whatever it starts with, it is one value.
      scalarSource = false;
      if (pending?.at === offset) pending = { at: offset, length: token.length };
      offset += token.length;
      continue;
    }
    const type = CST.tokenType(token);
    const at = offset;
    offset += MARKERS.has(type) ? 0 : token.length;
    if (type === 'newline') {
      lineStart = offset;
      lineHasEntry = false;
      afterIndicator = false;
      continue;
    }
    if (LAYOUT.has(type) || type === 'doc-mode') continue;

    // A second document: report it, and parse only the first.
    const secondDocument =
      (type === 'doc-start' && (docStarted || docContent || docEnded)) ||
      (docEnded && type !== 'doc-end' && type !== 'flow-error-end');
    if (secondDocument) {
      const span = map.span(at, at + Math.max(1, token.length));
      diagnostics.push(
        error(
          'YAML_MULTIPLE_DOCUMENTS',
          `a spec is one YAML document; a second document starts at ${span.line}:${span.col}`,
          span,
          'remove everything from this line on, or put the second spec in a file of its own',
        ),
      );
      source = source.slice(0, at);
      break;
    }
    if (type === 'doc-start') {
      docStarted = true;
      continue;
    }
    if (type === 'doc-end') {
      docEnded = true;
      continue;
    }
    if (type === 'directive-line') {
      const version = /^%YAML(?:[ \t]+([^\s#]*))?/.exec(token);
      if (version && version[1] !== '1.2') {
        diagnostics.push(
          error(
            'YAML_VERSION',
            `netspec reads YAML 1.2, but this document asks for ${version[1] ? `YAML ${clip(version[1])}` : 'another version'}`,
            map.span(at, at + token.length),
            "remove the '%YAML' line: in YAML 1.2 yes/no/on/off are strings (write true/false), 010 is ten and << is an ordinary key",
          ),
        );
        // Read the rest as YAML 1.2, so the document's other problems are found as netspec will read it.
        source = source.slice(0, at) + ' '.repeat(token.length) + source.slice(at + token.length);
      }
      continue;
    }
    docContent = true;

    // Nesting: block entries by indentation (outside flow collections), plus open flow collections.
    // (A block scalar's text starts on the line after its header, but is no entry of its own.)
    if (flowDepth === 0 && (!lineHasEntry || afterIndicator) && type !== 'map-value-ind' && !blockScalar) {
      const column = at - lineStart;
      while (columns.length > 0 && (columns[columns.length - 1] ?? 0) >= column) columns.pop();
      columns.push(column);
      lineHasEntry = true;
    }
    afterIndicator = flowDepth === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind');
    blockScalar = type === 'block-scalar-header';
    if (type === 'flow-seq-start' || type === 'flow-map-start') flowDepth++;
    else if (type === 'flow-seq-end' || type === 'flow-map-end') flowDepth = Math.max(0, flowDepth - 1);
    else if (type === 'flow-error-end') flowDepth = 0;
    // A node at stack position s sits at depth s - 1 or deeper; the loader refuses depth MAX_DEPTH + 1.
    if (columns.length + flowDepth - 1 > MAX_DEPTH)
      return tooLarge(`collections nested more than ${MAX_DEPTH} levels deep`, at, token.length);

    // Values.
    if (pending) {
      const value = pending;
      pending = undefined;
      if (type !== 'map-value-ind' && ++values > MAX_EXPANDED_NODES)
        return tooLarge(
          `${map.file}: more than ${MAX_EXPANDED_NODES} values in one spec`,
          value.at,
          value.length,
        );
    }
    switch (type) {
      case 'map-value-ind':
        if (explicitKey) explicitKey = false;
        else values++;
        slot = true;
        break;
      case 'seq-item-ind':
        values++;
        slot = true;
        break;
      case 'explicit-key-ind':
        // The entry's value (null when no `:` follows); its key fills the slot uncounted.
        values++;
        explicitKey = true;
        slot = true;
        break;
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'alias':
      case 'flow-seq-start':
      case 'flow-map-start':
        if (type === 'scalar') scalarSource = true;
        if (slot) slot = false;
        else if (type === 'flow-seq-start' || type === 'flow-map-start') values++;
        else pending = { at, length: token.length };
        break;
      case 'block-scalar-header':
        // Its text follows as a scalar token, which counts it.
        break;
      default:
        break;
    }
    if (values > MAX_EXPANDED_NODES)
      return tooLarge(`${map.file}: more than ${MAX_EXPANDED_NODES} values in one spec`, at, token.length);
  }
  return { text: source, diagnostics };
}

/** The YAML front end: spec text → NetworkAst (format 'yaml') plus located diagnostics. Never throws. */
import { isMap } from 'yaml';
import { error, hasErrors, LineMap, MAX_DIAGNOSTICS } from '../../diagnostics.js';
import type { Diagnostic, Span } from '../../diagnostics.js';
import type { ParseResult } from '../ast.js';
import { checkSchema } from '../schema/check.js';
import { AstBuilder } from './build-ast.js';
import { isRefusedKey, loadYaml } from './load.js';
import { locateKey, locateNode, nodeEnd } from './locate.js';

/**
 * Parses one YAML spec: the pre-scan and syntax, alias and key safety, the schema check, then the AST. A problem
 * that leaves the document readable (a duplicate or refused key, a bad number, a second document, a `%YAML`
 * directive) does not stop the checks after it, so one run reports every problem it can find; the AST is
 * returned only when there is no error.
 */
export function parseYaml(text: string, file: string): ParseResult {
  const map = new LineMap(file, text);
  const loaded = loadYaml(text, map);
  const diagnostics = loaded.diagnostics;
  if (loaded.data === undefined || !loaded.doc) return { ast: undefined, diagnostics: finish(diagnostics) };

  const root = loaded.doc.contents;
  // A rejected number stands in the data as 0, which may also break a schema rule; one report is enough.
  const badNumbers = new Set(diagnostics.filter((d) => d.code === 'BAD_VALUE').map((d) => d.span?.offset));
  // Past MAX_DIAGNOSTICS nothing is shown (limitDiagnostics); ten times as many leaves room for the ones dropped
  // below and keeps a hostile file's thousands of issues from costing seconds.
  for (const issue of checkSchema(loaded.data, 10 * MAX_DIAGNOSTICS)) {
    const node = locateNode(root, issue.path, loaded.aliases);
    const target = issue.key !== undefined ? (locateKey(node, issue.key, loaded.aliases) ?? node) : node;
    const span: Span = target ? map.span(target.range[0], nodeEnd(target)) : map.span(0);
    if (issue.key === undefined && badNumbers.has(span.offset)) continue;
    // A refused key is left out of the data, so its map may look empty or incomplete; that is no second error.
    if ((issue.code === 'SCHEMA' || issue.code === 'MISSING_KEY') && holdsRefusedKey(target)) continue;
    diagnostics.push(error(issue.code, issue.message, span, issue.hint));
  }
  if (!root) return { ast: undefined, diagnostics: finish(diagnostics) };

  // The AST builder parses `$` expressions; it runs after errors too, for the expressions' own problems, but
  // skips a value that already has an error (a wrong value gets one report, not two).
  const reported = new Set(
    diagnostics.flatMap((d) => (d.severity === 'error' && d.span ? [d.span.offset] : [])),
  );
  const ast = new AstBuilder(text, map, loaded.aliases, diagnostics, reported).network(root);
  return { ast: hasErrors(diagnostics) ? undefined : ast, diagnostics: finish(diagnostics) };
}

/** True when `node` is a map with a key that loading refused (`__proto__`, `constructor`, `prototype`, `<<`). */
function holdsRefusedKey(node: unknown): boolean {
  return isMap(node) && node.items.some((p) => isRefusedKey(p.key));
}

/** Document order (stable), without exact repeats (an alias expanded twice reports its anchor twice). */
function finish(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const unique = diagnostics.filter((d) => {
    const id = `${d.code}@${d.span?.offset ?? -1}:${d.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return unique
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.span?.offset ?? -1) - (b.d.span?.offset ?? -1) || a.i - b.i)
    .map(({ d }) => d);
}

/**
 * Loads YAML text into a node tree with source ranges and into plain data for the schema check. The data is
 * built by hand (never with yaml's toJS) so that forbidden keys, alias bombs and non-finite numbers are caught
 * here, with positions, and so that no user key ever reaches an object prototype. The text is pre-scanned first
 * (prescan.ts), so hostile nesting and value counts are refused before any node exists.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, ParsedNode, Scalar } from 'yaml';
import { clip, error, MAX_DIAGNOSTICS } from '../../diagnostics.js';
import type { Diagnostic, LineMap } from '../../diagnostics.js';
import { MAX_ALIAS_COUNT, MAX_DEPTH, MAX_EXPANDED_NODES } from './limits.js';
import { prescanYaml } from './prescan.js';
import { explainSyntaxError } from './syntax.js';

export { MAX_ALIAS_COUNT, MAX_DEPTH, MAX_EXPANDED_NODES } from './limits.js';

/** Keys that could reach Object.prototype if data were ever built naively; refused anywhere in a spec. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A spec's YAML after loading: the document, its alias table, and the data the schema checks. */
export interface LoadedYaml {
  /** The parsed document; undefined when the pre-scan refused the text (nothing was parsed). */
  readonly doc: Document.Parsed | undefined;
  /** Each alias node → the anchored node it stands for (the last one of that name before it). */
  readonly aliases: ReadonlyMap<YamlNode, YamlNode>;
  /**
   * The document as plain data, or undefined when it cannot be read as a whole (a syntax error, an alias bomb, a
   * limit). Problems that leave the document readable (a duplicate key, a refused key or number, a directive)
   * are reported and the data is still built, so the checks after loading find everything else too.
   */
  readonly data: unknown;
  readonly diagnostics: Diagnostic[];
}

/** Shown with the first YAML syntax error: after one, the document's structure is a guess, so nothing else is checked. */
const SYNTAX_HINT = 'nothing else in this file is checked until the YAML reads';

/** Parses `text`; returns `data` only when the document is readable (no syntax error, no alias bomb). */
export function loadYaml(text: string, map: LineMap): LoadedYaml {
  const scan = prescanYaml(text, map);
  const diagnostics = scan.diagnostics;
  if (scan.text === undefined) return { doc: undefined, aliases: new Map(), data: undefined, diagnostics };
  // Keys are checked for uniqueness while building the data (linear); yaml's own check compares every pair.
  const doc = parseDocument(scan.text, {
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    version: '1.2',
  });
  let tooDeep = false;
  let syntaxErrors = 0;
  // Past MAX_DIAGNOSTICS nothing is shown (see limitDiagnostics); keeping two more lets it tell there were more.
  for (const e of doc.errors.slice(0, MAX_DIAGNOSTICS + 2)) {
    // One syntax error, in words (syntax.ts): after the first, yaml's errors are echoes of the same mistake.
    if (syntaxErrors > 0 && !e.message.includes('call stack')) continue;
    if (e.message.includes('call stack')) {
      // The pre-scan keeps nesting shallow, so this is a backstop: one report, not one per level.
      if (!tooDeep)
        diagnostics.push(
          error(
            'TOO_LARGE',
            `collections nested more than ${MAX_DEPTH} levels deep`,
            map.span(e.pos[0], e.pos[1]),
          ),
        );
      tooDeep = true;
      continue;
    }
    const explained = explainSyntaxError(map, e);
    syntaxErrors++;
    diagnostics.push(
      error(
        'YAML_SYNTAX',
        explained.message,
        explained.span,
        explained.hint !== undefined ? `${explained.hint}\n${SYNTAX_HINT}` : SYNTAX_HINT,
      ),
    );
  }
  for (const w of doc.warnings.slice(0, MAX_DIAGNOSTICS + 2)) {
    diagnostics.push({
      code: 'YAML_SYNTAX',
      severity: 'warning',
      message: w.message,
      span: map.span(w.pos[0], w.pos[1]),
    });
  }
  if (doc.errors.length > 0) return { doc, aliases: new Map(), data: undefined, diagnostics };
  const aliases = resolveAliases(doc, map, diagnostics);
  if (aliases.unknown) return { doc, aliases: aliases.map, data: undefined, diagnostics };

  const expander = new Expander(aliases.map, map, diagnostics);
  const data = expander.run(doc.contents);
  return { doc, aliases: aliases.map, data: expander.aborted ? undefined : data, diagnostics };
}

/** Maps every alias to its anchor once, so expansion never rescans the document. */
function resolveAliases(
  doc: Document.Parsed,
  map: LineMap,
  diagnostics: Diagnostic[],
): { map: Map<YamlNode, YamlNode>; unknown: boolean } {
  const anchors = new Map<string, YamlNode>();
  const result = new Map<YamlNode, YamlNode>();
  let unknown = false;
  // visit walks in document order, which is YAML's rule: an alias names the last anchor before it.
  visit(doc, {
    Node(_k, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) result.set(node, target);
        else {
          const r = node.range ?? [0, 0];
          unknown = true;
          diagnostics.push(
            error(
              'YAML_SYNTAX',
              `unknown anchor '${clip(node.source)}' in alias *${clip(node.source)}`,
              map.span(r[0], r[1]),
            ),
          );
        }
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return { map: result, unknown };
}

/** Builds plain data from the node tree with a budget: aliases are expanded, but never without bound. */
class Expander {
  aborted = false;
  private aliasCount = 0;
  private nodeCount = 0;
  private readonly expanding = new Set<YamlNode>();

  constructor(
    private readonly aliases: ReadonlyMap<YamlNode, YamlNode>,
    private readonly map: LineMap,
    private readonly diagnostics: Diagnostic[],
  ) {}

  run(node: unknown): unknown {
    return this.convert(node, 0);
  }

  private abort(
    code: 'YAML_ALIAS_LIMIT' | 'YAML_SYNTAX' | 'TOO_LARGE',
    message: string,
    node: YamlNode,
  ): undefined {
    if (!this.aborted) {
      const r = node.range ?? [0, 0];
      this.diagnostics.push(error(code, message, this.map.span(r[0], r[1])));
    }
    this.aborted = true;
    return undefined;
  }

  private convert(node: unknown, depth: number): unknown {
    if (this.aborted) return undefined;
    if (depth > MAX_DEPTH) {
      return this.abort(
        'TOO_LARGE',
        `collections nested more than ${MAX_DEPTH} levels deep`,
        node as YamlNode,
      );
    }
    if (++this.nodeCount > MAX_EXPANDED_NODES) {
      const at = node as YamlNode;
      return this.aliasCount > 0
        ? this.abort(
            'YAML_ALIAS_LIMIT',
            `${this.map.file}: aliases (*name) expand the document to more than ${MAX_EXPANDED_NODES} values`,
            at,
          )
        : this.abort('TOO_LARGE', `${this.map.file}: more than ${MAX_EXPANDED_NODES} values in one spec`, at);
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = this.aliases.get(node);
      if (!target) return null;
      if (++this.aliasCount > MAX_ALIAS_COUNT) {
        return this.abort(
          'YAML_ALIAS_LIMIT',
          `${this.map.file}: more than ${MAX_ALIAS_COUNT} alias expansions (*${clip(node.source)}); this looks like an alias bomb`,
          node,
        );
      }
      if (this.expanding.has(target)) {
        return this.abort(
          'YAML_SYNTAX',
          `alias *${clip(node.source)} refers to a node that contains it`,
          node,
        );
      }
      this.expanding.add(target);
      const value = this.convert(target, depth);
      this.expanding.delete(target);
      return value;
    }
    if (isScalar(node)) return this.scalar(node);
    if (isSeq(node)) return node.items.map((item) => this.convert(item, depth + 1));
    if (isMap(node)) {
      const out = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = this.key(pair.key);
        if (key === undefined) continue;
        if (Object.prototype.hasOwnProperty.call(out, key)) {
          // The first entry counts (as it does for the checks that read the node tree); the second is reported.
          const r = (pair.key as YamlNode | null)?.range ?? [0, 0];
          this.diagnostics.push(
            error('YAML_DUPLICATE_KEY', `duplicate key '${clip(key)}'`, this.map.span(r[0], r[0] + 1)),
          );
          continue;
        }
        out[key] = this.convert(pair.value, depth + 1);
      }
      return out;
    }
    return null;
  }

  /** A map key as a string, or undefined (with a diagnostic) when it cannot be one or is refused. */
  private key(node: unknown): string | undefined {
    const keyNode = isAlias(node) ? this.aliases.get(node) : node;
    const at = (isAlias(node) || isScalar(node) || isMap(node) || isSeq(node) ? node.range : undefined) ?? [
      0, 0,
    ];
    const span = this.map.span(at[0], at[1]);
    if (isMergeKey(node)) {
      this.diagnostics.push(
        error(
          'YAML_MERGE_KEY',
          'YAML merge keys (<<) are not supported: netspec reads YAML 1.2, where << is an ordinary key',
          span,
          'write the entries out; an alias (*name) can stand for a whole value, not for some entries of a map',
        ),
      );
      return undefined;
    }
    if (isScalar(keyNode) && typeof keyNode.value === 'string') {
      if (FORBIDDEN_KEYS.has(keyNode.value)) {
        this.diagnostics.push(
          error('YAML_FORBIDDEN_KEY', `the key '${clip(keyNode.value)}' is not allowed`, span),
        );
        return undefined;
      }
      return keyNode.value;
    }
    const found = isScalar(keyNode)
      ? `${typeof keyNode.value} ${clip(String(keyNode.value))}`
      : keyNode
        ? 'a collection'
        : 'an empty key';
    this.diagnostics.push(error('WRONG_TYPE', `expected a string key, found ${found}`, span));
    return undefined;
  }

  private scalar(node: Scalar): unknown {
    const v: unknown = node.value;
    if (typeof v === 'number') {
      const problem = numberProblem(node);
      if (problem) {
        const r = node.range ?? [0, 0];
        this.diagnostics.push(error('BAD_VALUE', problem, this.map.span(r[0], r[1])));
        return 0;
      }
      return v;
    }
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
    // Anything else (bigint, Date from custom tags) is not part of the format; the schema reports its type.
    return String(v);
  }
}

/**
 * True for a merge key: a plain `<<` (quoted, `"<<"` is an ordinary string key; the schema refuses it as a name).
 * YAML 1.2's core schema has no merge keys (they are a YAML 1.1 type), and netspec reads YAML 1.2 (see prescan.ts).
 * They are refused, not supported: a merged entry would have two sources (the anchor and the map), so a
 * diagnostic about it could point at neither honestly, and a spec should say what each layer gets where it is.
 * One error at the key, and the entry is left out, so nothing else reports it (not its value at the anchor).
 */
export function isMergeKey(node: unknown): boolean {
  return isScalar(node) && node.type === 'PLAIN' && node.value === '<<';
}

/** True for a key the loader refuses and leaves out of the data (a forbidden key or a merge key). */
export function isRefusedKey(node: unknown): boolean {
  return isMergeKey(node) || (isScalar(node) && FORBIDDEN_KEYS.has(String(node.value)));
}

/** Why a numeric scalar cannot be used (`.nan`, `.inf`, 1e309, an integer beyond 2^53), or undefined. */
export function numberProblem(node: Scalar): string | undefined {
  const v = node.value as number;
  const src = clip(node.source ?? String(v));
  if (Number.isNaN(v)) return `not a number: ${src}`;
  if (!Number.isFinite(v)) return `number out of range: ${src}`;
  if (isIntegerLiteral(node) && !Number.isSafeInteger(v)) return `integer too large: ${src}`;
  return undefined;
}

/** True when a numeric scalar is written as an integer (`3`, `-1`, `0x1F`), not `3.0` or `1e3`. */
export function isIntegerLiteral(node: Scalar): boolean {
  if (node.tag === 'tag:yaml.org,2002:int') return true;
  if (node.tag === 'tag:yaml.org,2002:float') return false;
  const src = node.source ?? '';
  return /^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.test(src);
}

/** The node an alias stands for (or the node itself); undefined for an unknown anchor. */
export function deref(node: unknown, aliases: ReadonlyMap<YamlNode, YamlNode>): ParsedNode | undefined {
  if (isAlias(node)) return aliases.get(node) as ParsedNode | undefined;
  if (isScalar(node) || isMap(node) || isSeq(node)) return node as ParsedNode;
  return undefined;
}

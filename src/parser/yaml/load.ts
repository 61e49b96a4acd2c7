/**
 * Loads YAML text into a node tree with source ranges and into plain data for the schema check. The data is
 * built by hand (never with yaml's toJS) so that forbidden keys, alias bombs and non-finite numbers are caught
 * here, with positions, and so that no user key ever reaches an object prototype.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node as YamlNode, ParsedNode, Scalar } from 'yaml';
import { error } from '../../diagnostics.js';
import type { Diagnostic, LineMap } from '../../diagnostics.js';

/** Keys that could reach Object.prototype if data were ever built naively; refused anywhere in a spec. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Most alias resolutions allowed while expanding a document (a real spec uses a handful). */
export const MAX_ALIAS_COUNT = 1000;

/** Most data nodes an expanded document may have; bounds time and memory whatever the aliases do. */
export const MAX_EXPANDED_NODES = 200_000;

/** Deepest nesting of collections accepted; real specs use under 10, and the checks after this recurse. */
export const MAX_DEPTH = 100;

/** A spec's YAML after loading: the document, its alias table, and the data the schema checks. */
export interface LoadedYaml {
  readonly doc: Document.Parsed;
  /** Each alias node → the anchored node it stands for (the last one of that name before it). */
  readonly aliases: ReadonlyMap<YamlNode, YamlNode>;
  /** The document as plain data, or undefined when loading stopped early. */
  readonly data: unknown;
  readonly diagnostics: Diagnostic[];
}

/** Parses `text`; returns `data` only when the document is readable (no syntax error, no alias bomb). */
export function loadYaml(text: string, map: LineMap): LoadedYaml {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, version: '1.2' });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const code = e.code === 'DUPLICATE_KEY' ? 'YAML_DUPLICATE_KEY' : 'YAML_SYNTAX';
    const message =
      e.code === 'DUPLICATE_KEY'
        ? duplicateMessage(doc, e.pos[0], text)
        : e.message.includes('call stack')
          ? 'the document is nested too deeply'
          : e.message;
    diagnostics.push(error(code, message, map.span(e.pos[0], e.pos[1])));
  }
  for (const w of doc.warnings) {
    diagnostics.push({
      code: 'YAML_SYNTAX',
      severity: 'warning',
      message: w.message,
      span: map.span(w.pos[0], w.pos[1]),
    });
  }
  const aliases = resolveAliases(doc, map, diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { doc, aliases, data: undefined, diagnostics };

  const expander = new Expander(aliases, map, diagnostics);
  const data = expander.run(doc.contents);
  return { doc, aliases, data: expander.aborted ? undefined : data, diagnostics };
}

function duplicateMessage(doc: Document.Parsed, offset: number, text: string): string {
  let key: string | undefined;
  visit(doc, {
    Pair(_k, pair) {
      const k = pair.key;
      if (isScalar(k) && k.range?.[0] === offset) {
        key = String(k.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  const shown = key ?? text.slice(offset, offset + 40).split(/[:\n]/)[0] ?? '';
  return `duplicate key '${shown}'`;
}

/** Maps every alias to its anchor once, so expansion never rescans the document. */
function resolveAliases(
  doc: Document.Parsed,
  map: LineMap,
  diagnostics: Diagnostic[],
): Map<YamlNode, YamlNode> {
  const anchors = new Map<string, YamlNode>();
  const result = new Map<YamlNode, YamlNode>();
  // visit walks in document order, which is YAML's rule: an alias names the last anchor before it.
  visit(doc, {
    Node(_k, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) result.set(node, target);
        else {
          const r = node.range ?? [0, 0];
          diagnostics.push(
            error(
              'YAML_SYNTAX',
              `unknown anchor '${node.source}' in alias *${node.source}`,
              map.span(r[0], r[1]),
            ),
          );
        }
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  return result;
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
          `${this.map.file}: more than ${MAX_ALIAS_COUNT} alias expansions (*${node.source}); this looks like an alias bomb`,
          node,
        );
      }
      if (this.expanding.has(target)) {
        return this.abort('YAML_SYNTAX', `alias *${node.source} refers to a node that contains it`, node);
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
        out[key] = this.convert(pair.value, depth + 1);
      }
      return out;
    }
    return null;
  }

  /** A map key as a string, or undefined (with a diagnostic) when it cannot be one. */
  private key(node: unknown): string | undefined {
    const keyNode = isAlias(node) ? this.aliases.get(node) : node;
    const at = (isAlias(node) || isScalar(node) || isMap(node) || isSeq(node) ? node.range : undefined) ?? [
      0, 0,
    ];
    if (isScalar(keyNode) && typeof keyNode.value === 'string') {
      if (FORBIDDEN_KEYS.has(keyNode.value)) {
        this.diagnostics.push(
          error(
            'YAML_FORBIDDEN_KEY',
            `the key '${keyNode.value}' is not allowed`,
            this.map.span(at[0], at[1]),
          ),
        );
        return undefined;
      }
      return keyNode.value;
    }
    const found = isScalar(keyNode)
      ? `${typeof keyNode.value} ${String(keyNode.value)}`
      : keyNode
        ? 'a collection'
        : 'an empty key';
    this.diagnostics.push(
      error('WRONG_TYPE', `expected a string key, found ${found}`, this.map.span(at[0], at[1])),
    );
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

/** Why a numeric scalar cannot be used (`.nan`, `.inf`, 1e309, an integer beyond 2^53), or undefined. */
export function numberProblem(node: Scalar): string | undefined {
  const v = node.value as number;
  const src = node.source ?? String(v);
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

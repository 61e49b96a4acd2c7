/**
 * YAML node tree → NetworkAst. Runs after the schema check, also when it found errors (to report the problems of
 * `$` expressions elsewhere too), so it trusts no structure: anything unexpected is skipped (and the schema check
 * has already reported it), and it never throws.
 */
import { isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, ParsedNode, Scalar, YAMLMap } from 'yaml';
import { error, type Diagnostic, type LineMap, type Span } from '../../diagnostics.js';
import { MERGE_WORDS } from '../ast.js';
import type {
  Arg,
  BlockDecl,
  Branch,
  BranchMerge,
  Expr,
  Item,
  ExtendsDecl,
  InputDecl,
  MergeDecl,
  ModuleDecl,
  NetworkAst,
  ParamDecl,
  ParamType,
  ShortcutDecl,
  TrainingDecl,
  TrainingEntry,
  TrainingGroup,
} from '../ast.js';
import { parseExpression } from '../dsl/expression.js';
import { createTokenBudget } from '../dsl/run-parser.js';
import { deref, isIntegerLiteral } from './load.js';
import { isEmptyScalar, nodeEnd } from './locate.js';

const PARAM_TYPES: ReadonlySet<string> = new Set<ParamType>(['int', 'float', 'bool', 'string', 'list']);

/** One `key: value` of a map, aliases resolved; `value` is undefined for `key:` with nothing after it. */
interface Entry {
  readonly key: string;
  readonly keyNode: ParsedNode;
  readonly value: ParsedNode | undefined;
  /** From the key to the end of the value. */
  readonly span: Span;
}

/** Builds the AST of one YAML spec; expression errors go to `diagnostics`. */
export class AstBuilder {
  /** All `$` expressions of the spec share one token budget (see MAX_TOKENS). */
  private readonly budget = createTokenBudget();

  constructor(
    private readonly text: string,
    private readonly map: LineMap,
    private readonly aliases: ReadonlyMap<YamlNode, YamlNode>,
    private readonly diagnostics: Diagnostic[],
    /** Offsets where an error was already reported: an expression starting there is not parsed again. */
    private readonly reported: ReadonlySet<number> = new Set(),
  ) {}

  /** The network of the document whose root node is `root` (a map, per the schema). */
  network(root: ParsedNode): NetworkAst | undefined {
    if (!isMap(root)) return undefined;
    const top = this.entries(root);
    const get = (k: string): Entry | undefined => top.find((e) => e.key === k);
    const nameEntry = get('name');
    const nameNode = nameEntry?.value;
    if (!nameEntry || !isScalar(nameNode) || typeof nameNode.value !== 'string') return undefined;

    const extendsEntry = get('extends');
    const extendsNode = extendsEntry?.value;
    const ext: ExtendsDecl | undefined =
      isScalar(extendsNode) && typeof extendsNode.value === 'string'
        ? { kind: 'extends', path: extendsNode.value, span: this.span(extendsNode) }
        : undefined;

    const paramsNode = get('params')?.value;
    const params = isMap(paramsNode)
      ? this.entries(paramsNode).flatMap((e) => this.param(e, false) ?? [])
      : [];

    const inputNode = get('input')?.value;
    const input = isSeq(inputNode) ? this.input(inputNode) : undefined;

    const blocksNode = get('blocks')?.value;
    const blocks = isMap(blocksNode) ? this.entries(blocksNode).flatMap((e) => this.block(e) ?? []) : [];

    const modulesNode = get('modules')?.value;
    const modules = isSeq(modulesNode) ? modulesNode.items.flatMap((m) => this.module(m) ?? []) : [];

    const trainingEntry = get('training');
    const training = trainingEntry ? this.training(trainingEntry) : undefined;

    return {
      kind: 'network',
      file: this.map.file,
      format: 'yaml',
      name: nameNode.value,
      nameSpan: this.span(nameNode),
      ...(ext ? { extends: ext } : {}),
      params,
      ...(input ? { input } : {}),
      blocks,
      modules,
      ...(training ? { training } : {}),
      span: this.span(root),
    };
  }

  /** `training: {lr: 0.001, early_stopping: {patience: 3}}`: values, and groups as dotted keys (`early_stopping.patience`). */
  private training(entry: Entry): TrainingDecl | undefined {
    const node = entry.value;
    if (!isMap(node)) return undefined;
    const entries: TrainingEntry[] = [];
    const groups: TrainingGroup[] = [];
    for (const e of this.entries(node)) {
      if (isMap(e.value)) {
        groups.push({ kind: 'trainingGroup', key: e.key, keySpan: this.span(e.keyNode), span: e.span });
        for (const inner of this.entries(e.value)) {
          const setting = this.setting(`${e.key}.${inner.key}`, inner);
          if (setting) entries.push(setting);
        }
      } else {
        const setting = this.setting(e.key, e);
        if (setting) entries.push(setting);
      }
    }
    return { kind: 'training', entries, groups, span: entry.span };
  }

  /** One scalar setting; anything else was reported by the schema check. */
  private setting(key: string, entry: Entry): TrainingEntry | undefined {
    const node = entry.value;
    if (!isScalar(node)) return undefined;
    const value: unknown = node.value;
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string')
      return undefined;
    return { key, keySpan: this.span(entry.keyNode), value, valueSpan: this.span(node) };
  }

  private input(node: ParsedNode): InputDecl | undefined {
    if (!isSeq(node)) return undefined;
    const dims: Expr[] = [];
    for (const item of node.items) {
      const e = this.expr(deref(item, this.aliases));
      if (!e) return undefined;
      dims.push(e);
    }
    return { kind: 'input', dims, span: this.span(node) };
  }

  /** A network param (`default` = the value) or a block param (a type name gives `type`, anything else a default). */
  private param(entry: Entry, inBlock: boolean): ParamDecl | undefined {
    const v = entry.value;
    const base = {
      kind: 'param',
      name: entry.key,
      nameSpan: this.span(entry.keyNode),
      span: entry.span,
    } as const;
    if (inBlock && isScalar(v) && typeof v.value === 'string' && PARAM_TYPES.has(v.value)) {
      return { ...base, type: v.value as ParamType };
    }
    const value = this.expr(v);
    return value ? { ...base, default: value } : undefined;
  }

  private block(entry: Entry): BlockDecl | undefined {
    const node = entry.value;
    if (!isMap(node)) return undefined;
    const fields = this.entries(node);
    const get = (k: string): Entry | undefined => fields.find((e) => e.key === k);

    const paramsNode = get('params')?.value;
    const params = isMap(paramsNode)
      ? this.entries(paramsNode).flatMap((e) => this.param(e, true) ?? [])
      : [];

    const shortcutEntry = get('shortcut');
    const shortcut = shortcutEntry ? this.shortcut(shortcutEntry) : undefined;

    const mergeEntry = get('merge');
    const residualEntry = get('residual');
    let merge: MergeDecl | undefined;
    if (mergeEntry && isScalar(mergeEntry.value) && mergeEntry.value.value === 'add') {
      const condition = residualEntry ? this.expr(residualEntry.value) : undefined;
      merge = {
        kind: 'merge',
        op: 'add',
        opSpan: this.span(mergeEntry.value),
        ...(condition ? { condition } : {}),
        span: mergeEntry.span,
      };
    }

    return {
      kind: 'block',
      name: entry.key,
      nameSpan: this.span(entry.keyNode),
      params,
      body: this.layers(get('body')?.value),
      ...(shortcut ? { shortcut } : {}),
      ...(merge ? { merge } : {}),
      after: this.layers(get('after')?.value),
      span: entry.span,
    };
  }

  private shortcut(entry: Entry): ShortcutDecl | undefined {
    const node = entry.value;
    if (!isMap(node)) return undefined;
    const fields = this.entries(node);
    const whenNode = fields.find((e) => e.key === 'when')?.value;
    const when = isScalar(whenNode) && whenNode.value === 'always' ? 'always' : 'shape_changes';
    return {
      kind: 'shortcut',
      when,
      ...(whenNode ? { whenSpan: this.span(whenNode) } : {}),
      layers: this.layers(fields.find((e) => e.key === 'layers')?.value),
      span: entry.span,
    };
  }

  private module(item: unknown): ModuleDecl | undefined {
    const node = deref(item, this.aliases);
    if (!isMap(node)) return undefined;
    const [entry] = this.entries(node);
    if (!entry) return undefined;
    return {
      kind: 'module',
      name: entry.key,
      nameSpan: this.span(entry.keyNode),
      items: this.layers(entry.value),
      span: this.span(node),
    };
  }

  private layers(node: ParsedNode | undefined): Item[] {
    if (!isSeq(node)) return [];
    return node.items.flatMap((item) => this.call(deref(item, this.aliases)) ?? []);
  }

  /**
   * `relu`, `conv: {name: c1, out: 64}`, `linear: $num_classes`, `batchnorm:` (null), or a merge: a map with
   * branches, values that are lists of layers (`concat: {a: [conv: 64], b: []}`; see `isBranch`).
   */
  private call(node: ParsedNode | undefined): Item | undefined {
    if (isScalar(node) && typeof node.value === 'string') {
      const span = this.span(node);
      return { kind: 'call', callee: node.value, calleeSpan: span, args: [], span };
    }
    if (!isMap(node)) return undefined;
    const [entry] = this.entries(node);
    if (!entry) return undefined;
    const base = {
      kind: 'call',
      callee: entry.key,
      calleeSpan: this.span(entry.keyNode),
      span: this.span(node),
    } as const;
    const argsNode = entry.value;
    if (argsNode === undefined || (isScalar(argsNode) && argsNode.value === null))
      return { ...base, args: [] };
    if (!isMap(argsNode)) {
      const value = this.expr(argsNode);
      if (!value) return undefined;
      return { ...base, args: [{ kind: 'arg', value, span: value.span }] };
    }
    const args: Arg[] = [];
    const branches: Branch[] = [];
    let name: { name: string; nameSpan: Span } | undefined;
    let repeat: Expr | undefined;
    let repeatSpan: Span | undefined;
    let condition: Expr | undefined;
    for (const a of this.entries(argsNode)) {
      if (a.key === 'name') {
        if (isScalar(a.value) && typeof a.value.value === 'string')
          name = { name: a.value.value, nameSpan: this.span(a.value) };
        continue;
      }
      if (this.isBranch(a.value, MERGE_WORDS.includes(entry.key))) {
        const items = this.layers(a.value);
        branches.push({ kind: 'branch', name: a.key, nameSpan: this.span(a.keyNode), items, span: a.span });
        continue;
      }
      const value = this.expr(a.value);
      if (!value) continue;
      if (a.key === 'repeat') {
        repeat = value;
        repeatSpan = a.span;
      } else if (a.key === 'if') condition = value;
      else args.push({ kind: 'arg', name: a.key, nameSpan: this.span(a.keyNode), value, span: a.span });
    }
    const extra = { ...(name ?? {}), ...(condition ? { condition } : {}) };
    if (branches.length > 0) {
      if (repeatSpan)
        this.diagnostics.push(
          error('SCHEMA', 'a merge cannot be repeated: put it in a block and repeat the block', repeatSpan),
        );
      const merge: BranchMerge = {
        kind: 'branches',
        op: base.callee,
        opSpan: base.calleeSpan,
        ...extra,
        args,
        branches,
        span: base.span,
      };
      return merge;
    }
    return { ...base, ...extra, args, ...(repeat ? { repeat } : {}) };
  }

  /**
   * A merge's branch: under a merge word (`concat:`) every list; elsewhere a list of layers (maps, and names that
   * are not expressions), so that `conv: {a: [relu]}` is reported as a layer given branches. `kernel: [3, 3]` and
   * `dims: [$a, $b]` are arguments.
   */
  private isBranch(node: ParsedNode | undefined, underMerge: boolean): boolean {
    if (!isSeq(node)) return false;
    if (underMerge) return true;
    return node.items.every((item) => {
      const v = deref(item, this.aliases);
      return isMap(v) || (isScalar(v) && typeof v.value === 'string' && !isExpressionText(v.value));
    });
  }

  /** A value as an expression: numbers, booleans, strings, `$expr` strings, lists of those. */
  private expr(node: ParsedNode | undefined): Expr | undefined {
    if (isSeq(node)) {
      const items: Expr[] = [];
      for (const item of node.items) {
        const e = this.expr(deref(item, this.aliases));
        if (!e) return undefined;
        items.push(e);
      }
      return { kind: 'list', items, span: this.span(node) };
    }
    if (!isScalar(node)) return undefined;
    const span = this.span(node);
    const v: unknown = node.value;
    if (typeof v === 'number') return { kind: isIntegerLiteral(node) ? 'int' : 'float', value: v, span };
    if (typeof v === 'boolean') return { kind: 'bool', value: v, span };
    if (typeof v !== 'string') return undefined;
    if (!isExpressionText(v)) return { kind: 'string', value: v, span };
    return this.expression(node, v, span);
  }

  /** Parses a `$...` string with the DSL's expression parser, keeping positions exact where the text allows. */
  private expression(node: Scalar, value: string, nodeSpan: Span): Expr | undefined {
    const start = node.range?.[0] ?? 0;
    if (this.reported.has(start)) return undefined;
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const base = quoted ? start + 1 : start;
    // Escapes, folded lines and block scalars make the value differ from the source text; then offsets inside
    // the value do not map to the file, and every position falls back to the whole scalar.
    const exact = this.text.slice(base, base + value.length) === value;
    const { expr, diagnostics } = parseExpression(
      value,
      this.map,
      exact ? base : nodeSpan.offset,
      this.budget,
    );
    if (exact) {
      this.diagnostics.push(...diagnostics);
      return expr;
    }
    this.diagnostics.push(...diagnostics.map((d) => ({ ...d, span: nodeSpan })));
    return expr ? respan(expr, nodeSpan) : undefined;
  }

  private entries(node: YAMLMap): Entry[] {
    const out: Entry[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = deref(pair.key, this.aliases);
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') continue;
      const value = deref(pair.value, this.aliases);
      const present = value && !isEmptyScalar(value) ? value : undefined;
      const keyStart = (pair.key as ParsedNode).range[0];
      const end = present ? this.end(present) : this.end(pair.key as ParsedNode);
      out.push({
        key: keyNode.value,
        keyNode: pair.key as ParsedNode,
        value: present,
        span: this.map.span(keyStart, end),
      });
    }
    return out;
  }

  private span(node: ParsedNode): Span {
    return this.map.span(node.range[0], this.end(node));
  }

  private end(node: ParsedNode): number {
    return nodeEnd(node);
  }
}

/**
 * True for a string YAML reads as an expression: it starts with `$` (`$out * 4`), or with `(` or `-` before one
 * of those (`($a + 1) * 2`, `-$pad`). Other strings are string values.
 */
export function isExpressionText(text: string): boolean {
  return /^-?[$(]/.test(text);
}

/**
 * The same expression with every span replaced by `span` (for values whose text is not the source text). Left
 * operands are followed in a loop: `1 + 1 + ...` nests to the left as deep as the chain is long, while every other
 * way of nesting is bounded by the parser (MAX_NESTING).
 */
function respan(e: Expr, span: Span): Expr {
  const spine: Extract<Expr, { kind: 'binary' }>[] = [];
  let leftmost = e;
  while (leftmost.kind === 'binary') {
    spine.push(leftmost);
    leftmost = leftmost.left;
  }
  let out = respanOne(leftmost, span);
  for (let i = spine.length - 1; i >= 0; i--) {
    const b = spine[i];
    if (b) out = { ...b, left: out, right: respan(b.right, span), span };
  }
  return out;
}

function respanOne(e: Exclude<Expr, { kind: 'binary' }>, span: Span): Expr {
  switch (e.kind) {
    case 'unary':
      return { ...e, operand: respan(e.operand, span), span };
    case 'list':
      return { ...e, items: e.items.map((i) => respan(i, span)), span };
    default:
      return { ...e, span };
  }
}

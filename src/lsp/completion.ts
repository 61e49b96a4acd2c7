/**
 * Completion from the text before the cursor (which, as one types, rarely parses): layer and block names where a
 * layer goes, the argument names of the layer or block whose parentheses (DSL) or map (YAML) the cursor is in,
 * parameters in expressions, training setting keys in the training section, and the structural keywords. The
 * names of blocks and parameters come from the analysis (or the last network that parsed, while this one does not).
 */
import type { IToken } from 'chevrotain';
import type { BlockDecl, NetworkAst, ParamDecl } from '../parser/ast.js';
import { tokenize } from '../parser/dsl/lexer.js';
import { SETTING_GROUPS, TRAINING_SETTINGS } from '../training-settings.js';
import type { Analysis } from './analysis.js';
import {
  argSignature,
  blockSignature,
  LAYER_KINDS,
  layerArgs,
  layerDoc,
  layerSignature,
  MERGE_KINDS,
  paramSignature,
  type Syntax,
} from './vocabulary.js';

/** What a completion entry names. */
export type CompletionKind = 'layer' | 'block' | 'argument' | 'parameter' | 'keyword' | 'setting';

/** One completion entry: what is shown (label, detail, doc) and what is inserted. */
export interface CompletionEntry {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail: string;
  readonly documentation?: string;
  readonly insertText: string;
}

/** The entries at a position, and the range of the word typed so far (which an entry replaces). */
export interface Completions {
  readonly entries: readonly CompletionEntry[];
  readonly replaceFrom: number;
  readonly replaceTo: number;
}

/** Where the cursor is, as far as completion cares. */
export type CompletionContext =
  | { readonly kind: 'none' }
  | { readonly kind: 'layer'; readonly block?: string; readonly keywords: readonly string[] }
  | {
      readonly kind: 'argument';
      readonly callee: string;
      readonly given: readonly string[];
      /** Arguments given by position before the cursor (they bind the first arguments). */
      readonly positional?: number;
      readonly block?: string;
    }
  | { readonly kind: 'expression'; readonly block?: string }
  | { readonly kind: 'keyword'; readonly keywords: readonly string[] }
  | { readonly kind: 'setting'; readonly group?: string };

/** The word being typed before `offset`: a name, `$name`, or a dotted name (`in.`). */
function prefixStart(text: string, offset: number): number {
  const m = /\$?(?:[A-Za-z_][A-Za-z0-9_]*\.?)*$/.exec(text.slice(Math.max(0, offset - 200), offset));
  return offset - (m?.[0].length ?? 0);
}

/** True when the line before `offset` is inside a comment or an open string. */
function inCommentOrString(text: string, offset: number, syntax: Syntax): boolean {
  const lineStart = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
  const line = text.slice(lineStart, offset);
  const quotes = syntax === 'dsl' ? /"(?:[^"\\]|\\.)*"/g : /"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'/g;
  const bare = line.replace(quotes, '""');
  if (/["']/.test(bare.replace(/""/g, ''))) return true;
  return syntax === 'dsl' ? /\/\/|#/.test(bare) : /(?:^|\s)#/.test(bare);
}

interface Frame {
  readonly open: '(' | '[' | '{' | 'top';
  readonly label: string;
  readonly block?: string;
  /** For `(`: the word before it (the callee), and whether it lists a declaration's parameters. */
  readonly callee?: string;
  readonly declaration?: boolean;
  readonly given: string[];
  positional: number;
  /** Tokens of the statement (or argument) being written at this level. */
  stmt: IToken[];
}

const WORD_TYPES = new Set(['Identifier', 'DollarIdentifier', 'KwTraining', 'KwAdd', 'QualifiedName']);

/** The label of a `{` whose statement so far is `header`, inside a frame labelled `parent`. */
function braceLabel(header: readonly IToken[], parent: string): string {
  if (parent === 'training') return 'training';
  switch (header[0]?.tokenType.name) {
    case 'KwNetwork':
      return 'network';
    case 'KwBlock':
      return 'block';
    case 'KwModule':
      return 'module';
    case 'KwShortcut':
      return 'shortcut';
    case 'KwTraining':
      return parent === 'network' ? 'training' : 'layers';
    default:
      return 'layers';
  }
}

/** The completion context at `offset` of DSL text. */
export function dslContext(text: string, offset: number): CompletionContext {
  const start = prefixStart(text, offset);
  if (inCommentOrString(text, start, 'dsl')) return { kind: 'none' };
  const { tokens } = tokenize(text.slice(0, start), 'dsl');
  const stack: Frame[] = [{ open: 'top', label: 'top', given: [], positional: 0, stmt: [] }];
  let end = 0;
  const top = (): Frame => stack[stack.length - 1] as Frame;
  const newlineBefore = (at: number): boolean => /[\r\n]/.test(text.slice(end, at));
  for (const tok of tokens) {
    const frame = top();
    if ((frame.open === '{' || frame.open === 'top') && newlineBefore(tok.startOffset)) frame.stmt = [];
    end = tok.startOffset + tok.image.length;
    switch (tok.image) {
      case '(': {
        const last = frame.stmt[frame.stmt.length - 1];
        const first = frame.stmt[0]?.tokenType.name;
        frame.stmt.push(tok);
        stack.push({
          open: '(',
          label: frame.label,
          ...(frame.block !== undefined ? { block: frame.block } : {}),
          ...(last && WORD_TYPES.has(last.tokenType.name) ? { callee: last.image.replace(/^\$/, '') } : {}),
          declaration: first === 'KwBlock' || first === 'KwNetwork',
          given: [],
          positional: 0,
          stmt: [],
        });
        break;
      }
      case '[':
        frame.stmt.push(tok);
        stack.push({
          open: '[',
          label: frame.label,
          ...(frame.block !== undefined ? { block: frame.block } : {}),
          given: [],
          positional: 0,
          stmt: [],
        });
        break;
      case '{': {
        const label = braceLabel(frame.stmt, frame.label);
        const name = frame.stmt[1]?.image;
        const block = label === 'block' && name !== undefined ? name.replace(/^"|"$/g, '') : frame.block;
        const group = label === 'training' && frame.label === 'training' ? frame.stmt[0]?.image : undefined;
        frame.stmt = [];
        stack.push({
          open: '{',
          label: group !== undefined ? `training:${group}` : label,
          ...(block !== undefined ? { block } : {}),
          given: [],
          positional: 0,
          stmt: [],
        });
        break;
      }
      case ')':
      case ']':
      case '}':
        if (stack.length > 1) stack.pop();
        if (tok.image === '}') top().stmt = [];
        else top().stmt.push(tok);
        break;
      case ';':
        frame.stmt = [];
        break;
      case ',':
        if (frame.open === '(' && frame.stmt.length > 0 && !frame.stmt.some((t) => t.image === '='))
          frame.positional++;
        frame.stmt = [];
        break;
      case '=': {
        const [only] = frame.stmt;
        if (frame.open === '(' && frame.stmt.length === 1 && only) frame.given.push(only.image);
        frame.stmt.push(tok);
        break;
      }
      default:
        frame.stmt.push(tok);
    }
  }
  const frame = top();
  if ((frame.open === '{' || frame.open === 'top') && newlineBefore(start)) frame.stmt = [];
  const stmt = frame.stmt.map((t) => t.image);
  const block = frame.block !== undefined ? { block: frame.block } : {};
  const expression: CompletionContext = { kind: 'expression', ...block };
  const lastType = frame.stmt[frame.stmt.length - 1]?.tokenType.name;
  if (frame.open === '(') {
    if (frame.declaration) return stmt[stmt.length - 1] === '=' ? expression : { kind: 'none' };
    if (stmt.length === 0 && frame.callee !== undefined)
      return {
        kind: 'argument',
        callee: frame.callee,
        given: frame.given,
        positional: frame.positional,
        ...block,
      };
    return expression;
  }
  if (frame.open === '[') return expression;
  if (frame.label === 'top')
    return stmt.length === 0 ? { kind: 'keyword', keywords: ['network'] } : { kind: 'none' };
  if (frame.label === 'network') {
    if (stmt.length === 0) return { kind: 'keyword', keywords: ['input', 'block', 'module', 'training'] };
    return stmt[0] === 'input' ? expression : { kind: 'none' };
  }
  if (frame.label.startsWith('training')) {
    const group = frame.label.startsWith('training:') ? frame.label.slice('training:'.length) : undefined;
    return stmt.length === 0
      ? { kind: 'setting', ...(group !== undefined ? { group } : {}) }
      : { kind: 'none' };
  }
  const keywords = frame.label === 'block' ? ['shortcut', 'merge'] : [];
  if (stmt.length === 0) return { kind: 'layer', ...block, keywords };
  if (stmt.length === 2 && stmt[1] === '=') return { kind: 'layer', ...block, keywords: [] };
  if (stmt[0] === 'merge') return stmt.length === 1 ? { kind: 'keyword', keywords: MERGE_KINDS } : expression;
  if (stmt[0] === 'shortcut' && frame.label === 'block')
    return stmt.length === 1
      ? { kind: 'keyword', keywords: ['when'] }
      : stmt.length === 2
        ? { kind: 'keyword', keywords: ['shape_changes', 'always'] }
        : { kind: 'none' };
  if (
    lastType === 'KwIf' ||
    lastType === 'Star' ||
    /^Kw(?:And|Or|Not|Div)$/.test(lastType ?? '') ||
    /^(?:Plus|Minus|Slash|Percent|EqEq|NotEq|Lt|Gt|LtEq|GtEq)$/.test(lastType ?? '')
  )
    return expression;
  return { kind: 'none' };
}

/** Keys whose list holds layers: a module (under `modules`), a block's `body`/`after`, `layers`, a branch. */
function isLayerList(keys: readonly string[]): boolean {
  const last = keys[keys.length - 1];
  const parent = keys[keys.length - 2];
  if (last === undefined) return false;
  if (parent === 'modules') return true;
  if (parent !== undefined && MERGE_KINDS.includes(parent) && keys.length > 2) return true;
  return keys.includes('blocks') && (last === 'body' || last === 'after' || last === 'layers');
}

interface FlowFrame {
  readonly open: '[' | '{';
  readonly owner: string | undefined;
  readonly keys: readonly string[];
  expectKey: boolean;
  lastKey: string | undefined;
  readonly given: string[];
  scalar: string;
}

/** The completion context at `offset` of YAML text (block structure by indentation, flow collections by brackets). */
export function yamlContext(text: string, offset: number): CompletionContext {
  const start = prefixStart(text, offset);
  if (inCommentOrString(text, start, 'yaml')) return { kind: 'none' };
  const lines = text.slice(0, start).split(/\r\n|\r|\n/);
  const blockStack: { indent: number; key: string }[] = [];
  const flow: FlowFrame[] = [];
  for (const [n, line] of lines.entries()) {
    const last = n === lines.length - 1;
    let rest = line;
    let column = 0;
    if (flow.length === 0) {
      const m = /^(\s*)((?:-\s+)*)(?:(["']?)([^"'#:{}[\],\s][^"'#:{}[\],]*?)\3\s*:(?=\s|$))?/.exec(line);
      const indent = m?.[1]?.length ?? 0;
      const dashes = m?.[2] ?? '';
      const key = m?.[4];
      if (/^\s*(?:#.*)?$/.test(line) && !last) continue;
      const keyIndent = indent + dashes.length;
      const popAbove = dashes ? indent : keyIndent - 1;
      if (key !== undefined || dashes || !last)
        while ((blockStack[blockStack.length - 1]?.indent ?? -1) > popAbove) blockStack.pop();
      if (key !== undefined) blockStack.push({ indent: keyIndent, key: key.trim() });
      column = m?.[0].length ?? 0;
      rest = line.slice(column);
      if (last) {
        const before = line;
        if (/^\s*(?:-\s+)+$/.test(before)) {
          const keys = blockStack.map((e) => e.key);
          return isLayerList(keys) ? { kind: 'layer', ...yamlBlock(keys), keywords: [] } : { kind: 'none' };
        }
        if (/^\s*$/.test(before)) {
          while ((blockStack[blockStack.length - 1]?.indent ?? -1) >= before.length) blockStack.pop();
          const keys = blockStack.map((e) => e.key);
          return mapKeyContext(keys);
        }
        if (key !== undefined && /^\s*$/.test(rest))
          return { kind: 'expression', ...yamlBlock(blockStack.map((e) => e.key)) };
      }
    }
    const lineKeys = blockStack.map((e) => e.key);
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i] ?? '';
      const f = flow[flow.length - 1];
      if (c === '#' && (i === 0 || /\s/.test(rest[i - 1] ?? ''))) break;
      if (c === '"' || c === "'") {
        const close = rest.indexOf(c, i + 1);
        const value = rest.slice(i + 1, close < 0 ? rest.length : close);
        if (f) f.scalar += value;
        i = close < 0 ? rest.length : close;
        continue;
      }
      if (c === '[' || c === '{') {
        const owner = f ? f.lastKey : (blockStack[blockStack.length - 1]?.key ?? undefined);
        const keys = f ? [...f.keys, ...(f.lastKey !== undefined ? [f.lastKey] : [])] : lineKeys;
        flow.push({ open: c, owner, keys, expectKey: true, lastKey: undefined, given: [], scalar: '' });
        continue;
      }
      if (!f) continue;
      if (c === ']' || c === '}') {
        flow.pop();
        const parent = flow[flow.length - 1];
        if (parent) parent.scalar = '';
        continue;
      }
      if (c === ',') {
        f.expectKey = true;
        f.lastKey = undefined;
        f.scalar = '';
        continue;
      }
      if (c === ':' && (i + 1 >= rest.length || /[\s,[\]{}]/.test(rest[i + 1] ?? ''))) {
        f.lastKey = f.scalar.trim();
        f.given.push(f.lastKey);
        f.expectKey = false;
        f.scalar = '';
        continue;
      }
      f.scalar += c;
    }
  }
  const f = flow[flow.length - 1];
  if (!f) return { kind: 'none' };
  const keys = [...f.keys];
  const blockScope = yamlBlock(keys);
  if (f.open === '{') {
    if (f.expectKey && f.scalar.trim() === '') {
      const context = mapKeyContext(keys, f.owner);
      return context.kind === 'argument' ? { ...context, given: f.given } : context;
    }
    return { kind: 'expression', ...blockScope };
  }
  if (f.expectKey && f.lastKey === undefined && f.scalar.trim() === '')
    return isLayerList(keys)
      ? { kind: 'layer', ...blockScope, keywords: [] }
      : { kind: 'expression', ...blockScope };
  return { kind: 'expression', ...blockScope };
}

/** `{block: B}` when `keys` are inside `blocks: {B: ...}`. */
function yamlBlock(keys: readonly string[]): { block?: string } {
  const i = keys.indexOf('blocks');
  const name = i >= 0 ? keys[i + 1] : undefined;
  return name !== undefined ? { block: name } : {};
}

/** The context of a key position in a map whose own key is the last of `keys` (or `owner`, for a flow map). */
function mapKeyContext(
  keys: readonly string[],
  owner: string | undefined = keys[keys.length - 1],
): CompletionContext {
  if (owner === undefined)
    return keys.length === 0 ? { kind: 'keyword', keywords: YAML_TOP_KEYS } : { kind: 'none' };
  if (owner === 'training') return { kind: 'setting' };
  if (SETTING_GROUPS.includes(owner) && keys.includes('training')) return { kind: 'setting', group: owner };
  const withOwner = keys[keys.length - 1] === owner ? keys : [...keys, owner];
  const parent = withOwner[withOwner.length - 2];
  if (parent === 'blocks')
    return { kind: 'keyword', keywords: ['params', 'body', 'shortcut', 'merge', 'residual', 'after'] };
  if (owner === 'shortcut' && withOwner.includes('blocks'))
    return { kind: 'keyword', keywords: ['when', 'layers'] };
  if (['params', 'blocks', 'modules', 'input'].includes(owner)) return { kind: 'none' };
  return { kind: 'argument', callee: owner, given: [], ...yamlBlock(withOwner) };
}

/** Top-level keys of a YAML spec. */
const YAML_TOP_KEYS = ['netspec', 'name', 'extends', 'params', 'input', 'blocks', 'modules', 'training'];

/** Blocks and parameters known at the cursor: the resolved network's, the document's, the last good one's. */
function known(
  analysis: Analysis,
  fallback: NetworkAst | undefined,
): {
  blocks: BlockDecl[];
  params: ParamDecl[];
} {
  const networks = [analysis.resolved, analysis.parsed.ast, fallback].filter(
    (n): n is NetworkAst => n !== undefined,
  );
  const blocks = new Map<string, BlockDecl>();
  const params = new Map<string, ParamDecl>();
  for (const n of networks) {
    for (const b of n.blocks) if (!blocks.has(b.name)) blocks.set(b.name, b);
    for (const p of n.params) if (!params.has(p.name)) params.set(p.name, p);
  }
  return { blocks: [...blocks.values()], params: [...params.values()] };
}

/** The completion context at `offset` of the analysis's document. */
export function contextAt(analysis: Analysis, offset: number): CompletionContext {
  return analysis.format === 'dsl' ? dslContext(analysis.text, offset) : yamlContext(analysis.text, offset);
}

/** The completion entries at `offset` of the analysis's document. */
export function completionsAt(analysis: Analysis, offset: number, fallback?: NetworkAst): Completions {
  const syntax = analysis.format;
  const context = contextAt(analysis, offset);
  const from = prefixStart(analysis.text, offset);
  const { blocks, params } = known(analysis, fallback);
  const sources = analysis.compiled.sources;
  const keyword = (k: string): CompletionEntry => ({
    label: k,
    kind: 'keyword',
    detail: 'keyword',
    insertText: k,
  });
  const layers = (): CompletionEntry[] => [
    ...LAYER_KINDS.map((k) => ({
      label: k,
      kind: 'layer' as const,
      detail: layerSignature(k, syntax),
      documentation: layerDoc(k) ?? '',
      insertText: k,
    })),
    ...blocks.map((b) => ({
      label: b.name,
      kind: 'block' as const,
      detail: blockSignature(b, sources, syntax),
      documentation: `block ${b.name}`,
      insertText: b.name,
    })),
  ];
  const parameters = (block: string | undefined): CompletionEntry[] => {
    const ref = (name: string): string => (syntax === 'yaml' ? `$${name}` : name);
    const own = block !== undefined ? (blocks.find((b) => b.name === block)?.params ?? []) : [];
    const shadowed = new Set(own.map((p) => p.name));
    return [
      ...own.map((p) => ({
        label: ref(p.name),
        kind: 'parameter' as const,
        detail: `parameter of block ${block ?? ''}: ${paramSignature(p, sources, syntax)}`,
        insertText: ref(p.name),
      })),
      ...params
        .filter((p) => !shadowed.has(p.name))
        .map((p) => ({
          label: ref(p.name),
          kind: 'parameter' as const,
          detail: `network parameter: ${paramSignature(p, sources, syntax)}`,
          insertText: ref(p.name),
        })),
      ...['in.channels', 'in.height', 'in.width', 'in.tokens', 'in.features', 'in.shape', 'in.rank'].map(
        (n) => ({
          label: ref(n),
          kind: 'parameter' as const,
          detail: "the input's shape",
          insertText: ref(n),
        }),
      ),
    ];
  };
  let entries: CompletionEntry[];
  switch (context.kind) {
    case 'none':
      entries = [];
      break;
    case 'keyword':
      entries = context.keywords.map(keyword);
      break;
    case 'layer':
      entries = [...layers(), ...context.keywords.map(keyword)];
      break;
    case 'expression':
      entries = parameters(context.block);
      break;
    case 'setting': {
      const group = context.group;
      entries = TRAINING_SETTINGS.filter((s) =>
        group === undefined ? !s.key.includes('.') : s.key.startsWith(`${group}.`),
      ).map((s) => {
        const key = group === undefined ? s.key : s.key.slice(group.length + 1);
        return {
          label: key,
          kind: 'setting' as const,
          detail: s.kind,
          documentation: s.description,
          insertText: syntax === 'yaml' ? `${key}: ` : `${key} = `,
        };
      });
      if (group === undefined)
        entries.push(
          ...SETTING_GROUPS.map((g) => ({ ...keyword(g), kind: 'setting' as const, detail: 'group' })),
        );
      break;
    }
    case 'argument': {
      const block = blocks.find((b) => b.name === context.callee);
      const given = new Set(context.given);
      const bound = block ? block.params.map((p) => p.name) : layerArgs(context.callee).map((a) => a.name);
      for (const name of bound.slice(0, context.positional ?? 0)) given.add(name);
      const args: CompletionEntry[] = block
        ? block.params.map((p) => ({
            label: p.name,
            kind: 'argument' as const,
            detail: paramSignature(p, sources, syntax),
            documentation: `parameter of block ${block.name}`,
            insertText: syntax === 'yaml' ? `${p.name}: ` : `${p.name} = `,
          }))
        : layerArgs(context.callee).map((a) => ({
            label: a.name,
            kind: 'argument' as const,
            detail: `${a.type}: ${argSignature(a, syntax)}`,
            documentation: a.doc,
            insertText: syntax === 'yaml' ? `${a.name}: ` : `${a.name} = `,
          }));
      const extra = syntax === 'yaml' ? ['name', 'repeat', 'if'] : [];
      entries = [
        ...args.filter((a) => !given.has(a.label)),
        ...extra.filter((k) => !given.has(k)).map((k) => ({ ...keyword(k), insertText: `${k}: ` })),
        // A positional value is an expression.
        ...(syntax === 'dsl' ? parameters(context.block) : []),
      ];
      break;
    }
  }
  return { entries, replaceFrom: from, replaceTo: offset };
}

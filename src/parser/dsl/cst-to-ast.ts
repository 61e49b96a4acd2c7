/**
 * CST → AST. Also where the checks that the grammar leaves open live: parameter types, `when` conditions, the
 * order of body / shortcut / merge / after inside a block. Total over partial CSTs from error recovery: missing
 * pieces are skipped (their syntax errors are already reported), never dereferenced.
 */
import type { CstNode, IToken } from 'chevrotain';
import { clip, didYouMean, error, type Diagnostic, type DiagnosticCode } from '../../diagnostics.js';
import type {
  Arg,
  BinaryOp,
  BlockDecl,
  Branch,
  BranchMerge,
  Call,
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
  ShortcutWhen,
  Span,
  TrainingDecl,
  TrainingEntry,
  TrainingGroup,
} from '../ast.js';
import type { SettingValue } from '../../training-settings.js';
import { isRealToken, isToken, type SpanMaker } from './spans.js';
import { KwDiv } from './tokens.js';

const PARAM_TYPES: readonly ParamType[] = ['int', 'float', 'bool', 'string', 'list'];
const SHORTCUT_WHENS: readonly ShortcutWhen[] = ['shape_changes', 'always'];

const BINARY_OPS: ReadonlySet<string> = new Set<BinaryOp>([
  '+',
  '-',
  '*',
  '/',
  '//',
  '%',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'and',
  'or',
]);

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** The value of a string literal; tolerant of the bad strings the lexer already reported. */
export function decodeString(image: string): string {
  let out = '';
  for (let i = image.startsWith('"') ? 1 : 0; i < image.length; i++) {
    const c = image[i] ?? '';
    if (c === '"') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = image[i + 1];
    if (next === undefined) break;
    const hex = image.slice(i + 2, i + 6);
    if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(hex)) {
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      out += ESCAPES[next] ?? next;
      i += 1;
    }
  }
  return out;
}

function tokens(node: CstNode, key: string): IToken[] {
  return (node.children[key] ?? []).filter(isToken);
}

/** The first token under `key` that stands for real text (recovery may insert empty virtual ones). */
function realToken(node: CstNode, key: string): IToken | undefined {
  return tokens(node, key).find(isRealToken);
}

function nodes(node: CstNode, key: string): CstNode[] {
  return (node.children[key] ?? []).filter((c): c is CstNode => !isToken(c));
}

/** The value of a literal expression (`-0.5` included), or undefined for anything else. */
function literalValue(expr: Expr): SettingValue | undefined {
  switch (expr.kind) {
    case 'int':
    case 'float':
    case 'bool':
    case 'string':
      return expr.value;
    case 'unary':
      return expr.op === '-' && (expr.operand.kind === 'int' || expr.operand.kind === 'float')
        ? -expr.operand.value
        : undefined;
    default:
      return undefined;
  }
}

function compact<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((x): x is T => x !== undefined);
}

/** Builds AST nodes from one parse's CST, collecting the diagnostics the grammar could not give. */
export class AstBuilder {
  /** Problems found while building (unknown types, misplaced block items). */
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly spans: SpanMaker,
    private readonly code: DiagnosticCode,
  ) {}

  private report(message: string, span: Span, hint?: string): void {
    this.diagnostics.push(error(this.code, message, span, hint));
  }

  /** The AST of a `file` CST, or undefined when not even the network's name could be read. */
  network(file: CstNode, fileName: string): NetworkAst | undefined {
    const node = nodes(file, 'network')[0];
    if (!node) return undefined;
    const name = this.name(node);
    if (!name) return undefined;

    let extendsDecl: ExtendsDecl | undefined;
    const extendsKeyword = realToken(node, 'KwExtends');
    const extendsPath = realToken(node, 'extendsPath');
    if (extendsKeyword && extendsPath) {
      extendsDecl = {
        kind: 'extends',
        path: decodeString(extendsPath.image),
        span: this.spans.between(extendsKeyword, extendsPath),
      };
    }

    const inputs = nodes(node, 'inputDecl');
    for (const extra of inputs.slice(1)) {
      this.report(
        "duplicate 'input': a network has one input shape",
        this.spans.token(realToken(extra, 'KwInput')),
      );
    }
    const input = inputs[0] ? this.input(inputs[0]) : undefined;

    const sections = nodes(node, 'trainingSection');
    for (const extra of sections.slice(1)) {
      this.report(
        "duplicate 'training': a network has one training section",
        this.spans.token(realToken(extra, 'KwTraining')),
        'put all the settings in the first one',
      );
    }
    const training = sections[0] ? this.training(sections[0]) : undefined;

    return {
      kind: 'network',
      file: fileName,
      format: 'dsl',
      name: name.value,
      nameSpan: name.span,
      ...(extendsDecl ? { extends: extendsDecl } : {}),
      params: this.paramList(node),
      ...(input ? { input } : {}),
      blocks: compact(nodes(node, 'block').map((b) => this.block(b))),
      modules: compact(nodes(node, 'module').map((m) => this.module(m))),
      ...(training ? { training } : {}),
      span: this.spans.node(node),
    };
  }

  /** `training { lr = 0.001; early_stopping { patience = 3 } }`: settings, group members with dotted keys. */
  private training(node: CstNode): TrainingDecl {
    const entries: TrainingEntry[] = [];
    const groups: TrainingGroup[] = [];
    for (const item of nodes(node, 'trainingItem')) {
      const key = realToken(item, 'key');
      if (!key) continue;
      const valueNode = nodes(item, 'value')[0];
      if (valueNode) {
        const entry = this.trainingEntry(key.image, key, valueNode);
        if (entry) entries.push(entry);
        continue;
      }
      if (!realToken(item, 'LCurly')) continue;
      groups.push({
        kind: 'trainingGroup',
        key: key.image,
        keySpan: this.spans.token(key),
        span: this.spans.node(item),
      });
      for (const setting of nodes(item, 'trainingSetting')) {
        const inner = realToken(setting, 'key');
        const innerValue = nodes(setting, 'value')[0];
        if (!inner || !innerValue) continue;
        const entry = this.trainingEntry(`${key.image}.${inner.image}`, inner, innerValue);
        if (entry) entries.push(entry);
      }
    }
    return { kind: 'training', entries, groups, span: this.spans.node(node) };
  }

  /** One setting; its value must be a literal (a number, maybe negative, a string, true or false). */
  private trainingEntry(key: string, keyToken: IToken, valueNode: CstNode): TrainingEntry | undefined {
    const expr = this.expression(valueNode);
    if (!expr) return undefined;
    const value = literalValue(expr);
    if (value !== undefined) return { key, keySpan: this.spans.token(keyToken), value, valueSpan: expr.span };
    if (expr.kind === 'ref') {
      this.report(
        `a training setting's value is a number, a string, true or false; found the name '${clip(expr.name)}'`,
        expr.span,
        `write ${keyToken.image} = ${JSON.stringify(expr.name)}`,
      );
    } else {
      this.report(
        "a training setting's value is a number, a string, true or false, not an expression",
        expr.span,
      );
    }
    return undefined;
  }

  /** The name under a rule that has a `name` subrule (identifier or string). */
  private name(node: CstNode): { value: string; span: Span } | undefined {
    const nameNode = nodes(node, 'name')[0];
    if (!nameNode) return undefined;
    const identifier = realToken(nameNode, 'Identifier');
    if (identifier) return { value: identifier.image, span: this.spans.token(identifier) };
    const string = realToken(nameNode, 'StringLiteral');
    if (string) return { value: decodeString(string.image), span: this.spans.token(string) };
    return undefined;
  }

  private paramList(owner: CstNode): ParamDecl[] {
    const list = nodes(owner, 'paramList')[0];
    return list ? compact(nodes(list, 'param').map((p) => this.param(p))) : [];
  }

  private param(node: CstNode): ParamDecl | undefined {
    const name = realToken(node, 'paramName');
    if (!name) return undefined;
    let type: ParamType | undefined;
    const typeToken = realToken(node, 'type');
    if (typeToken) {
      type = PARAM_TYPES.find((t) => t === typeToken.image);
      if (!type) {
        this.report(
          `unknown type '${clip(typeToken.image)}' (expected int, float, bool or string)`,
          this.spans.token(typeToken),
          didYouMean(typeToken.image, PARAM_TYPES),
        );
      }
    }
    const defaultNode = nodes(node, 'default')[0];
    const defaultValue = defaultNode ? this.expression(defaultNode) : undefined;
    return {
      kind: 'param',
      name: name.image,
      nameSpan: this.spans.token(name),
      ...(type ? { type } : {}),
      ...(defaultValue ? { default: defaultValue } : {}),
      span: this.spans.node(node),
    };
  }

  private input(node: CstNode): InputDecl {
    return {
      kind: 'input',
      dims: compact(nodes(node, 'expression').map((e) => this.expression(e))),
      span: this.spans.node(node),
    };
  }

  private block(node: CstNode): BlockDecl | undefined {
    const name = this.name(node);
    if (!name) return undefined;
    const body: Item[] = [];
    const after: Item[] = [];
    let shortcut: ShortcutDecl | undefined;
    let merge: MergeDecl | undefined;
    // Items come in a fixed order: body layers, shortcut, merge, layers after the merge.
    let phase: 'body' | 'shortcut' | 'after' = 'body';
    for (const item of nodes(node, 'blockItem')) {
      const callNode = nodes(item, 'call')[0];
      const shortcutNode = nodes(item, 'shortcut')[0];
      const mergeNode = nodes(item, 'merge')[0];
      if (callNode) {
        const call = this.item(callNode);
        if (!call) continue;
        if (phase === 'shortcut') {
          this.report("a layer after 'shortcut' must come after 'merge' (or before 'shortcut')", call.span);
        }
        (phase === 'after' ? after : body).push(call);
      } else if (shortcutNode) {
        const decl = this.shortcut(shortcutNode);
        const keyword = this.spans.token(realToken(shortcutNode, 'KwShortcut'));
        if (shortcut) this.report("duplicate 'shortcut': a block has at most one", keyword);
        else if (phase === 'after') this.report("'shortcut' must come before 'merge'", keyword);
        if (!shortcut) shortcut = decl;
        if (phase === 'body') phase = 'shortcut';
      } else if (mergeNode) {
        const decl = this.merge(mergeNode);
        if (merge)
          this.report(
            "duplicate 'merge': a block has at most one",
            this.spans.token(realToken(mergeNode, 'KwMerge')),
          );
        else merge = decl;
        phase = 'after';
      }
    }
    return {
      kind: 'block',
      name: name.value,
      nameSpan: name.span,
      params: this.paramList(node),
      body,
      ...(shortcut ? { shortcut } : {}),
      ...(merge ? { merge } : {}),
      after,
      span: this.spans.node(node),
    };
  }

  private shortcut(node: CstNode): ShortcutDecl {
    let when: ShortcutWhen = 'shape_changes';
    const whenToken = realToken(node, 'when');
    if (whenToken) {
      const known = SHORTCUT_WHENS.find((w) => w === whenToken.image);
      if (known) when = known;
      else {
        this.report(
          `unknown shortcut condition '${clip(whenToken.image)}' (expected shape_changes or always)`,
          this.spans.token(whenToken),
          didYouMean(whenToken.image, SHORTCUT_WHENS),
        );
      }
    }
    return {
      kind: 'shortcut',
      when,
      ...(whenToken ? { whenSpan: this.spans.token(whenToken) } : {}),
      layers: this.items(node),
      span: this.spans.node(node),
    };
  }

  private merge(node: CstNode): MergeDecl {
    const conditionNode = nodes(node, 'condition')[0];
    const condition = conditionNode ? this.expression(conditionNode) : undefined;
    const op = realToken(node, 'KwAdd') ?? realToken(node, 'KwMerge');
    return {
      kind: 'merge',
      op: 'add',
      opSpan: this.spans.token(op),
      ...(condition ? { condition } : {}),
      span: this.spans.node(node),
    };
  }

  private module(node: CstNode): ModuleDecl | undefined {
    const name = this.name(node);
    if (!name) return undefined;
    return {
      kind: 'module',
      name: name.value,
      nameSpan: name.span,
      items: this.items(node),
      span: this.spans.node(node),
    };
  }

  /** The items (calls and merges) of a module, shortcut or branch node. */
  private items(node: CstNode): Item[] {
    return compact(nodes(node, 'call').map((c) => this.item(c)));
  }

  /** A call, or a merge when it has branches (`concat { ... }`). */
  private item(node: CstNode): Item | undefined {
    const callee = realToken(node, 'callee');
    if (!callee) return undefined;
    const layerName = realToken(node, 'layerName');
    const repeatNode = nodes(node, 'repeat')[0];
    const repeat = repeatNode ? this.expression(repeatNode) : undefined;
    const conditionNode = nodes(node, 'condition')[0];
    const condition = conditionNode ? this.expression(conditionNode) : undefined;
    const named = layerName ? { name: layerName.image, nameSpan: this.spans.token(layerName) } : {};
    const args = compact(nodes(node, 'arg').map((a) => this.arg(a)));
    const span = this.spans.node(node);
    const branchesNode = nodes(node, 'branches')[0];
    if (branchesNode) {
      if (repeat)
        this.report('a merge cannot be repeated: put it in a block and repeat the block', repeat.span);
      const merge: BranchMerge = {
        kind: 'branches',
        op: callee.image,
        opSpan: this.spans.token(callee),
        ...named,
        args,
        ...(condition ? { condition } : {}),
        branches: compact(nodes(branchesNode, 'branch').map((b) => this.branch(b))),
        span,
      };
      return merge;
    }
    const call: Call = {
      kind: 'call',
      callee: callee.image,
      calleeSpan: this.spans.token(callee),
      ...named,
      args,
      ...(repeat ? { repeat } : {}),
      ...(condition ? { condition } : {}),
      span,
    };
    return call;
  }

  private branch(node: CstNode): Branch | undefined {
    const name = realToken(node, 'branchName');
    if (!name) return undefined;
    return {
      kind: 'branch',
      name: name.image,
      nameSpan: this.spans.token(name),
      items: this.items(node),
      span: this.spans.node(node),
    };
  }

  private arg(node: CstNode): Arg | undefined {
    const valueNode = nodes(node, 'value')[0];
    const value = valueNode ? this.expression(valueNode) : undefined;
    if (!value) return undefined;
    const name = realToken(node, 'argName');
    return {
      kind: 'arg',
      ...(name ? { name: name.image, nameSpan: this.spans.token(name) } : {}),
      value,
      span: this.spans.node(node),
    };
  }

  /** The expression of any expression-level CST node, or undefined when recovery left nothing to build. */
  expression(node: CstNode): Expr | undefined {
    switch (node.name) {
      case 'notExpression':
      case 'unary':
        return this.prefix(node);
      case 'primary':
        return this.primary(node);
      case 'list':
        return this.list(node);
      default:
        return this.chain(node);
    }
  }

  /** A left-associative chain `a op b op c` (one level of precedence). */
  private chain(node: CstNode): Expr | undefined {
    const operands = nodes(node, 'operand');
    const ops = tokens(node, 'op');
    const first = operands[0];
    let left = first ? this.expression(first) : undefined;
    if (!first || !left) return undefined;
    for (let i = 0; i < ops.length; i++) {
      const opToken = ops[i];
      const rightNode = operands[i + 1];
      const right = rightNode ? this.expression(rightNode) : undefined;
      if (!opToken || !rightNode || !right) break;
      const op = opToken.tokenType === KwDiv ? '//' : opToken.image;
      if (!BINARY_OPS.has(op)) break;
      left = { kind: 'binary', op: op as BinaryOp, left, right, span: this.spans.between(first, rightNode) };
    }
    return left;
  }

  /** `not x` / `-x`, or the operand alone when there is no operator. */
  private prefix(node: CstNode): Expr | undefined {
    const operandNode = nodes(node, 'operand')[0];
    const operand = operandNode ? this.expression(operandNode) : undefined;
    if (!operand) return undefined;
    const op = realToken(node, 'op');
    if (!op) return operand;
    return { kind: 'unary', op: op.image === 'not' ? 'not' : '-', operand, span: this.spans.node(node) };
  }

  private primary(node: CstNode): Expr | undefined {
    const inner = nodes(node, 'inner')[0];
    if (inner) return this.expression(inner);
    const list = nodes(node, 'list')[0];
    if (list) return this.list(list);
    let token: IToken | undefined;
    if ((token = realToken(node, 'IntLiteral'))) {
      const value = Number(token.image);
      const span = this.spans.token(token);
      if (!Number.isSafeInteger(value)) this.report(`integer ${clip(token.image)} is too large`, span);
      return { kind: 'int', value, span };
    }
    if ((token = realToken(node, 'FloatLiteral'))) {
      const value = Number(token.image);
      const span = this.spans.token(token);
      if (!Number.isFinite(value)) this.report(`number ${clip(token.image)} is too large`, span);
      return { kind: 'float', value, span };
    }
    if ((token = realToken(node, 'KwTrue') ?? realToken(node, 'KwFalse'))) {
      return { kind: 'bool', value: token.image === 'true', span: this.spans.token(token) };
    }
    if ((token = realToken(node, 'StringLiteral'))) {
      return { kind: 'string', value: decodeString(token.image), span: this.spans.token(token) };
    }
    if ((token = realToken(node, 'Identifier'))) {
      return { kind: 'ref', name: token.image, span: this.spans.token(token) };
    }
    if ((token = realToken(node, 'DollarIdentifier') ?? realToken(node, 'QualifiedName'))) {
      const name = token.image.startsWith('$') ? token.image.slice(1) : token.image;
      return { kind: 'ref', name, span: this.spans.token(token) };
    }
    return undefined;
  }

  private list(node: CstNode): Expr {
    return {
      kind: 'list',
      items: compact(nodes(node, 'item').map((e) => this.expression(e))),
      span: this.spans.node(node),
    };
  }
}

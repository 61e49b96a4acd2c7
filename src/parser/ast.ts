/**
 * The spec AST: what both front ends (YAML and the DSL) produce. Readonly, tagged by `kind`, every node with a
 * span into its source file. The AST says what the user wrote; meaning (names, shapes) is checked later by the
 * compiler, which reads only this.
 */
import type { Diagnostic, Span } from '../diagnostics.js';
import type { SettingValue } from '../training-settings.js';

export type { Span } from '../diagnostics.js';

/** Binary operators of the expression language: integer arithmetic (`//` floors, `/` must divide exactly). */
export type BinaryOp =
  '+' | '-' | '*' | '/' | '//' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

/** An expression: literals, parameter references, arithmetic, lists (`[3, 3]`). */
export type Expr =
  | { readonly kind: 'int'; readonly value: number; readonly span: Span }
  | { readonly kind: 'float'; readonly value: number; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'ref'; readonly name: string; readonly span: Span }
  | { readonly kind: 'unary'; readonly op: '-' | 'not'; readonly operand: Expr; readonly span: Span }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly span: Span;
    }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly span: Span };

/** The declared type of a parameter; absent means "inferred from the default" (or int when there is none). */
export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'list';

/** A network or block parameter: `in_channels = 1`, `out: int`, `stride = 1`. */
export interface ParamDecl {
  readonly kind: 'param';
  readonly name: string;
  readonly nameSpan: Span;
  readonly type?: ParamType;
  readonly default?: Expr;
  readonly span: Span;
}

/** A call argument: positional when `name` is absent. */
export interface Arg {
  readonly kind: 'arg';
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly value: Expr;
  readonly span: Span;
}

/**
 * A layer or block instance: `conv1 = conv(64, kernel = 3)`, `ResBlock(64) * 2`, YAML `- conv: {...}`.
 * Whether `callee` is a layer kind or a block is decided by the compiler.
 */
export interface Call {
  readonly kind: 'call';
  readonly callee: string;
  readonly calleeSpan: Span;
  /** The user's name for the layer (`conv1 = ...` / YAML `name:`), which becomes the last part of its path. */
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly args: readonly Arg[];
  /** `* 2` in the DSL, `repeat: 2` in YAML. */
  readonly repeat?: Expr;
  /** `conv(...) if expand != 1` in the DSL, `if: $expand != 1` in YAML: the item is left out when false. */
  readonly condition?: Expr;
  readonly span: Span;
}

/** One named path of a merge: layers applied to the merge's input (none: the input itself). */
export interface Branch {
  readonly kind: 'branch';
  readonly name: string;
  readonly nameSpan: Span;
  readonly items: readonly Item[];
  readonly span: Span;
}

/**
 * A merge of named branches, each reading the merge's input, merged in written order:
 * `concat { a { conv(64) } b {} }`, YAML `- concat: {a: [conv: 64], b: []}`. `op` is the merge kind as written
 * (`concat`, `add`, `mul`; checked by the compiler), `args` its arguments (`dim`). With a `condition` that is
 * false, only the first branch is kept (the others and the merge are left out), as a block's `merge add if`.
 */
export interface BranchMerge {
  readonly kind: 'branches';
  readonly op: string;
  readonly opSpan: Span;
  /** The merge node's name (its path's last part); `concat`, `add`, ... when not given. */
  readonly name?: string;
  readonly nameSpan?: Span;
  readonly args: readonly Arg[];
  readonly condition?: Expr;
  readonly branches: readonly Branch[];
  readonly span: Span;
}

/**
 * The merge kinds, as words of the language (the compiler's `MERGES` defines them; a test keeps the two equal).
 * YAML needs them to read every list under `concat:` as a branch, `[$act]` included.
 */
export const MERGE_WORDS: readonly string[] = ['add', 'concat', 'mul'];

/** An item of a layer sequence: a layer or block instance, or a merge of branches. */
export type Item = Call | BranchMerge;

/** The word an item starts with: the callee of a call, the kind of a merge. */
export function calleeOf(item: Item): string {
  return item.kind === 'call' ? item.callee : item.op;
}

/** When a block's shortcut layers apply: only when the body changes the shape, or always. */
export type ShortcutWhen = 'shape_changes' | 'always';

/** The second path of a block: identity, or layers applied to the block input. */
export interface ShortcutDecl {
  readonly kind: 'shortcut';
  readonly when: ShortcutWhen;
  readonly whenSpan?: Span;
  readonly layers: readonly Item[];
  readonly span: Span;
}

/** How the body and the shortcut merge; `condition` is the residual flag (`merge add if residual`). */
export interface MergeDecl {
  readonly kind: 'merge';
  readonly op: 'add';
  readonly opSpan: Span;
  readonly condition?: Expr;
  readonly span: Span;
}

/** A reusable, parameterized unit: body, optional shortcut, merge, and layers after the merge. */
export interface BlockDecl {
  readonly kind: 'block';
  readonly name: string;
  readonly nameSpan: Span;
  readonly params: readonly ParamDecl[];
  readonly body: readonly Item[];
  readonly shortcut?: ShortcutDecl;
  readonly merge?: MergeDecl;
  readonly after: readonly Item[];
  readonly span: Span;
}

/** A named sequence of layers and block instances; its name starts every layer path inside it. */
export interface ModuleDecl {
  readonly kind: 'module';
  readonly name: string;
  readonly nameSpan: Span;
  readonly items: readonly Item[];
  readonly span: Span;
}

/** The input shape, (C, H, W) or (features). */
export interface InputDecl {
  readonly kind: 'input';
  readonly dims: readonly Expr[];
  readonly span: Span;
}

/** `extends: ./resnet18.yaml`: the path as written, relative to the extending file. */
export interface ExtendsDecl {
  readonly kind: 'extends';
  readonly path: string;
  readonly span: Span;
}

/**
 * One training setting as written: `lr: 0.001` / `lr = 0.001`, or inside a group (`early_stopping: {patience: 3}`
 * / `early_stopping { patience = 3 }`), whose key is then dotted (`early_stopping.patience`) and whose `keySpan`
 * is the inner key's. Whether the key and value are valid is the compiler's to say (src/training-settings.ts).
 */
export interface TrainingEntry {
  readonly key: string;
  readonly keySpan: Span;
  readonly value: SettingValue;
  readonly valueSpan: Span;
}

/**
 * A nested map of settings (`augment: {...}` / `augment { ... }`) as written, also when it holds nothing, so that
 * the compiler can say when a plain setting (`lr: {}`) or an unknown word was written as a group.
 */
export interface TrainingGroup {
  readonly kind: 'trainingGroup';
  readonly key: string;
  readonly keySpan: Span;
  readonly span: Span;
}

/**
 * The spec's training settings (YAML `training:`, DSL `training { }`), in written order. Not part of the network:
 * the compiler checks them into `CompileResult.training`, and the IR never sees them.
 */
export interface TrainingDecl {
  readonly kind: 'training';
  readonly entries: readonly TrainingEntry[];
  readonly groups: readonly TrainingGroup[];
  readonly span: Span;
}

/** One spec file. A spec that extends another may leave out input, blocks and modules (inherited). */
export interface NetworkAst {
  readonly kind: 'network';
  readonly file: string;
  readonly format: 'yaml' | 'dsl';
  readonly name: string;
  readonly nameSpan: Span;
  readonly extends?: ExtendsDecl;
  readonly params: readonly ParamDecl[];
  readonly input?: InputDecl;
  readonly blocks: readonly BlockDecl[];
  readonly modules: readonly ModuleDecl[];
  /** The training settings; a variant inherits its parent's and replaces them key by key. */
  readonly training?: TrainingDecl;
  readonly span: Span;
}

/** What a front end returns: an AST when the text could be read at all, and every diagnostic found. */
export interface ParseResult {
  readonly ast: NetworkAst | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

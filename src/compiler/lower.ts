/**
 * Lowering: a resolved network AST (extends merged, parameters overridden) → IR. Binds arguments, expands
 * blocks and repeats, names every layer by its path, infers every shape and lists every parameter tensor.
 * Pure: returns `{ir, diagnostics}`; the IR is present only when there is no error.
 */
import type {
  Arg,
  BlockDecl,
  Branch,
  BranchMerge,
  Call,
  Expr,
  Item,
  NetworkAst,
  ParamDecl,
} from '../parser/ast.js';
import { clip, didYouMean, error, hasErrors, type Diagnostic, type Span } from '../diagnostics.js';
import { activationSizeProblem, DEFAULT_BATCH_SIZE, formatBytes } from './activation-limit.js';
import {
  argDefault,
  assembleMerge,
  samePadding,
  assembleNode,
  isLayerKind,
  LayerArgs,
  isMergeKind,
  LAYERS,
  MERGES,
  type ArgSpec,
  type ArgValue,
  type LayerDefinition,
  type LayerKind,
  type Lowered,
} from './ops/index.js';
import {
  coerce,
  describeValue,
  evaluate,
  formatValue,
  inferParamType,
  Scope,
  type Value,
} from './evaluate.js';
import { numel, type IrGroup, type IrNetwork, type IrNode, type Shape } from './ir.js';
import { withShape } from './ops/definition.js';
import { addShape } from './shapes.js';
import { frameworkArg, frameworkKind } from './framework-names.js';
import { argText, callText, syntaxOf } from './hint-syntax.js';

/** Options of the lowering. */
export interface LowerOptions {
  /** Values from `--set`, already checked against the declared parameters (see resolve.ts). */
  readonly overrides?: ReadonlyMap<string, { value: Value; span?: Span }>;
  /** Reject networks with more trainable parameters than this (before any tensor exists). */
  readonly maxParams?: number;
  /**
   * The batch size activations are checked at (see activation-limit.ts); DEFAULT_BATCH_SIZE (64) unless given:
   * `check`, `summary`, `stat` and `compile` assume it, `run` passes its `--batch-size`.
   */
  readonly batchSize?: number;
  /** The spec texts by file name, so messages can quote a literal as written (`4.0`, `1e3`). */
  readonly sources?: ReadonlyMap<string, string>;
}

/** Default `maxParams`: 500 million parameters (2 GB of float32). */
export const DEFAULT_MAX_PARAMS = 500_000_000;
/** What a module or block name must look like (the YAML schema's `identifier`). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names that could reach an object prototype; YAML's loader refuses them as keys, the DSL reaches this check. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Most layers and block instances a network may expand to (ResNet-152 has under 1,000); bounds time and memory. */
const MAX_EXPANDED_ITEMS = 100_000;
/** Blocks may call blocks; this bounds the nesting (and stops self-recursion). */
const MAX_BLOCK_DEPTH = 16;

/** The end of a chain of layers: which node produced it and its shape (undefined after a shape error). */
interface Cursor {
  readonly ref: string;
  readonly shape: Shape | undefined;
}

/** Where a layer is being placed. */
interface Place {
  readonly module: string;
  readonly group: string | null;
  readonly scope: Scope;
  readonly depth: number;
  /** The value the innermost block instance (or module) starts from: what `from = "input"` reads. */
  readonly input: Cursor;
  /** The call of the innermost block instance (none in a module): where a merge error's instance comes from. */
  readonly caller?: Span;
}

class Lowering {
  readonly diagnostics: Diagnostic[] = [];
  readonly nodes: IrNode[] = [];
  readonly groups: IrGroup[] = [];
  /** The span of the call (or merge) that made each layer and block instance, by path: side data, not IR. */
  readonly callSites = new Map<string, Span>();
  private readonly paths = new Set<string>();
  private readonly clashesReported = new Set<string>();
  private readonly reportedAt = new Map<string, { index: number; count: number }>();
  /** The value of every layer and block instance lowered so far, by path (what `from` reads). */
  private readonly values = new Map<string, Cursor>();
  /** Layers and block instances lowered so far, repeats included (see MAX_EXPANDED_ITEMS). */
  private expanded = 0;
  private readonly blocks = new Map<string, BlockDecl>();

  private readonly batch: number;
  private readonly batchAssumed: boolean;
  private readonly sources: ReadonlyMap<string, string>;

  constructor(
    private readonly ast: NetworkAst,
    options: LowerOptions,
  ) {
    this.batch = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.batchAssumed = options.batchSize === undefined;
    this.sources = options.sources ?? new Map();
  }

  run(options: LowerOptions): IrNetwork | undefined {
    const ast = this.ast;
    const globals = new Scope();
    // The name becomes folder names (runs/<name>, generated/<name>) and identifiers in generated code.
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(ast.name) || ast.name.includes('..') || ast.name.length > 100)
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `network name ${JSON.stringify(clip(ast.name))} must start with a letter and hold only letters, digits, '_', '-' and single '.' (at most 100)`,
          ast.nameSpan,
        ),
      );
    this.checkDeclaredNames(ast);
    const params = this.bindNetworkParams(ast.params, globals, options.overrides ?? new Map());
    const inputShape = this.inputShape(globals);
    for (const block of ast.blocks) {
      if (this.blocks.has(block.name) || isLayerKind(block.name))
        this.diagnostics.push(
          error(
            'DUPLICATE_NAME',
            isLayerKind(block.name)
              ? `block '${clip(block.name)}' has the name of a layer`
              : `block '${clip(block.name)}' is defined twice`,
            block.nameSpan,
          ),
        );
      else this.blocks.set(block.name, block);
    }
    if (ast.modules.length === 0)
      this.diagnostics.push(error('MISSING_KEY', `network '${clip(ast.name)}' has no modules`, ast.nameSpan));
    let cursor: Cursor = { ref: 'input', shape: inputShape };
    const moduleNames = new Set<string>();
    for (const mod of ast.modules) {
      if (moduleNames.has(mod.name)) {
        this.diagnostics.push(
          error('DUPLICATE_NAME', `module '${clip(mod.name)}' is defined twice`, mod.nameSpan),
        );
        continue;
      }
      moduleNames.add(mod.name);
      const scope = new Scope(globals);
      bindInputShape(scope, cursor.shape);
      const place: Place = { module: mod.name, group: null, scope, depth: 0, input: cursor };
      cursor = this.sequence(mod.items, mod.name, place, cursor, true);
    }
    if (hasErrors(this.diagnostics) || !inputShape || !cursor.shape) return undefined;
    const trainable = this.nodes.reduce(
      (n, node) => n + node.params.reduce((m, p) => m + (p.trainable ? numel(p.shape) : 0), 0),
      0,
    );
    const maxParams = options.maxParams ?? DEFAULT_MAX_PARAMS;
    if (trainable > maxParams) {
      this.diagnostics.push(
        error(
          'TOO_LARGE',
          `network '${clip(ast.name)}' has ${trainable.toLocaleString('en-US')} parameters ` +
            `(${formatBytes(trainable * 4)} as float32), more than the limit of ${maxParams.toLocaleString('en-US')}`,
          ast.nameSpan,
          'raise the limit with --max-params if this is intended',
        ),
      );
      return undefined;
    }
    return {
      irVersion: 1,
      name: ast.name,
      params,
      inputShape,
      modules: [...moduleNames],
      nodes: this.nodes,
      groups: this.groups,
      output: cursor.ref,
      outputShape: cursor.shape,
    };
  }

  /**
   * Names the DSL lets through that YAML's schema and loader refuse: module and block names must be identifiers
   * (they are PyTorch submodule names, where '.' is an error, and the first part of every layer path), and no
   * declared name may be `__proto__`, `constructor` or `prototype` (parameters become keys of plain objects).
   */
  private checkDeclaredNames(ast: NetworkAst): void {
    const reserved = (name: string, span: Span): void => {
      if (RESERVED_NAMES.has(name))
        this.diagnostics.push(
          error(
            'BAD_VALUE',
            `the name '${clip(name)}' is reserved (it could reach JavaScript object prototypes)`,
            span,
          ),
        );
    };
    const identifier = (name: string, span: Span): void => {
      if (!IDENTIFIER.test(name))
        this.diagnostics.push(
          error(
            'BAD_VALUE',
            `invalid name ${JSON.stringify(clip(name))}: use letters, digits and _, not starting with a digit`,
            span,
          ),
        );
      else reserved(name, span);
    };
    const calls = (list: readonly Item[]): void => {
      for (const c of list) {
        if (c.name !== undefined && c.nameSpan) reserved(c.name, c.nameSpan);
        if (c.kind === 'branches')
          for (const b of c.branches) {
            identifier(b.name, b.nameSpan);
            calls(b.items);
          }
      }
    };
    for (const p of ast.params) reserved(p.name, p.nameSpan);
    for (const b of ast.blocks) {
      identifier(b.name, b.nameSpan);
      for (const p of b.params) reserved(p.name, p.nameSpan);
      calls(b.body);
      calls(b.shortcut?.layers ?? []);
      calls(b.after);
    }
    for (const m of ast.modules) {
      identifier(m.name, m.nameSpan);
      calls(m.items);
    }
  }

  private bindNetworkParams(
    decls: readonly ParamDecl[],
    scope: Scope,
    overrides: ReadonlyMap<string, { value: Value; span?: Span }>,
  ): Record<string, number | boolean | string> {
    const out: Record<string, number | boolean | string> = {};
    const seen = new Set<string>();
    for (const decl of decls) {
      if (seen.has(decl.name)) {
        this.diagnostics.push(
          error('DUPLICATE_NAME', `parameter '${clip(decl.name)}' is declared twice`, decl.nameSpan),
        );
        continue;
      }
      seen.add(decl.name);
      const override = overrides.get(decl.name);
      const defaultValue = decl.default ? evaluate(decl.default, scope, this.diagnostics) : undefined;
      if (decl.default && !defaultValue) continue;
      const type = inferParamType(decl.type, defaultValue);
      const raw = override?.value ?? defaultValue;
      if (!raw) {
        this.diagnostics.push(
          error(
            'MISSING_ARGUMENT',
            `network parameter '${clip(decl.name)}' has no value`,
            decl.nameSpan,
            `set it with --set ${clip(decl.name)}=...`,
          ),
        );
        continue;
      }
      const value = coerce(raw, type);
      if (!value || value.t === 'list') {
        this.diagnostics.push(
          error(
            'WRONG_TYPE',
            value
              ? `network parameter '${clip(decl.name)}' must be a number, boolean or string, found ${describeValue(raw)} (lists are block parameters)`
              : `parameter '${clip(decl.name)}' expects ${type}, found ${describeValue(raw)}`,
            override?.span ?? decl.default?.span ?? decl.nameSpan,
          ),
        );
        // Keep the default bound so later uses of the name do not cascade into "unknown parameter".
        if (defaultValue) scope.set(decl.name, { value: defaultValue, span: decl.nameSpan });
        continue;
      }
      scope.set(decl.name, { value, span: decl.nameSpan });
      out[decl.name] = value.v;
    }
    return out;
  }

  private inputShape(scope: Scope): Shape | undefined {
    const input = this.ast.input;
    if (!input) {
      this.diagnostics.push(
        error('MISSING_KEY', `network '${clip(this.ast.name)}' has no input shape`, this.ast.nameSpan),
      );
      return undefined;
    }
    if (input.dims.length < 1 || input.dims.length > 3) {
      this.diagnostics.push(
        error(
          'BAD_INPUT_SHAPE',
          `input must be [C, H, W], [T, E] (tokens) or [F], found ${input.dims.length} dimensions`,
          input.span,
        ),
      );
      return undefined;
    }
    const dims: number[] = [];
    for (const dim of input.dims) {
      const v = this.positiveInt(dim, scope, 'input dimension');
      if (v === undefined) return undefined;
      dims.push(v);
    }
    if (!this.fits('input', dims, input.span)) return undefined;
    return dims;
  }

  /** An integer of at least `min` (1 unless given: a positive integer). */
  private positiveInt(expr: Expr, scope: Scope, what: string, min = 1): number | undefined {
    const v = evaluate(expr, scope, this.diagnostics);
    if (!v) return undefined;
    if (v.t === 'float') {
      this.diagnostics.push(
        error(
          'NOT_INTEGER',
          `${what} must be an integer, found ${this.found(expr, v)}`,
          expr.span,
          this.floatHint(expr, v.v),
        ),
      );
      return undefined;
    }
    if (v.t !== 'int') {
      this.diagnostics.push(
        error('WRONG_TYPE', `${what} must be an integer, found ${this.found(expr, v)}`, expr.span),
      );
      return undefined;
    }
    if (v.v < min) {
      const bound = min === 1 ? 'positive' : `at least ${min}`;
      this.diagnostics.push(error('NON_POSITIVE', `${what} must be ${bound}, found ${v.v}`, expr.span));
      return undefined;
    }
    return v.v;
  }

  /**
   * What a message says was found for `expr`, which evaluated to `value`: a float literal as written (`the float
   * literal 4.0`: the value alone, `4`, would not say why it is no integer), else its type and value.
   */
  private found(expr: Expr, value: Value): string {
    if (value.t === 'float' && expr.kind === 'float') return `the float literal ${this.written(expr)}`;
    return describeValue(value);
  }

  /** The source text of `span` when it is at hand and short (for hints that quote a value as written). */
  private sourceText(span: Span): string | undefined {
    const text = this.sources.get(span.file)?.slice(span.offset, span.endOffset);
    return text !== undefined && text.length > 0 && text.length <= 40 && !/[\r\n]/.test(text)
      ? text
      : undefined;
  }

  /** A float literal's source text (`4.0`, `1e3`), or its value when the text is not at hand. */
  private written(expr: Extract<Expr, { kind: 'float' }>): string {
    const text = this.sources.get(expr.span.file)?.slice(expr.span.offset, expr.span.endOffset);
    // A YAML expression whose text differs from its source (escapes) has spans covering the whole value.
    return clip(
      text !== undefined && Number(text) === expr.value ? text : formatValue({ t: 'float', v: expr.value }),
    );
  }

  /** Why a whole float is still no integer, as a hint (undefined for a fractional value: that says it all). */
  private floatHint(expr: Expr, value: number): string | undefined {
    if (!Number.isInteger(value)) return undefined;
    return expr.kind === 'float'
      ? `write ${clip(String(value))}: a number written with '.' or an exponent is a float, even when it is whole`
      : 'the value is a float because a float took part in computing it; compute it from integers';
  }

  /**
   * Lowers a sequence of items. In a module or branch (`indexed`), unnamed items are named by their position
   * among the items present (an item left out by its condition takes no number, as in a PyTorch list of layers).
   */
  private sequence(
    items: readonly Item[],
    prefix: string,
    place: Place,
    start: Cursor,
    indexed: boolean,
    autoNames?: Map<Item, string>,
  ): Cursor {
    let cursor = start;
    let index = 0;
    for (const item of items) {
      if (item.kind === 'branches') {
        const local = item.name ?? (indexed ? String(index) : (autoNames?.get(item) ?? item.op));
        index++;
        cursor = this.merge(item, prefix, local, place, cursor);
        continue;
      }
      const call = item;
      // `* 0` leaves the item out (a stage of one block: `X(stride = 2); X() * (n - 1)`).
      const count = call.repeat ? this.positiveInt(call.repeat, place.scope, 'repeat count', 0) : 1;
      if (count === undefined) continue;
      // A repeated item that has a name (its own, or in a block its kind's) numbers its instances under it, as a
      // PyTorch Sequential: `layers = DenseLayer() * 6` gives layers.0 ... layers.5. In a module or branch an
      // unnamed repeat takes positions like any item (stage2.0, stage2.1).
      const numbered = call.repeat !== undefined && (call.name !== undefined || !indexed);
      // A numbered repeat is one item of its sequence (as a nested Sequential is) when any instance is present.
      let placed = false;
      for (let k = 0; k < count; k++) {
        // Repeats multiply through nested blocks (`B() * 1000` of blocks of `C() * 1000`): bound the work.
        if (!this.expand(call)) return { ref: cursor.ref, shape: undefined };
        const here = call.repeat ? { ...place, scope: repeatScope(place.scope, k) } : place;
        const included = this.condition(call.condition, here.scope, 'a layer condition');
        if (included === undefined) return { ref: cursor.ref, shape: undefined };
        if (!included) continue;
        const local = call.name ?? (indexed ? String(index) : (autoNames?.get(call) ?? call.callee));
        if (numbered) placed = true;
        else index++;
        cursor = this.item(call, numbered ? `${prefix}.${local}.${k}` : `${prefix}.${local}`, here, cursor);
      }
      if (placed) index++;
    }
    return cursor;
  }

  /** Counts one more layer or block instance; false (reported once) past MAX_EXPANDED_ITEMS. */
  private expand(call: Call): boolean {
    if (++this.expanded <= MAX_EXPANDED_ITEMS) return true;
    if (this.expanded === MAX_EXPANDED_ITEMS + 1)
      this.diagnostics.push(
        error(
          'TOO_LARGE',
          `the network expands to more than ${MAX_EXPANDED_ITEMS.toLocaleString('en-US')} layers and block instances`,
          call.repeat?.span ?? call.span,
          'check the repeat counts',
        ),
      );
    return false;
  }

  /** The value of an `if` condition (true when there is none); undefined, reported, when it is no boolean. */
  private condition(expr: Expr | undefined, scope: Scope, what: string): boolean | undefined {
    if (!expr) return true;
    const value = evaluate(expr, scope, this.diagnostics);
    if (!value) return undefined;
    if (value.t !== 'bool') {
      this.diagnostics.push(
        error('WRONG_TYPE', `${what} must be a boolean, found ${describeValue(value)}`, expr.span),
      );
      return undefined;
    }
    return value.v;
  }

  /**
   * Lowers a merge of branches at `<prefix>.<local>`: every branch reads `cursor`, their values merge in written
   * order. Branch layers are named under the enclosing sequence (`<prefix>.<branch>.<n>`, or `<prefix>.<branch>`
   * for a branch of one unnamed layer), which gives torchvision's names for GoogLeNet-style blocks.
   */
  private merge(m: BranchMerge, prefix: string, local: string, place: Place, cursor: Cursor): Cursor {
    const path = `${prefix}.${local}`;
    const fail: Cursor = { ref: path, shape: undefined };
    const definition = isMergeKind(m.op) ? MERGES[m.op] : undefined;
    if (!definition) {
      const layerOrBlock = isLayerKind(m.op) || this.blocks.has(m.op);
      this.diagnostics.push(
        error(
          'UNKNOWN_MERGE',
          layerOrBlock
            ? `'${clip(m.op)}' is a ${isLayerKind(m.op) ? 'layer' : 'block'}, not a merge: only a merge has branches`
            : `unknown merge '${clip(m.op)}'`,
          m.opSpan,
          didYouMean(m.op, Object.keys(MERGES)) ?? `the merges are: ${Object.keys(MERGES).join(', ')}`,
        ),
      );
      return fail;
    }
    if (place.group === null) {
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `a merge of branches must be inside a block ('${clip(m.op)}' in module '${clip(place.module)}')`,
          m.opSpan,
          'declare a block holding the merge and call the block from the module',
        ),
      );
      return fail;
    }
    if (!this.uniqueBranches(m)) return fail;
    const args = this.checkedArgs(m.args, definition.args, place.scope, m.op, m.opSpan);
    const keepAll = this.condition(m.condition, place.scope, 'a merge condition');
    if (!args || keepAll === undefined) return fail;
    const branches = keepAll ? m.branches : m.branches.slice(0, 1);
    const outs = branches.map((b) => this.branch(b, prefix, place, cursor));
    const [only] = outs;
    if (!keepAll && only) return only;
    const shapes = outs.flatMap((o) => (o.shape ? [o.shape] : []));
    if (shapes.length !== outs.length) return fail;
    const names = branches.map((b) => b.name);
    const result = definition.lower(shapes, new LayerArgs(args), names);
    if (!result.ok) {
      const caller = place.caller;
      const d = error(result.code, `${clip(path)}: ${result.message}`, m.opSpan);
      // Like a block's merge add: one report per call of the block, with the call shown.
      if (!caller) this.report(m.opSpan, d);
      else
        this.report(
          m.opSpan,
          {
            ...d,
            related: [{ span: caller, message: `the instance ${clip(place.group ?? '')} is called here` }],
          },
          `${caller.file}:${caller.offset}`,
        );
      return fail;
    }
    if (!this.claimPath(path, m.nameSpan ?? m.opSpan)) return fail;
    const frame = {
      path,
      inputs: outs.map((o) => o.ref),
      inputShapes: shapes,
      module: place.module,
      group: place.group,
      functional: true,
    };
    return this.push(assembleMerge<IrNode>(frame, result.body), m.span);
  }

  /** False (reported) when a merge has no branches or two of one name. */
  private uniqueBranches(m: BranchMerge): boolean {
    if (m.branches.length === 0) {
      this.diagnostics.push(
        error(
          'MISSING_ARGUMENT',
          `merge '${clip(m.op)}' has no branches`,
          m.opSpan,
          syntaxOf(m.opSpan) === 'dsl'
            ? 'write name { layers } per branch'
            : `write each branch as a list of layers under it: ${clip(m.op)}: {a: [relu], b: []}`,
        ),
      );
      return false;
    }
    const seen = new Set<string>();
    let ok = true;
    for (const b of m.branches) {
      if (seen.has(b.name)) {
        this.diagnostics.push(
          error('DUPLICATE_NAME', `branch '${clip(b.name)}' is defined twice`, b.nameSpan),
        );
        ok = false;
      }
      seen.add(b.name);
    }
    return ok;
  }

  /** One branch of a merge, from the merge's input; an empty branch is that input. */
  private branch(b: Branch, prefix: string, place: Place, cursor: Cursor): Cursor {
    const path = `${prefix}.${b.name}`;
    const [single] = b.items;
    if (b.items.length === 1 && single?.kind === 'call' && single.name === undefined && !single.repeat) {
      if (!this.expand(single)) return { ref: cursor.ref, shape: undefined };
      const included = this.condition(single.condition, place.scope, 'a layer condition');
      if (included === undefined) return { ref: cursor.ref, shape: undefined };
      return included ? this.item(single, path, place, cursor) : cursor;
    }
    return this.sequence(b.items, path, place, cursor, true);
  }

  /**
   * Reports a problem found while lowering a layer at `at`, once per place in the source: a bad layer inside a
   * block would otherwise be reported once per instance (35 times for one padding in mobilenet_v2). The first
   * report says how many instances share it (see `finishReports`). `also` keeps apart reports at one place that
   * are separate mistakes (a block's merge, once per call of the block).
   */
  private report(at: Span, diagnostic: Diagnostic, also = ''): void {
    const where = `${at.file}:${at.offset}:${diagnostic.code}:${also}`;
    const seen = this.reportedAt.get(where);
    if (seen) {
      seen.count++;
      return;
    }
    this.reportedAt.set(where, { index: this.diagnostics.length, count: 1 });
    this.diagnostics.push(diagnostic);
  }

  /**
   * Adds "(and N more instances)" to problems reported once for several instances, and folds repeats of one
   * message at one place (an argument checked in every instance of its block) into its first report likewise.
   */
  finishReports(): void {
    const counts = new Map<number, number>();
    for (const { index, count } of this.reportedAt.values()) counts.set(index, count);
    const firstOf = new Map<string, number>();
    const kept: Diagnostic[] = [];
    const keptIndex = new Map<number, number>();
    for (const [i, d] of this.diagnostics.entries()) {
      const key = `${d.code}|${d.span?.file ?? ''}:${d.span?.offset ?? -1}|${d.message}`;
      const first = firstOf.get(key);
      if (first !== undefined) {
        counts.set(first, (counts.get(first) ?? 1) + 1);
        continue;
      }
      firstOf.set(key, i);
      keptIndex.set(i, kept.length);
      kept.push(d);
    }
    for (const [i, count] of counts) {
      const at = keptIndex.get(i);
      const d = at === undefined ? undefined : kept[at];
      if (d && at !== undefined && count > 1)
        kept[at] = {
          ...d,
          message: `${d.message} (and ${count - 1} more instance${count > 2 ? 's' : ''} of this layer)`,
        };
    }
    this.diagnostics.splice(0, this.diagnostics.length, ...kept);
  }

  private claimPath(path: string, span: Span): boolean {
    if (this.paths.has(path)) {
      // A repeated call clashes once per repetition; one report per place in the source is enough.
      const where = `${span.file}:${span.offset}`;
      if (!this.clashesReported.has(where)) {
        this.clashesReported.add(where);
        this.diagnostics.push(error('DUPLICATE_NAME', `two layers are named '${clip(path)}'`, span));
      }
      return false;
    }
    this.paths.add(path);
    return true;
  }

  private item(written: Call, path: string, place: Place, previous: Cursor): Cursor {
    const fromArg = written.args.find((a) => a.name === 'from');
    const cursor = fromArg ? this.source(fromArg, place) : previous;
    if (!cursor) return { ref: previous.ref, shape: undefined };
    const call = this.chosen(
      fromArg ? { ...written, args: written.args.filter((a) => a !== fromArg) } : written,
      place.scope,
    );
    if (!call) return { ref: cursor.ref, shape: undefined };
    if (isLayerKind(call.callee)) return this.layer(call, call.callee, path, place, cursor);
    const block = this.blocks.get(call.callee);
    if (block) return this.instantiate(block, call, path, place, cursor);
    const candidates = [...Object.keys(LAYERS), ...this.blocks.keys()];
    const other = frameworkKind(call.callee, new Set(Object.keys(LAYERS)));
    // `Conv2d` looks like a block name, but it is a layer someone knows from PyTorch.
    const isBlockLike = /^[A-Z]/.test(call.callee) && other === undefined;
    this.diagnostics.push(
      error(
        isBlockLike ? 'UNKNOWN_BLOCK' : 'UNKNOWN_LAYER',
        `unknown ${isBlockLike ? 'block' : 'layer'} '${clip(call.callee)}'`,
        call.calleeSpan,
        other === undefined
          ? didYouMean(call.callee, candidates)
          : 'leftOut' in other
            ? other.leftOut
            : `${other.known} is '${other.kind}' in netspec: write ${this.exampleCall(other.kind, call.calleeSpan)}`,
      ),
    );
    return { ref: cursor.ref, shape: undefined };
  }

  /** A call of `kind` with its required arguments as `...`, in the syntax of the file `at` is in. */
  private exampleCall(kind: string, at: Span): string {
    const required = isLayerKind(kind) ? LAYERS[kind].args.filter((a) => a.default === undefined) : [];
    return callText(
      syntaxOf(at),
      kind,
      required.map((a) => [a.name, '...'] as const),
    );
  }

  /**
   * What `from = "name"` reads instead of the previous item: an earlier layer or block instance of the same block
   * instance, by its name there (`conv1`, `branch2.0`), or `input`, the block's input. Only inside blocks, and only
   * their own layers: a block reads one value (its input), which is what the generated PyTorch blocks take.
   */
  private source(arg: Arg, place: Place): Cursor | undefined {
    const value = evaluate(arg.value, place.scope, this.diagnostics);
    if (!value) return undefined;
    const at = arg.value.span;
    if (value.t !== 'string') {
      this.diagnostics.push(
        error('WRONG_TYPE', `'from' names an earlier layer, a string, found ${describeValue(value)}`, at),
      );
      return undefined;
    }
    if (place.group === null) {
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `'from' reads an earlier layer of the same block; '${clip(value.v)}' is read in module '${clip(place.module)}'`,
          at,
          'put the layers that share a value in a block',
        ),
      );
      return undefined;
    }
    if (value.v === 'input') return place.input;
    const found = this.values.get(`${place.group}.${value.v}`);
    if (found) return found;
    const prefix = `${place.group}.`;
    const known = [...this.values.keys()]
      .filter((p) => p.startsWith(prefix))
      .map((p) => p.slice(prefix.length));
    this.diagnostics.push(
      error(
        'UNKNOWN_LAYER',
        `no earlier layer '${clip(value.v)}' in this block to read from`,
        at,
        didYouMean(value.v, ['input', ...known]) ??
          `the block's layers so far: ${clip(['input', ...known].join(', '), 200)}`,
      ),
    );
    return undefined;
  }

  /**
   * The call with its callee resolved: `$act(...)` (and `act(...)` when `act` is no layer or block but a
   * parameter) calls the layer or block the string parameter names.
   */
  private chosen(call: Call, scope: Scope): Call | undefined {
    const dollar = call.callee.startsWith('$');
    const name = dollar ? call.callee.slice(1) : call.callee;
    if (!dollar && (isLayerKind(name) || this.blocks.has(name))) return call;
    const binding = scope.get(name);
    if (!binding) {
      if (!dollar) return call; // reported as an unknown layer or block
      this.diagnostics.push(
        error(
          'UNKNOWN_PARAMETER',
          `unknown parameter '${clip(name)}'`,
          call.calleeSpan,
          didYouMean(name, scope.allNames()),
        ),
      );
      return undefined;
    }
    const v = binding.value;
    if (v.t !== 'string' || v.v.startsWith('$')) {
      this.diagnostics.push(
        error(
          'WRONG_TYPE',
          `parameter '${clip(name)}' is called as a layer, so it must name one (a string such as "relu"), found ${describeValue(v)}`,
          call.calleeSpan,
        ),
      );
      return undefined;
    }
    return { ...call, callee: v.v };
  }

  /** Binds call arguments to declared names: positional first, then named. */
  private bindArgs(
    call: { readonly args: readonly Arg[] },
    names: readonly string[],
    what: string,
  ): Map<string, { expr: Expr; span: Span }> | undefined {
    const bound = new Map<string, { expr: Expr; span: Span }>();
    let ok = true;
    let position = 0;
    for (const arg of call.args) {
      let name: string | undefined = arg.name;
      if (name === undefined) {
        name = names[position++];
        if (name === undefined) {
          this.diagnostics.push(
            error(
              'TOO_MANY_ARGUMENTS',
              `${what} takes at most ${names.length} positional argument${names.length === 1 ? '' : 's'}`,
              arg.span,
            ),
          );
          ok = false;
          continue;
        }
      } else if (!names.includes(name)) {
        const other = frameworkArg(name, names);
        const hint =
          other === undefined
            ? (didYouMean(name, names) ??
              (names.length ? `its arguments are: ${clip(names.join(', '), 200)}` : `it takes no arguments`))
            : 'inferred' in other
              ? `leave it out: netspec infers ${other.inferred} from the layer before`
              : `${other.known} is '${other.arg}' in netspec: write ${argText(syntaxOf(arg.span), other.arg, this.sourceText(arg.value.span) ?? '...')}`;
        this.diagnostics.push(
          error(
            'UNKNOWN_ARGUMENT',
            `${what} has no argument '${clip(name)}'`,
            arg.nameSpan ?? arg.span,
            hint,
          ),
        );
        ok = false;
        continue;
      }
      if (bound.has(name)) {
        this.diagnostics.push(
          error('DUPLICATE_ARGUMENT', `argument '${clip(name)}' is given twice`, arg.nameSpan ?? arg.span),
        );
        ok = false;
        continue;
      }
      bound.set(name, { expr: arg.value, span: arg.value.span });
    }
    return ok ? bound : undefined;
  }

  /** The checked arguments of a layer or merge call (given, else defaulted); undefined when one is wrong. */
  private checkedArgs(
    given: readonly Arg[],
    specs: readonly ArgSpec[],
    scope: Scope,
    callee: string,
    calleeSpan: Span,
  ): Map<string, ArgValue> | undefined {
    const bound = this.bindArgs(
      { args: given },
      specs.map((s) => s.name),
      callee,
    );
    if (!bound) return undefined;
    const args = new Map<string, ArgValue>();
    let ok = true;
    for (const spec of specs) {
      const arg = bound.get(spec.name);
      const value = arg ? this.argValue(spec, arg.expr, scope, callee) : argDefault(spec, args);
      if (value === undefined) {
        if (!arg)
          this.diagnostics.push(
            error(
              'MISSING_ARGUMENT',
              `${callee} needs argument '${spec.name}'`,
              calleeSpan,
              `write ${callText(syntaxOf(calleeSpan), callee, [[spec.name, '...']])}`,
            ),
          );
        ok = false;
        continue;
      }
      args.set(spec.name, value);
    }
    for (const spec of specs) {
      if (args.get(spec.name) !== SAME) continue;
      const at = bound.get(spec.name)?.span ?? calleeSpan;
      const padding = this.samePadding(args, bound.has('stride'), callee, at);
      if (padding) args.set(spec.name, padding);
      else ok = false;
    }
    return ok ? args : undefined;
  }

  /** The integers `padding: same` stands for with these arguments, or undefined (reported) when none do. */
  private samePadding(
    args: ReadonlyMap<string, ArgValue>,
    strideGiven: boolean,
    callee: string,
    at: Span,
  ): [number, number] | undefined {
    const pair = (name: string): [number, number] => {
      const v = args.get(name);
      return Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [1, 1];
    };
    const kernel = pair('kernel');
    const stride = pair('stride');
    const dilation = pair('dilation');
    const result = samePadding(kernel, stride, dilation);
    if (result.ok) return result.padding;
    const syntax = syntaxOf(at);
    const axis = result.axis === 0 ? 'height' : 'width';
    const padding = (p: number): string => `'${argText(syntax, 'padding', String(p))}'`;
    if (result.problem === 'stride') {
      const extent = dilation[result.axis] * (kernel[result.axis] - 1);
      // A pooling's stride defaults to its kernel, so `maxpool: {kernel: 3, padding: same}` has stride 3.
      const defaulted = !strideGiven && callee !== 'conv';
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `${callee} argument 'padding': 'same' keeps the size only with stride 1, and the stride along the ${axis} is ${result.stride}${defaulted ? ' (a pooling stride defaults to its kernel)' : ''}`,
          at,
          extent % 2 === 0
            ? `write ${padding(extent / 2)} (${dilation[result.axis] === 1 ? '' : 'dilation * '}(kernel - 1) / 2): with stride ${result.stride} it gives ceil(size / ${result.stride})${defaulted ? `, or add '${argText(syntax, 'stride', '1')}' to keep the size` : ''}`
            : `write the padding as an integer, e.g. ${padding(Math.floor(extent / 2))}`,
        ),
      );
      return undefined;
    }
    const k = kernel[result.axis];
    const d = dilation[result.axis];
    this.diagnostics.push(
      error(
        'BAD_VALUE',
        `${callee} argument 'padding': 'same' with ${d === 1 ? `the even kernel ${k}` : `kernel ${k} and dilation ${d}`} along the ${axis} needs ${result.extent} zero${result.extent === 1 ? '' : 's'} in all, which do not split evenly between the two sides (PyTorch pads ${Math.floor(result.extent / 2)} before and ${Math.ceil(result.extent / 2)} after); netspec pads both sides alike`,
        at,
        `use an odd kernel, or write ${padding(Math.floor(result.extent / 2))} (the output 1 smaller) or ${padding(Math.ceil(result.extent / 2))} (1 larger)`,
      ),
    );
    return undefined;
  }

  private layer(call: Call, kind: LayerKind, path: string, place: Place, cursor: Cursor): Cursor {
    const definition: LayerDefinition = LAYERS[kind];
    const args = this.checkedArgs(call.args, definition.args, place.scope, call.callee, call.calleeSpan);
    const ok = args !== undefined;
    if (!this.claimPath(path, call.nameSpan ?? call.span) || !ok) return { ref: path, shape: undefined };
    const input = cursor.shape;
    if (!input) return { ref: path, shape: undefined };
    const frame = {
      path,
      inputs: [cursor.ref],
      inputShapes: [input],
      module: place.module,
      group: place.group,
      functional: definition.functionalInBlocks && place.group !== null,
    };
    const lowered: Lowered = definition.lower(input, new LayerArgs(args ?? new Map()));
    if (!lowered.ok) {
      const hint =
        lowered.code === 'NOT_FLAT'
          ? `add ${callText(syntaxOf(call.span), 'flatten')} before it`
          : lowered.code === 'KERNEL_TOO_LARGE'
            ? 'use a smaller kernel, more padding, or a larger input'
            : undefined;
      this.report(call.span, error(lowered.code, `${clip(path)}: ${lowered.message}`, call.span, hint));
      return { ref: path, shape: undefined };
    }
    return this.push(assembleNode<IrNode>(frame, lowered.body), call.span);
  }

  private argValue(spec: ArgSpec, expr: Expr, scope: Scope, layer: string): ArgValue | undefined {
    const value = evaluate(expr, scope, this.diagnostics);
    if (!value) return undefined;
    const fail = (
      code: 'WRONG_TYPE' | 'NOT_INTEGER',
      expected: string,
      at: Expr = expr,
      found: Value = value,
    ): undefined => {
      this.diagnostics.push(
        error(
          code,
          `${layer} argument '${spec.name}' expects ${expected}, found ${this.found(at, found)}`,
          at.span,
          code === 'NOT_INTEGER' && found.t === 'float' ? this.floatHint(at, found.v) : undefined,
        ),
      );
      return undefined;
    };
    switch (spec.type) {
      case 'bool':
        return value.t === 'bool' ? value.v : fail('WRONG_TYPE', 'a boolean');
      case 'float':
        if (value.t !== 'int' && value.t !== 'float') return fail('WRONG_TYPE', 'a number');
        return this.checkRange(spec, value.v, expr.span, layer);
      case 'int':
        if (value.t === 'float') return fail('NOT_INTEGER', 'an integer');
        if (value.t !== 'int') return fail('WRONG_TYPE', 'an integer');
        return this.checkRange(spec, value.v, expr.span, layer);
      case 'pair': {
        if (spec.paddingWords && value.t === 'string') {
          if (value.v === 'valid') return [0, 0];
          // Resolved to integers in checkedArgs, once kernel, stride and dilation are bound.
          if (value.v === 'same') return SAME;
          this.diagnostics.push(
            error(
              'BAD_VALUE',
              `${layer} argument '${spec.name}' expects an integer, [h, w], 'same' or 'valid', found ${describeValue(value)}`,
              expr.span,
              didYouMean(value.v, ['same', 'valid']),
            ),
          );
          return undefined;
        }
        const items = value.t === 'list' ? value.v : [value, value];
        if (items.length !== 2) return fail('WRONG_TYPE', 'an integer or a list of two integers [h, w]');
        const pair: number[] = [];
        for (const [i, item] of items.entries()) {
          // In a written list `[3, 3.0]`, the item is what to point at and quote.
          const at = value.t === 'list' && expr.kind === 'list' ? (expr.items[i] ?? expr) : expr;
          if (item.t === 'float') return fail('NOT_INTEGER', 'integers', at, item);
          if (item.t !== 'int') return fail('WRONG_TYPE', 'an integer or a list of two integers [h, w]');
          if (this.checkRange(spec, item.v, expr.span, layer) === undefined) return undefined;
          pair.push(item.v);
        }
        return [pair[0] ?? 0, pair[1] ?? 0];
      }
      case 'ints': {
        const items = value.t === 'list' ? value.v : [value];
        if (
          (spec.minItems !== undefined && items.length < spec.minItems) ||
          (spec.maxItems !== undefined && items.length > spec.maxItems)
        )
          return fail('WRONG_TYPE', `a list of ${itemsRange(spec)} integers`);
        const ints: number[] = [];
        for (const [i, item] of items.entries()) {
          const at = value.t === 'list' && expr.kind === 'list' ? (expr.items[i] ?? expr) : expr;
          if (item.t === 'float') return fail('NOT_INTEGER', 'integers', at, item);
          if (item.t !== 'int') return fail('WRONG_TYPE', 'a list of integers', at, item);
          if (this.checkRange(spec, item.v, at.span, layer) === undefined) return undefined;
          ints.push(item.v);
        }
        return ints;
      }
      case 'choice': {
        const choices = spec.choices ?? [];
        if (value.t !== 'string' || !choices.includes(value.v)) {
          this.diagnostics.push(
            error(
              value.t === 'string' ? 'BAD_VALUE' : 'WRONG_TYPE',
              `${layer} argument '${spec.name}' expects one of ${choices.map((c) => `'${c}'`).join(', ')}, found ${describeValue(value)}`,
              expr.span,
              value.t === 'string' ? didYouMean(value.v, choices) : undefined,
            ),
          );
          return undefined;
        }
        return value.v;
      }
    }
  }

  private checkRange(spec: ArgSpec, v: number, span: Span, layer: string): number | undefined {
    const min = spec.min;
    if (min !== undefined && (spec.exclusiveMin ? v <= min : v < min)) {
      const code = min === 1 && !spec.exclusiveMin ? 'NON_POSITIVE' : 'BAD_VALUE';
      const bound =
        min === 1 && !spec.exclusiveMin
          ? 'positive'
          : spec.exclusiveMin
            ? `greater than ${min}`
            : `at least ${min}`;
      this.diagnostics.push(
        error(code, `${layer} argument '${spec.name}' must be ${bound}, found ${v}`, span),
      );
      return undefined;
    }
    if (spec.max !== undefined && (spec.exclusiveMax ? v >= spec.max : v > spec.max)) {
      const bound = spec.exclusiveMax ? `less than ${spec.max}` : `at most ${spec.max}`;
      this.diagnostics.push(
        error('BAD_VALUE', `${layer} argument '${spec.name}' must be ${bound}, found ${v}`, span),
      );
      return undefined;
    }
    return v;
  }

  private push(node: IrNode | undefined, span: Span): Cursor {
    if (!node) return { ref: 'input', shape: undefined };
    const parameters = node.params.reduce((n, p) => n + numel(p.shape), 0);
    if (!this.fits(node.path, node.outputShape, span, parameters))
      return { ref: node.path, shape: undefined };
    this.nodes.push(node);
    this.callSites.set(node.path, span);
    const out = { ref: node.path, shape: node.outputShape };
    this.values.set(node.path, out);
    return out;
  }

  /** True when an activation of `shape` fits at the batch size; else a TOO_LARGE at `span`. */
  private fits(what: string, shape: Shape, span: Span, parameters?: number): boolean {
    const problem = activationSizeProblem(what, shape, this.batch, parameters);
    if (problem === undefined) return true;
    this.diagnostics.push(
      error(
        'TOO_LARGE',
        problem,
        span,
        this.batchAssumed
          ? `check, summary, stat and compile size activations at batch ${DEFAULT_BATCH_SIZE} (the default training batch); one tensor holds at most 2^30 float32 values (4 GiB)`
          : 'one tensor holds at most 2^30 float32 values (4 GiB): use a smaller batch or a smaller layer',
      ),
    );
    return false;
  }

  /** Expands one block instance at `path`. */
  private instantiate(block: BlockDecl, call: Call, path: string, outer: Place, cursor: Cursor): Cursor {
    if (outer.depth >= MAX_BLOCK_DEPTH) {
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `blocks nest deeper than ${MAX_BLOCK_DEPTH} levels at '${clip(block.name)}' (does a block call itself?)`,
          call.calleeSpan,
        ),
      );
      return { ref: path, shape: undefined };
    }
    const scope = this.bindBlockParams(block, call, outer.scope, cursor.shape);
    if (!scope || !this.claimPath(path, call.nameSpan ?? call.span)) return { ref: path, shape: undefined };
    this.callSites.set(path, call.span);
    const place: Place = {
      module: outer.module,
      group: path,
      scope,
      depth: outer.depth + 1,
      input: cursor,
      caller: call.span,
    };
    const autoNames = autoNameBlockLayers(block);
    const input = cursor;
    const body = this.sequence(block.body, path, place, input, false, autoNames);
    let merged = body;
    const merge = block.merge;
    let active = false;
    if (merge) {
      active = true;
      if (merge.condition) {
        const cond = evaluate(merge.condition, scope, this.diagnostics);
        if (cond && cond.t !== 'bool') {
          this.diagnostics.push(
            error(
              'WRONG_TYPE',
              `merge condition must be a boolean, found ${describeValue(cond)}`,
              merge.condition.span,
            ),
          );
          return { ref: path, shape: undefined };
        }
        active = cond?.v === true;
      }
    } else if (block.shortcut) {
      this.diagnostics.push(
        error(
          'BAD_VALUE',
          `block '${clip(block.name)}' has a shortcut but no merge`,
          block.shortcut.span,
          syntaxOf(block.shortcut.span) === 'dsl' ? "add 'merge add'" : "add 'merge: add'",
        ),
      );
    }
    if (merge && active) {
      if (!input.shape || !body.shape) return { ref: path, shape: undefined };
      const sc = block.shortcut;
      const shapeChanges = !sameShape(input.shape, body.shape);
      const useLayers = sc !== undefined && sc.layers.length > 0 && (sc.when === 'always' || shapeChanges);
      const shortcut = useLayers ? this.sequence(sc.layers, path, place, input, false, autoNames) : input;
      if (!shortcut.shape) return { ref: path, shape: undefined };
      // The block's own `merge add` keeps one shape for body and shortcut (no broadcasting): a shortcut that
      // misses the body's shape is the mistake to report here.
      const result = withShape(addShape([body.shape, shortcut.shape]), (outputShape) => ({
        kind: 'add' as const,
        outputShape,
        params: [],
      }));
      const addPath = `${path}.${autoNames.get(MERGE_KEY) ?? 'add'}`;
      if (!result.ok) {
        this.mergeMismatch(block, call, addPath, body.shape, shortcut.shape, useLayers);
        // Go on with the body's value (what the block means to give), so later blocks are checked too: a second
        // stage with the same mistake is reported in the same run.
        const rest = this.sequence(block.after, path, place, body, false, autoNames);
        this.values.set(path, rest);
        return rest;
      }
      if (!this.claimPath(addPath, merge.span)) return { ref: path, shape: undefined };
      const frame = {
        path: addPath,
        inputs: [body.ref, shortcut.ref],
        inputShapes: [body.shape, shortcut.shape],
        module: place.module,
        group: path,
        functional: true,
      };
      merged = this.push(assembleMerge<IrNode>(frame, result.body), merge.span);
    }
    const out = this.sequence(block.after, path, place, merged, false, autoNames);
    this.values.set(path, out);
    if (input.shape && out.shape)
      this.groups.push({
        path,
        block: block.name,
        module: outer.module,
        parent: outer.group,
        inputShape: input.shape,
        output: out.ref,
        outputShape: out.shape,
      });
    return out;
  }

  /**
   * Reports a block whose `merge add` gets two shapes: which side is the body and which the shortcut, both shapes,
   * at the merge and with the call that made this instance (one report per call; repeats are counted).
   */
  private mergeMismatch(
    block: BlockDecl,
    call: Call,
    addPath: string,
    body: Shape,
    shortcut: Shape,
    shortcutLayers: boolean,
  ): void {
    const merge = block.merge;
    if (!merge) return;
    const show = (s: Shape): string => `[${s.join(', ')}]`;
    const why = shortcutLayers
      ? "the shortcut's layers"
      : block.shortcut
        ? `the block's input: the shortcut has no layers to run`
        : `the block's input: the block has no shortcut, so it is the identity`;
    const syntax = syntaxOf(merge.span);
    const hint = shortcutLayers
      ? "make the shortcut's layers give the body's shape (out channels, stride)"
      : block.shortcut
        ? undefined
        : syntax === 'dsl'
          ? 'the body changes the shape; add a shortcut that maps the input to it: shortcut when shape_changes { conv(out = ..., kernel = 1, stride = ...) }'
          : 'the body changes the shape; add a shortcut that maps the input to it: shortcut: {when: shape_changes, layers: [conv: {out: ..., kernel: 1, stride: ...}]}';
    const diagnostic: Diagnostic = {
      ...error(
        'SHAPE_MISMATCH',
        `${clip(addPath)}: block ${clip(block.name)}'s merge add needs one shape, but the body gives ${show(body)} and the shortcut ${show(shortcut)} (${why})`,
        merge.span,
        hint,
      ),
      related: [
        {
          span: call.span,
          message: `the instance ${clip(addPath.slice(0, addPath.lastIndexOf('.')))} is called here`,
        },
      ],
    };
    this.report(merge.span, diagnostic, `${call.span.file}:${call.span.offset}`);
  }

  private bindBlockParams(
    block: BlockDecl,
    call: Call,
    callerScope: Scope,
    input: Shape | undefined,
  ): Scope | undefined {
    const bound = this.bindArgs(
      call,
      block.params.map((p) => p.name),
      `block ${clip(block.name)}`,
    );
    if (!bound) return undefined;
    // Block parameters see the network parameters, never the caller's block parameters.
    const scope = new Scope(callerScope.root());
    bindInputShape(scope, input);
    let ok = true;
    for (const decl of block.params) {
      const given = bound.get(decl.name);
      const raw = given
        ? evaluate(given.expr, callerScope, this.diagnostics)
        : decl.default
          ? evaluate(decl.default, scope, this.diagnostics)
          : undefined;
      if (!raw) {
        if (!given && !decl.default)
          this.diagnostics.push(
            error(
              'MISSING_ARGUMENT',
              `block ${clip(block.name)} needs argument '${clip(decl.name)}'`,
              call.calleeSpan,
              `write ${callText(syntaxOf(call.calleeSpan), clip(block.name), [[clip(decl.name), '...']])}`,
            ),
          );
        ok = false;
        continue;
      }
      const type = inferParamType(decl.type, decl.default ? raw : undefined);
      const value = coerce(raw, type);
      if (!value) {
        const source = given?.expr ?? decl.default;
        const notInteger = raw.t === 'float' && type === 'int';
        this.diagnostics.push(
          error(
            notInteger ? 'NOT_INTEGER' : 'WRONG_TYPE',
            `block ${clip(block.name)} argument '${clip(decl.name)}' expects ${type}, found ${source ? this.found(source, raw) : describeValue(raw)}`,
            given?.span ?? decl.default?.span ?? decl.nameSpan,
            notInteger && source ? this.floatHint(source, raw.v as number) : undefined,
          ),
        );
        ok = false;
        continue;
      }
      scope.set(decl.name, { value, ...(given ? { span: given.span } : {}) });
    }
    return ok ? scope : undefined;
  }
}

/** Stands for `padding: same` between binding an argument and resolving it (see `samePadding`). */
const SAME = 'same';

/** `2`, `2 to 4`, `at least 1`: how many items an `ints` argument takes. */
function itemsRange(spec: ArgSpec): string {
  const { minItems: lo, maxItems: hi } = spec;
  if (lo !== undefined && lo === hi) return String(lo);
  if (lo !== undefined && hi !== undefined) return `${lo} to ${hi}`;
  if (lo !== undefined) return `at least ${lo}`;
  return hi !== undefined ? `at most ${hi}` : 'any number of';
}

/** Key under which the merge's local name is kept in a block's auto-name table. */
const MERGE_KEY = Symbol('merge') as unknown as Item;

/**
 * Names for a block's unnamed layers: the layer kind when it occurs once (`add`), else `kind_1`, `kind_2`, ...
 * in order of appearance (body, shortcut, after), skipping names the user took.
 */
function autoNameBlockLayers(block: BlockDecl): Map<Item, string> {
  const items: Item[] = [...block.body, ...(block.shortcut?.layers ?? []), ...block.after];
  const taken = new Set(items.flatMap((c) => (c.name !== undefined ? [c.name] : [])));
  const unnamed = items.filter((c) => c.name === undefined);
  const byKind = new Map<string, Item[]>();
  const add = (kind: string, c: Item): void => {
    const list = byKind.get(kind);
    if (list) list.push(c);
    else byKind.set(kind, [c]);
  };
  for (const c of unnamed) add(c.kind === 'call' ? c.callee.replace(/^\$/, '') : c.op, c);
  if (block.merge) add('add', MERGE_KEY);
  const names = new Map<Item, string>();
  for (const [kind, list] of byKind) {
    let k = 0;
    for (const c of list) {
      let name = list.length === 1 ? kind : `${kind}_${++k}`;
      while (taken.has(name)) name = `${kind}_${++k}`;
      taken.add(name);
      names.set(c, name);
    }
  }
  return names;
}

/**
 * Binds `in.channels`, `in.height`, `in.width` ([C, H, W]), `in.tokens` and `in.features` ([T, E]),
 * `in.features` ([F]), and `in.shape` and `in.rank` (any), the shape of a block's (or module's) input.
 */
function bindInputShape(scope: Scope, shape: Shape | undefined): void {
  const int = (v: number): Value => ({ t: 'int', v });
  if (!shape) {
    for (const name of INPUT_SHAPE_NAMES) scope.set(name, { value: int(0), unknown: true });
    return;
  }
  const names: Record<number, readonly string[]> = {
    1: ['features'],
    2: ['tokens', 'features'],
    3: ['channels', 'height', 'width'],
  };
  for (const [i, name] of (names[shape.length] ?? []).entries()) {
    const d = shape[i];
    if (d !== undefined) scope.set(`in.${name}`, { value: int(d) });
  }
  scope.set('in.shape', { value: { t: 'list', v: shape.map(int) } });
  scope.set('in.rank', { value: int(shape.length) });
}

/** Every name bindInputShape may bind. */
const INPUT_SHAPE_NAMES = ['channels', 'height', 'width', 'tokens', 'features', 'shape', 'rank'].map(
  (n) => `in.${n}`,
);

/** The scope of one repetition of a repeated call: `index` is the repetition's number, from 0. */
function repeatScope(scope: Scope, k: number): Scope {
  const inner = new Scope(scope);
  inner.set('index', { value: { t: 'int', v: k } });
  return inner;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Lowers a resolved network AST to IR. `callSites` maps each layer and block instance lowered (also when there are
 * errors) to the span of the call that made it; it stays beside the IR, which holds no source positions.
 */
export function lower(
  ast: NetworkAst,
  options: LowerOptions = {},
): { ir: IrNetwork | undefined; diagnostics: Diagnostic[]; callSites: ReadonlyMap<string, Span> } {
  const lowering = new Lowering(ast, options);
  const ir = lowering.run(options);
  lowering.finishReports();
  return {
    ir: hasErrors(lowering.diagnostics) ? undefined : ir,
    diagnostics: lowering.diagnostics,
    callSites: lowering.callSites,
  };
}

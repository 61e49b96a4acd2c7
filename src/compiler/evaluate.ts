/** Expression evaluation over typed values: integer arithmetic, booleans, lists. Pure; errors are diagnostics. */
import type { Expr, ParamType } from '../parser/ast.js';
import { clip, didYouMean, error, type Diagnostic, type Span } from '../diagnostics.js';

/** A value of the spec language. Ints and floats are kept apart so `out: 64.5` can be rejected. */
export type Value =
  | { readonly t: 'int'; readonly v: number }
  | { readonly t: 'float'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'string'; readonly v: string }
  | { readonly t: 'list'; readonly v: readonly Value[] };

/** A binding of a name to a value, with where the value came from (for messages). */
export interface Binding {
  readonly value: Value;
  readonly span?: Span;
  /**
   * The value is not known because of an error already reported (`in.channels` after a layer that did not fit):
   * an expression reading it fails without a second message.
   */
  readonly unknown?: true;
}

/**
 * Most expression nodes one compilation evaluates. Every block instance evaluates its arguments again, so a
 * 100,000-term default in a block repeated 100,000 times would take hours; real specs take under 100,000 steps,
 * and 10 million take about two seconds.
 */
export const MAX_EVALUATION_STEPS = 10_000_000;

/** The evaluation steps a compilation may still take; shared by all scopes of one lowering. */
export interface EvaluationBudget {
  left: number;
  /** Set once the budget ran out and that was reported. */
  exhausted: boolean;
}

/** Names visible to an expression; inner scopes shadow outer ones. */
export class Scope {
  private readonly names = new Map<string, Binding>();
  /** The evaluation budget, shared with the enclosing scopes (a new one for a root scope). */
  readonly budget: EvaluationBudget;

  constructor(private readonly parent?: Scope) {
    this.budget = parent?.budget ?? { left: MAX_EVALUATION_STEPS, exhausted: false };
  }

  /** Binds `name` in this scope. */
  set(name: string, binding: Binding): void {
    this.names.set(name, binding);
  }

  /** Looks `name` up here, then in the enclosing scopes. */
  get(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.get(name);
  }

  /** The outermost scope (the network's parameters). */
  root(): Scope {
    return this.parent ? this.parent.root() : this;
  }

  /** Every visible name (for "did you mean"). */
  allNames(): string[] {
    return [...this.names.keys(), ...(this.parent?.allNames() ?? [])];
  }
}

/** A value as the user would write it: `3`, `true`, `[3, 3]`. */
export function showValue(value: Value): string {
  switch (value.t) {
    case 'int':
    case 'float':
    case 'bool':
      return String(value.v);
    case 'string':
      return JSON.stringify(value.v);
    case 'list':
      return `[${value.v.map(showValue).join(', ')}]`;
  }
}

/**
 * A value for a message: as `showValue`, but a whole float keeps a decimal point (`4.0`, so that "expects an
 * integer, found number 4.0" does not contradict itself) and a long value is cut (see `clip`).
 */
export function formatValue(value: Value): string {
  return clip(formatFull(value));
}

function formatFull(value: Value): string {
  switch (value.t) {
    case 'float':
      return Number.isInteger(value.v) && Math.abs(value.v) < 1e21 ? value.v.toFixed(1) : String(value.v);
    case 'list':
      return `[${value.v.map(formatFull).join(', ')}]`;
    default:
      return showValue(value);
  }
}

/** `integer 3`, `number 4.0`, `string "x"`: a value's type and value, for messages. */
export function describeValue(value: Value): string {
  return `${typeName(value)} ${formatValue(value)}`;
}

/** The name of a value's type, for messages. */
export function typeName(value: Value): string {
  return value.t === 'int'
    ? 'integer'
    : value.t === 'float'
      ? 'number'
      : value.t === 'bool'
        ? 'boolean'
        : value.t;
}

/** The type a parameter has: declared, else inferred from its default (int when there is neither). */
export function inferParamType(declared: ParamType | undefined, defaultValue: Value | undefined): ParamType {
  if (declared) return declared;
  if (!defaultValue) return 'int';
  return defaultValue.t;
}

/** Checks (and converts int→float) a value against a parameter type; undefined when it does not fit. */
export function coerce(value: Value, type: ParamType): Value | undefined {
  switch (type) {
    case 'int':
      return value.t === 'int' ? value : undefined;
    case 'float':
      return value.t === 'float' ? value : value.t === 'int' ? { t: 'float', v: value.v } : undefined;
    case 'bool':
      return value.t === 'bool' ? value : undefined;
    case 'string':
      return value.t === 'string' ? value : undefined;
    case 'list':
      return value.t === 'list' ? value : undefined;
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Evaluates `expr` in `scope`; pushes diagnostics and returns undefined on failure. */
export function evaluate(expr: Expr, scope: Scope, diagnostics: Diagnostic[]): Value | undefined {
  if (!takeStep(expr, scope, diagnostics)) return undefined;
  switch (expr.kind) {
    case 'int':
      if (!Number.isSafeInteger(expr.value)) {
        diagnostics.push(error('BAD_VALUE', `integer ${clip(String(expr.value))} is too large`, expr.span));
        return undefined;
      }
      return { t: 'int', v: expr.value };
    case 'float':
      if (!Number.isFinite(expr.value)) {
        diagnostics.push(error('BAD_VALUE', `number ${clip(String(expr.value))} is not finite`, expr.span));
        return undefined;
      }
      return { t: 'float', v: expr.value };
    case 'bool':
      return { t: 'bool', v: expr.value };
    case 'string':
      return { t: 'string', v: expr.value };
    case 'ref': {
      const binding = scope.get(expr.name);
      if (!binding) {
        diagnostics.push(
          error(
            'UNKNOWN_PARAMETER',
            `unknown parameter '${clip(expr.name)}'`,
            expr.span,
            didYouMean(expr.name, scope.allNames()),
          ),
        );
        return undefined;
      }
      return binding.unknown ? undefined : binding.value;
    }
    case 'list': {
      const items: Value[] = [];
      for (const item of expr.items) {
        const v = evaluate(item, scope, diagnostics);
        if (!v) return undefined;
        items.push(v);
      }
      return { t: 'list', v: items };
    }
    case 'unary': {
      const v = evaluate(expr.operand, scope, diagnostics);
      if (!v) return undefined;
      if (expr.op === 'not') {
        if (v.t !== 'bool') return typeError(expr.span, "'not' needs a boolean", v, diagnostics);
        return { t: 'bool', v: !v.v };
      }
      if (v.t !== 'int' && v.t !== 'float') return typeError(expr.span, "'-' needs a number", v, diagnostics);
      return { t: v.t, v: -v.v };
    }
    case 'binary':
      return evaluateBinary(expr, scope, diagnostics);
  }
}

/** Takes one step of the scope's budget; false (with one TOO_LARGE for the whole compilation) when it ran out. */
function takeStep(expr: Expr, scope: Scope, diagnostics: Diagnostic[]): boolean {
  const budget = scope.budget;
  if (budget.left > 0) {
    budget.left--;
    return true;
  }
  if (!budget.exhausted) {
    budget.exhausted = true;
    diagnostics.push(
      error(
        'TOO_LARGE',
        `evaluating the spec's expressions takes more than ${MAX_EVALUATION_STEPS.toLocaleString('en-US')} steps`,
        expr.span,
        'every repeat and block instance evaluates its arguments again; compute long expressions once, in a network parameter',
      ),
    );
  }
  return false;
}

function typeError(span: Span, what: string, found: Value, diagnostics: Diagnostic[]): undefined {
  diagnostics.push(error('WRONG_TYPE', `${what}, found ${describeValue(found)}`, span));
  return undefined;
}

/**
 * Evaluates a binary expression without recursing down its left operands: `1 + 1 + ... + 1` nests to the left as
 * deep as the chain is long (thousands of terms), while right operands and every other nesting are bounded by the
 * parser (MAX_NESTING). Operands are evaluated in the order the recursive definition would (left, then right,
 * both even when one fails), so the diagnostics are the same.
 */
function evaluateBinary(
  expr: Extract<Expr, { kind: 'binary' }>,
  scope: Scope,
  diagnostics: Diagnostic[],
): Value | undefined {
  const spine: Extract<Expr, { kind: 'binary' }>[] = [];
  let leftmost: Expr = expr;
  while (leftmost.kind === 'binary') {
    if (!takeStep(leftmost, scope, diagnostics)) return undefined;
    spine.push(leftmost);
    leftmost = leftmost.left;
  }
  let value = evaluate(leftmost, scope, diagnostics);
  for (let i = spine.length - 1; i >= 0; i--) {
    const node = spine[i];
    if (!node) continue;
    const right = evaluate(node.right, scope, diagnostics);
    value = value && right ? applyBinary(node, value, right, diagnostics) : undefined;
  }
  return value;
}

/** `l op r` for the operator of `expr`, whose operands evaluated to `l` and `r`. */
function applyBinary(
  expr: Extract<Expr, { kind: 'binary' }>,
  l: Value,
  r: Value,
  diagnostics: Diagnostic[],
): Value | undefined {
  const op = expr.op;
  if (op === 'and' || op === 'or') {
    if (l.t !== 'bool') return typeError(expr.left.span, `'${op}' needs booleans`, l, diagnostics);
    if (r.t !== 'bool') return typeError(expr.right.span, `'${op}' needs booleans`, r, diagnostics);
    return { t: 'bool', v: op === 'and' ? l.v && r.v : l.v || r.v };
  }
  if (op === '==' || op === '!=') {
    const same = showValue(l) === showValue(r) || (isNum(l) && isNum(r) && l.v === r.v);
    return { t: 'bool', v: op === '==' ? same : !same };
  }
  if (!isNum(l)) return typeError(expr.left.span, `'${op}' needs numbers`, l, diagnostics);
  if (!isNum(r)) return typeError(expr.right.span, `'${op}' needs numbers`, r, diagnostics);
  const bothInt = l.t === 'int' && r.t === 'int';
  let v: number;
  switch (op) {
    case '<':
      return { t: 'bool', v: l.v < r.v };
    case '<=':
      return { t: 'bool', v: l.v <= r.v };
    case '>':
      return { t: 'bool', v: l.v > r.v };
    case '>=':
      return { t: 'bool', v: l.v >= r.v };
    case '+':
      v = l.v + r.v;
      break;
    case '-':
      v = l.v - r.v;
      break;
    case '*':
      v = l.v * r.v;
      break;
    case '/':
    case '//':
    case '%':
      if (r.v === 0) {
        diagnostics.push(error('DIVISION_BY_ZERO', 'division by zero', expr.right.span));
        return undefined;
      }
      if (op === '%') v = l.v - Math.floor(l.v / r.v) * r.v;
      else if (op === '//') v = Math.floor(l.v / r.v);
      else {
        v = l.v / r.v;
        // `/` of two ints stays an int only when it divides exactly: `out / 4` for a bottleneck.
        if (bothInt && !Number.isInteger(v)) return { t: 'float', v };
      }
      break;
  }
  if (bothInt && Math.abs(v) > MAX_SAFE) {
    diagnostics.push(error('BAD_VALUE', `integer result ${clip(String(v))} is too large`, expr.span));
    return undefined;
  }
  return { t: bothInt ? 'int' : 'float', v };
}

function isNum(v: Value): v is Extract<Value, { t: 'int' | 'float' }> {
  return v.t === 'int' || v.t === 'float';
}

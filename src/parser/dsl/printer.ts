/**
 * AST → canonical DSL text: 2-space indent, one layer per line, a blank line between top-level items, minimal
 * parentheses. `parseDsl(printDsl(ast))` gives `ast` back (modulo spans) for every AST the DSL parser produces.
 */
import type {
  Arg,
  BinaryOp,
  BlockDecl,
  BranchMerge,
  Call,
  Expr,
  Item,
  ModuleDecl,
  NetworkAst,
  ParamDecl,
  TrainingDecl,
} from '../ast.js';
import type { SettingValue } from '../../training-settings.js';
import { KEYWORDS } from './tokens.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Precedence levels, loosest first; a sub-expression printed below its context's level gets parentheses. */
const PREC = {
  or: 1,
  and: 2,
  not: 3,
  comparison: 4,
  additive: 5,
  multiplicative: 6,
  unary: 7,
  primary: 8,
} as const;

const BINARY_PREC: Readonly<Record<BinaryOp, number>> = {
  or: PREC.or,
  and: PREC.and,
  '==': PREC.comparison,
  '!=': PREC.comparison,
  '<': PREC.comparison,
  '<=': PREC.comparison,
  '>': PREC.comparison,
  '>=': PREC.comparison,
  '+': PREC.additive,
  '-': PREC.additive,
  '*': PREC.multiplicative,
  '/': PREC.multiplicative,
  '//': PREC.multiplicative,
  '%': PREC.multiplicative,
};

/** A network/block/module name: bare when it lexes as an identifier, quoted otherwise. */
function declName(name: string): string {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name) ? name : JSON.stringify(name);
}

function number(value: number, float: boolean): string {
  const magnitude = Math.abs(value);
  let text: string;
  if (Number.isInteger(magnitude) && magnitude >= 1e21 && !float) text = BigInt(magnitude).toString();
  else text = String(magnitude);
  // A float that happens to be whole must still read back as a float.
  if (float && /^\d+$/.test(text)) text += '.0';
  return text;
}

function withSign(value: number, text: string, min: number): string {
  if (value >= 0) return text;
  return PREC.unary < min ? `(-${text})` : `-${text}`;
}

/** One expression, parenthesized only where precedence requires. `min` is the loosest level allowed here. */
export function printExpr(expr: Expr, min = 0): string {
  switch (expr.kind) {
    case 'int':
    case 'float':
      return withSign(expr.value, number(expr.value, expr.kind === 'float'), min);
    case 'bool':
      return expr.value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(expr.value);
    case 'ref':
      // `$name` keeps a parameter named like a keyword a reference.
      return KEYWORDS.has(expr.name) ? `$${expr.name}` : expr.name;
    case 'list':
      return `[${expr.items.map((item) => printExpr(item)).join(', ')}]`;
    case 'unary': {
      if (expr.op === 'not') {
        const text = `not ${printExpr(expr.operand, PREC.not)}`;
        return PREC.not < min ? `(${text})` : text;
      }
      const operand = printExpr(expr.operand, PREC.unary);
      const text = operand.startsWith('-') ? `-(${operand})` : `-${operand}`;
      return PREC.unary < min ? `(${text})` : text;
    }
    case 'binary': {
      const prec = BINARY_PREC[expr.op];
      // Comparisons do not chain, so neither side may be a bare comparison.
      const leftMin = prec === PREC.comparison ? prec + 1 : prec;
      const op = expr.op === '//' ? 'div' : expr.op;
      const text = `${printExpr(expr.left, leftMin)} ${op} ${printExpr(expr.right, prec + 1)}`;
      return prec < min ? `(${text})` : text;
    }
  }
}

function printParams(params: readonly ParamDecl[]): string {
  const items = params.map((p) => {
    let text = p.name;
    if (p.type) text += `: ${p.type}`;
    if (p.default) text += ` = ${printExpr(p.default)}`;
    return text;
  });
  return `(${items.join(', ')})`;
}

function printArg(arg: Arg): string {
  const value = printExpr(arg.value);
  return arg.name === undefined ? value : `${arg.name} = ${value}`;
}

function printCall(call: Call): string {
  let text = `${call.callee}(${call.args.map(printArg).join(', ')})`;
  if (call.name !== undefined) text = `${call.name} = ${text}`;
  if (call.repeat) text += ` * ${printExpr(call.repeat)}`;
  if (call.condition) text += ` if ${printExpr(call.condition)}`;
  return text;
}

/** A merge and its branches, one branch per line group: `concat {`, `  a {`, `    conv(64)`, `  }`, `}`. */
function printMerge(merge: BranchMerge, indent: string): string[] {
  let head = merge.op;
  if (merge.args.length > 0) head += `(${merge.args.map(printArg).join(', ')})`;
  if (merge.name !== undefined) head = `${merge.name} = ${head}`;
  if (merge.condition) head += ` if ${printExpr(merge.condition)}`;
  const lines = [`${indent}${head} {`];
  for (const branch of merge.branches) {
    const opening = `${indent}  ${branch.name} {`;
    const items = printCalls(branch.items, `${indent}    `);
    if (items.length === 0) lines.push(`${opening}}`);
    else lines.push(opening, ...items, `${indent}  }`);
  }
  lines.push(`${indent}}`);
  return lines;
}

function printCalls(items: readonly Item[], indent: string): string[] {
  return items.flatMap((item) =>
    item.kind === 'call' ? [indent + printCall(item)] : printMerge(item, indent),
  );
}

function printBlock(block: BlockDecl): string[] {
  const header = `  block ${declName(block.name)}${block.params.length > 0 ? printParams(block.params) : ''} {`;
  const lines = [header, ...printCalls(block.body, '    ')];
  if (block.shortcut) {
    const layers = printCalls(block.shortcut.layers, '      ');
    const opening = `    shortcut when ${block.shortcut.when} {`;
    if (layers.length === 0) lines.push(`${opening}}`);
    else lines.push(opening, ...layers, '    }');
  }
  if (block.merge) {
    lines.push(
      `    merge ${block.merge.op}${block.merge.condition ? ` if ${printExpr(block.merge.condition)}` : ''}`,
    );
  }
  lines.push(...printCalls(block.after, '    '), '  }');
  return lines;
}

function printModule(module: ModuleDecl): string[] {
  const opening = `  module ${declName(module.name)} {`;
  if (module.items.length === 0) return [`${opening}}`];
  return [opening, ...printCalls(module.items, '    '), '  }'];
}

function printSetting(value: SettingValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * The training section, settings and groups in written order (by position; the parsers give every key one). A
 * group holds the dotted entries of its key (the first group of a key, the only one in a valid spec); a dotted
 * entry without a group (an AST built by hand) gets a group of its own.
 */
function printTraining(training: TrainingDecl): string[] {
  const items: { at: number; lines: string[] }[] = [];
  const grouped = new Set<string>();
  for (const group of training.groups) {
    if (grouped.has(group.key)) continue;
    grouped.add(group.key);
    const inner = training.entries
      .filter((e) => e.key.startsWith(`${group.key}.`))
      .map((m) => `      ${m.key.slice(group.key.length + 1)} = ${printSetting(m.value)}`);
    const opening = `    ${group.key} {`;
    items.push({
      at: group.keySpan.offset,
      lines: inner.length ? [opening, ...inner, '    }'] : [`${opening}}`],
    });
  }
  for (const e of training.entries) {
    const dot = e.key.indexOf('.');
    if (dot >= 0 && grouped.has(e.key.slice(0, dot))) continue;
    const lines =
      dot < 0
        ? [`    ${e.key} = ${printSetting(e.value)}`]
        : [
            `    ${e.key.slice(0, dot)} {`,
            `      ${e.key.slice(dot + 1)} = ${printSetting(e.value)}`,
            '    }',
          ];
    items.push({ at: e.keySpan.offset, lines });
  }
  items.sort((a, b) => a.at - b.at);
  const body = items.flatMap((i) => i.lines);
  return body.length ? ['  training {', ...body, '  }'] : ['  training {}'];
}

/** The canonical DSL text of `ast`, ending in a newline. */
export function printDsl(ast: NetworkAst): string {
  let header = `network ${declName(ast.name)}`;
  if (ast.extends) header += ` extends ${JSON.stringify(ast.extends.path)}`;
  if (ast.params.length > 0) header += `${ast.extends ? ' ' : ''}${printParams(ast.params)}`;

  const sections: string[][] = [];
  if (ast.input) sections.push([`  input [${ast.input.dims.map((d) => printExpr(d)).join(', ')}]`]);
  for (const block of ast.blocks) sections.push(printBlock(block));
  for (const module of ast.modules) sections.push(printModule(module));
  if (ast.training) sections.push(printTraining(ast.training));
  if (sections.length === 0) return `${header}\n`;

  const body = sections.map((lines) => lines.join('\n')).join('\n\n');
  return `${header} {\n${body}\n}\n`;
}

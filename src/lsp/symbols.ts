/** The document's outline: the network, its input, blocks and modules, and their layers as children. */
import type { Item, NetworkAst, Span } from '../parser/ast.js';
import { within } from './locate.js';

/** The protocol's symbol kinds this outline uses (LSP `SymbolKind` numbers). */
export const SYMBOL_KIND = {
  namespace: 3,
  class: 5,
  field: 8,
  function: 12,
  variable: 13,
  module: 2,
  struct: 23,
  property: 7,
} as const;

/** One entry of the outline, in offsets (the server turns them into ranges). */
export interface OutlineSymbol {
  readonly name: string;
  readonly detail: string;
  readonly kind: (typeof SYMBOL_KIND)[keyof typeof SYMBOL_KIND];
  /** The whole entry. */
  readonly span: Span;
  /** Its name, inside `span`. */
  readonly nameSpan: Span;
  readonly children: readonly OutlineSymbol[];
}

/** The outline of the document `file` from its own AST (what a parent declares is in the parent's outline). */
export function outline(ast: NetworkAst, file: string): OutlineSymbol[] {
  const here = (s: Span): boolean => within(s, file, s.offset);
  const items = (list: readonly Item[]): OutlineSymbol[] =>
    list.flatMap((item): OutlineSymbol[] => {
      if (!here(item.span)) return [];
      if (item.kind === 'branches')
        return [
          {
            name: item.name ?? item.op,
            detail: `${item.op} of ${item.branches.length} branches`,
            kind: SYMBOL_KIND.struct,
            span: item.span,
            nameSpan: item.nameSpan ?? item.opSpan,
            children: item.branches.map((b) => ({
              name: b.name,
              detail: 'branch',
              kind: SYMBOL_KIND.field,
              span: b.span,
              nameSpan: b.nameSpan,
              children: items(b.items),
            })),
          },
        ];
      return [
        {
          name: item.name ?? item.callee,
          detail: item.name !== undefined ? item.callee : '',
          kind: SYMBOL_KIND.function,
          span: item.span,
          nameSpan: item.nameSpan ?? item.calleeSpan,
          children: [],
        },
      ];
    });
  const children: OutlineSymbol[] = [];
  if (ast.input && here(ast.input.span))
    children.push({
      name: 'input',
      detail: '',
      kind: SYMBOL_KIND.property,
      span: ast.input.span,
      nameSpan: ast.input.span,
      children: [],
    });
  for (const b of ast.blocks)
    if (here(b.span))
      children.push({
        name: b.name,
        detail: `block(${b.params.map((p) => p.name).join(', ')})`,
        kind: SYMBOL_KIND.class,
        span: b.span,
        nameSpan: b.nameSpan,
        children: [
          ...items(b.body),
          ...(b.shortcut && here(b.shortcut.span)
            ? [
                {
                  name: 'shortcut',
                  detail: `when ${b.shortcut.when}`,
                  kind: SYMBOL_KIND.field,
                  span: b.shortcut.span,
                  nameSpan: b.shortcut.span,
                  children: items(b.shortcut.layers),
                } satisfies OutlineSymbol,
              ]
            : []),
          ...(b.merge && here(b.merge.span)
            ? [
                {
                  name: 'merge',
                  detail: b.merge.op,
                  kind: SYMBOL_KIND.field,
                  span: b.merge.span,
                  nameSpan: b.merge.opSpan,
                  children: [],
                } satisfies OutlineSymbol,
              ]
            : []),
          ...items(b.after),
        ],
      });
  for (const m of ast.modules)
    if (here(m.span))
      children.push({
        name: m.name,
        detail: 'module',
        kind: SYMBOL_KIND.module,
        span: m.span,
        nameSpan: m.nameSpan,
        children: items(m.items),
      });
  if (ast.training && here(ast.training.span))
    children.push({
      name: 'training',
      detail: `${ast.training.entries.length} settings`,
      kind: SYMBOL_KIND.property,
      span: ast.training.span,
      nameSpan: ast.training.span,
      children: [],
    });
  return [
    {
      name: ast.name,
      detail: ast.extends ? `network, extends ${ast.extends.path}` : 'network',
      kind: SYMBOL_KIND.namespace,
      span: ast.span,
      nameSpan: ast.nameSpan,
      children,
    },
  ];
}

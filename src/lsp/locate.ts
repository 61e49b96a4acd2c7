/** What the cursor is on in a spec's AST: a call, a merge, a block or module name, a parameter. */
import path from 'node:path';
import type {
  BlockDecl,
  Call,
  BranchMerge,
  Item,
  MergeDecl,
  ModuleDecl,
  NetworkAst,
  ParamDecl,
  Span,
} from '../parser/ast.js';

/** The innermost thing of the AST at an offset. */
export type Found =
  | { readonly kind: 'call'; readonly call: Call; readonly block?: BlockDecl }
  | { readonly kind: 'merge'; readonly merge: BranchMerge | MergeDecl; readonly block?: BlockDecl }
  | { readonly kind: 'block'; readonly block: BlockDecl }
  | { readonly kind: 'module'; readonly module: ModuleDecl }
  | { readonly kind: 'param'; readonly param: ParamDecl; readonly block?: BlockDecl };

/** True when `offset` lies in `span` (its end included: a cursor right after a word is on it) in `file`. */
export function within(span: Span | undefined, file: string, offset: number): span is Span {
  return (
    span !== undefined &&
    offset >= span.offset &&
    offset <= span.endOffset &&
    path.resolve(span.file) === file
  );
}

/** Every item of a sequence, merges' branches included, depth first in written order. */
export function* itemsOf(items: readonly Item[]): Generator<Item> {
  for (const item of items) {
    yield item;
    if (item.kind === 'branches') for (const b of item.branches) yield* itemsOf(b.items);
  }
}

/** Every item of a block: body, shortcut layers, after. */
export function blockItems(block: BlockDecl): Item[] {
  return [...itemsOf(block.body), ...itemsOf(block.shortcut?.layers ?? []), ...itemsOf(block.after)];
}

/** The innermost call, merge, declaration name or parameter of `ast` at `offset` in `file`. */
export function locate(ast: NetworkAst, file: string, offset: number): Found | undefined {
  let best: { found: Found; size: number } | undefined;
  const consider = (span: Span | undefined, found: Found): void => {
    if (!within(span, file, offset)) return;
    const size = span.endOffset - span.offset;
    if (!best || size <= best.size) best = { found, size };
  };
  const items = (list: Iterable<Item>, block?: BlockDecl): void => {
    for (const item of list) {
      const extra = block ? { block } : {};
      if (item.kind === 'call') consider(item.span, { kind: 'call', call: item, ...extra });
      else consider(item.span, { kind: 'merge', merge: item, ...extra });
    }
  };
  for (const p of ast.params) consider(p.nameSpan, { kind: 'param', param: p });
  for (const block of ast.blocks) {
    consider(block.span, { kind: 'block', block });
    items(blockItems(block), block);
    if (block.merge) consider(block.merge.span, { kind: 'merge', merge: block.merge, block });
    for (const p of block.params) consider(p.nameSpan, { kind: 'param', param: p, block });
  }
  for (const mod of ast.modules) {
    consider(mod.nameSpan, { kind: 'module', module: mod });
    items(itemsOf(mod.items));
  }
  // A block's whole span is only a fallback: on its name it is the block, inside it whatever is innermost.
  const found = best?.found;
  if (found?.kind === 'block' && !within(found.block.nameSpan, file, offset)) return undefined;
  return found;
}

/** The block of `ast` whose span holds `offset` in `file` (the block the cursor is in). */
export function enclosingBlock(ast: NetworkAst, file: string, offset: number): BlockDecl | undefined {
  return ast.blocks.find((b) => within(b.span, file, offset));
}

/** The identifier (with a leading `$`, dotted parts included) around `offset` in `text`, and where it is. */
export function wordAt(
  text: string,
  offset: number,
): { readonly word: string; readonly start: number; readonly end: number } | undefined {
  const isWord = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$.]/.test(c);
  let start = offset;
  while (start > 0 && isWord(text[start - 1])) start--;
  let end = offset;
  while (end < text.length && isWord(text[end])) end++;
  const word = text.slice(start, end);
  return /^\$?[A-Za-z_][A-Za-z0-9_.]*$/.test(word) ? { word, start, end } : undefined;
}

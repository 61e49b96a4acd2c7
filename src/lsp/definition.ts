/**
 * Go to definition: from a block's name where it is called (or a `$param`/parameter reference) to its declaration,
 * across `extends` (a block a parent declares is found in the parent's file).
 */
import type { NetworkAst, Span } from '../parser/ast.js';
import type { Analysis } from './analysis.js';
import { enclosingBlock, wordAt } from './locate.js';

/** Where the name at `offset` is declared: a block, else a parameter in scope there; undefined when unknown. */
export function definitionAt(analysis: Analysis, offset: number, fallback?: NetworkAst): Span | undefined {
  const word = wordAt(analysis.text, offset);
  if (!word) return undefined;
  const name = word.word.replace(/^\$/, '');
  // The resolved network knows the blocks of every file in the chain; while the document does not resolve (a
  // syntax error as one types), the last network that did stands in.
  const networks = [analysis.resolved, analysis.parsed.ast, fallback].filter(
    (n): n is NetworkAst => n !== undefined,
  );
  for (const ast of networks) {
    const block = ast.blocks.find((b) => b.name === name);
    if (block) return block.nameSpan;
  }
  for (const ast of networks) {
    const inBlock = enclosingBlock(ast, analysis.file, offset);
    const param = inBlock?.params.find((p) => p.name === name) ?? ast.params.find((p) => p.name === name);
    if (param) return param.nameSpan;
  }
  return undefined;
}

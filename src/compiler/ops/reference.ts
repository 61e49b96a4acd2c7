/**
 * The layer reference (docs/layers.md), written from the definitions themselves so it cannot drift from what the
 * compiler accepts: every layer kind and merge, in the language's order, with its arguments (position, type,
 * default, range) and its line of documentation. `test/compiler/ops/reference.test.ts` keeps the file equal to it;
 * `npm run generate` rewrites it.
 */
import type { ArgSpec } from './args.js';
import { LAYERS, MERGES } from './index.js';

/** `int, >= 1`, `int or [h, w], >= 0`, `one of 'zeros', 'ones'`: an argument's type and range (also the editor schema's). */
export function argTypeWords(a: ArgSpec): string {
  const base = {
    int: 'int',
    float: 'number',
    bool: 'bool',
    pair: 'int or [h, w]',
    ints: 'list of ints',
    choice: `one of ${(a.choices ?? []).map((c) => `'${c}'`).join(', ')}`,
  }[a.type];
  const range: string[] = [];
  if (a.min !== undefined) range.push(`${a.exclusiveMin ? '>' : '>='} ${a.min}`);
  if (a.max !== undefined) range.push(`${a.exclusiveMax ? '<' : '<='} ${a.max}`);
  if (a.minItems !== undefined || a.maxItems !== undefined) {
    const lo = a.minItems;
    const hi = a.maxItems;
    range.push(lo === hi ? `${lo} items` : `${lo ?? 0} to ${hi ?? 'any'} items`);
  }
  const typed = range.length > 0 ? `${base}, ${range.join(', ')}` : base;
  return a.paddingWords ? `${typed}, or 'same' / 'valid'` : typed;
}

/** `required`, `1`, `the kernel`, `'zeros'`: an argument's default in words (also the editor schema's). */
export function argDefaultWords(a: ArgSpec): string {
  if (a.default === undefined) return 'required';
  if (a.default === 'kernel' && a.type !== 'choice') return 'the kernel';
  if (Array.isArray(a.default)) return `[${a.default.join(', ')}]`;
  return typeof a.default === 'string' ? `'${a.default}'` : String(a.default);
}

function argTable(args: readonly ArgSpec[]): string[] {
  if (args.length === 0) return ['No arguments.'];
  return [
    '| argument | type | default | meaning |',
    '| --- | --- | --- | --- |',
    ...args.map(
      (a, i) =>
        `| \`${a.name}\`${i === 0 ? ' (positional)' : ''} | ${argTypeWords(a)} | ${argDefaultWords(a)} | ${a.doc.replace(/\|/g, '\\|')} |`,
    ),
  ];
}

/** The Markdown of docs/layers.md. */
export function layerReference(): string {
  const lines = [
    '# Layer reference',
    '',
    'Generated from the layer definitions (`src/compiler/ops/`) by `npm run generate`; do not edit. The language',
    "itself is in `docs/language.md`. Semantics are PyTorch's; `dim` counts the batch axis as 0.",
    '',
    '## Layers',
  ];
  for (const d of Object.values(LAYERS))
    lines.push('', `### \`${d.name}\``, '', d.doc, '', ...argTable(d.args));
  lines.push(
    '',
    '## Merges',
    '',
    "Inside blocks: `concat { a { ... } b { ... } }`, or a block's `merge add`.",
  );
  for (const d of Object.values(MERGES))
    lines.push('', `### \`${d.name}\``, '', d.doc, '', ...argTable(d.args));
  return lines.join('\n') + '\n';
}

/** The language's words as editors show them: layer kinds with their doc lines and arguments, block signatures. */
import type { ArgSpec } from '../compiler/ops/index.js';
import { isLayerKind, LAYERS, MERGES, type LayerKind } from '../compiler/ops/index.js';
import type { BlockDecl, ParamDecl } from '../parser/ast.js';

/** The syntax a text is shown in: the DSL (`conv(out, stride = 1)`) or YAML (`conv: {out, stride: 1}`). */
export type Syntax = 'yaml' | 'dsl';

/** Every layer kind, in the language's documented order. */
export const LAYER_KINDS: readonly LayerKind[] = Object.keys(LAYERS) as LayerKind[];

/** The merge words (`add`, `concat`, `mul`). */
export const MERGE_KINDS: readonly string[] = Object.keys(MERGES);

/** A layer kind's doc line (`2-D convolution with zero padding (nn.Conv2d)`), undefined for other names. */
export function layerDoc(name: string): string | undefined {
  return isLayerKind(name) ? LAYERS[name].doc : undefined;
}

/** A layer kind's arguments in positional order; none for other names. */
export function layerArgs(name: string): readonly ArgSpec[] {
  return isLayerKind(name) ? LAYERS[name].args : [];
}

/** An argument's default as written in a spec (`1`, `[1, 1]`, `"zeros"`, `kernel` for pooling strides). */
function defaultText(spec: ArgSpec, syntax: Syntax): string | undefined {
  const d = spec.default;
  if (d === undefined) return undefined;
  if (d === 'kernel') return syntax === 'yaml' ? '$kernel' : 'kernel';
  if (typeof d === 'string') return syntax === 'yaml' ? d : JSON.stringify(d);
  if (Array.isArray(d)) return `[${d.join(', ')}]`;
  return String(d);
}

/** One argument as a signature shows it: `out`, `stride = 1` (DSL) or `stride: 1` (YAML). */
export function argSignature(spec: ArgSpec, syntax: Syntax): string {
  const d = defaultText(spec, syntax);
  if (d === undefined) return spec.name;
  return syntax === 'yaml' ? `${spec.name}: ${d}` : `${spec.name} = ${d}`;
}

/** A layer's call signature: `conv(out, kernel, stride = 1, ...)` or `conv: {out, kernel, stride: 1, ...}`. */
export function layerSignature(name: LayerKind | string, syntax: Syntax): string {
  const args = layerArgs(name).map((a) => argSignature(a, syntax));
  if (syntax === 'yaml') return args.length ? `${name}: {${args.join(', ')}}` : name;
  return `${name}(${args.join(', ')})`;
}

/** A block parameter as declared: `out: int`, `stride = 1` (the default as written in its source). */
export function paramSignature(p: ParamDecl, sources: ReadonlyMap<string, string>, syntax: Syntax): string {
  const written = p.default
    ? (sources.get(p.default.span.file)?.slice(p.default.span.offset, p.default.span.endOffset) ?? '…')
    : undefined;
  if (written !== undefined) return syntax === 'yaml' ? `${p.name}: ${written}` : `${p.name} = ${written}`;
  return p.type ? `${p.name}: ${p.type}` : p.name;
}

/** A block's signature: `ResBlock(out: int, stride = 1)` or `ResBlock: {out: int, stride: 1}`. */
export function blockSignature(b: BlockDecl, sources: ReadonlyMap<string, string>, syntax: Syntax): string {
  const params = b.params.map((p) => paramSignature(p, sources, syntax));
  return syntax === 'yaml' ? `${b.name}: {${params.join(', ')}}` : `${b.name}(${params.join(', ')})`;
}

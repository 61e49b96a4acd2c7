/**
 * The layer vocabulary: one definition per kind (a file in this folder), and the types every target and report
 * keys its tables by, so that `tsc` names each table that lacks a row for a new kind. See src/compiler/README.md,
 * "Adding a layer kind".
 */
import type { ActivationNode, IrNode, IrNodeKind } from '../ir.js';
import { ACTIVATION_LAYERS } from './activation.js';
import type { ActivationKind } from './activations/index.js';
import { adaptive_avgpool } from './adaptive-avgpool.js';
import { add } from './add.js';
import { concat } from './concat.js';
import { mul } from './mul.js';
import { attention } from './attention.js';
import { avgpool } from './avgpool.js';
import { batchnorm } from './batchnorm.js';
import { channel_shuffle } from './channel-shuffle.js';
import { chunk } from './chunk.js';
import { conv } from './conv.js';
import { dropout } from './dropout.js';
import { flatten } from './flatten.js';
import { global_avgpool } from './global-avgpool.js';
import { identity } from './identity.js';
import { layernorm } from './layernorm.js';
import { linear } from './linear.js';
import { maxpool } from './maxpool.js';
import { parameter } from './parameter.js';
import { permute } from './permute.js';
import { reshape } from './reshape.js';
import { select } from './select.js';
import { slice } from './slice.js';
import { stochastic_depth } from './stochastic-depth.js';

/** Every layer kind a spec may call, in the order the language documents them (hints prefer the earlier). */
export const LAYERS = {
  conv,
  batchnorm,
  layernorm,
  ...ACTIVATION_LAYERS,
  maxpool,
  avgpool,
  global_avgpool,
  adaptive_avgpool,
  flatten,
  chunk,
  slice,
  channel_shuffle,
  reshape,
  permute,
  select,
  linear,
  attention,
  parameter,
  dropout,
  stochastic_depth,
  identity,
} as const;

/** A layer kind's name as specs write it. */
export type LayerKind = keyof typeof LAYERS;

/** Every way to merge branches: a block's `merge add`, and merges of named branches (`concat { a {...} b {...} }`). */
export const MERGES = { add, concat, mul } as const;

/** A merge kind's name. */
export type MergeKind = keyof typeof MERGES;

/** True when `name` is a merge kind (an own key). */
export function isMergeKind(name: string): name is MergeKind {
  return Object.prototype.hasOwnProperty.call(MERGES, name);
}

/** What a node computes, one name per row of every target's and report's table: a layer kind or a merge. */
export type OpKind = LayerKind | MergeKind;

/** Every op kind, layers then merges. */
export const OP_KINDS: readonly OpKind[] = [
  ...(Object.keys(LAYERS) as LayerKind[]),
  ...(Object.keys(MERGES) as MergeKind[]),
];

/** True when `name` is a layer kind (an own key: `constructor` is not a layer). */
export function isLayerKind(name: string): name is LayerKind {
  return Object.prototype.hasOwnProperty.call(LAYERS, name);
}

/** The IR node of an IR kind (PoolNode serves two kinds, so `Extract` alone would give never for them). */
type NodeOfKind<K extends IrNodeKind> = IrNode extends infer N
  ? N extends IrNode
    ? K extends N['kind']
      ? N & { readonly kind: K }
      : never
    : never
  : never;

/** The IR node an op kind lowers to: every activation is an `activation` node; the others share their name. */
export type NodeOfOp<K extends OpKind> = K extends ActivationKind
  ? ActivationNode & { readonly fn: K }
  : K extends IrNodeKind
    ? NodeOfKind<K>
    : never;

/** The op kind of an IR node: the activation function for `activation` nodes, else the node's kind. */
export function opKindOf(node: IrNode): OpKind {
  return node.kind === 'activation' ? node.fn : node.kind;
}

/**
 * A table of functions with one entry per op kind, each receiving its own node type (and a `context` the table's
 * owner passes): `tsc` names every missing row.
 */
export type OpTable<R, C = void> = { readonly [K in OpKind]: (node: NodeOfOp<K>, context: C) => R };

/** Looks up `node`'s row of `table` and applies it. */
export function byOp<R, C>(table: OpTable<R, C>, node: IrNode, context: C): R {
  return (table[opKindOf(node)] as (n: IrNode, c: C) => R)(node, context);
}

/** `node`'s row of a table keyed by op kind (`{ [K in OpKind]: Row<NodeOfOp<K>> }`). */
export function rowOf<T extends { readonly [K in OpKind]: unknown }>(rows: T, node: IrNode): T[OpKind] {
  return rows[opKindOf(node)];
}

export { ACTIVATIONS, type ActivationKind } from './activations/index.js';
export type { ArgSpec, ArgType, ArgValue } from './args.js';
export { argDefault, LayerArgs, samePadding } from './args.js';
export {
  assembleMerge,
  assembleNode,
  type LayerDefinition,
  type Lowered,
  type NodeFrame,
} from './definition.js';
export type { MergeDefinition, MergeNode } from './merge.js';

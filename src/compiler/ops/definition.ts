/**
 * What a layer kind is, in one place: its arguments, its shape rule, the parameters and buffers it owns with
 * their initializers, and its lowering to an IR node. The language's list of layers, argument checking and the
 * lowering are driven by these definitions; each target and report keeps its own table keyed by kind.
 */
import type { IrNode, Shape } from '../ir.js';
import type { ShapeResult } from '../shapes.js';
import type { ArgSpec, LayerArgs } from './args.js';

/** The fields of a node that depend on where it is, not on its kind; the lowering fills them in. */
export interface NodeFrame {
  readonly path: string;
  readonly inputs: readonly string[];
  readonly inputShapes: readonly Shape[];
  readonly module: string;
  readonly group: string | null;
  /** See IrNode's `functional`: set for kinds that are functional inside blocks, when inside one. */
  readonly functional: boolean;
}

/** What a definition computes of its node: the kind, output shape, parameters and its own attributes. */
export type NodeBody<N extends IrNode> = N extends IrNode ? Omit<N, keyof NodeFrame> : never;

/** Why a layer does not fit its input: a shape rule's refusal. */
export type LoweringFailure = Extract<ShapeResult, { ok: false }>;

/** A lowering's answer: the node's body, or why there is none. */
export type Lowered<N extends IrNode = IrNode> =
  { readonly ok: true; readonly body: NodeBody<N> } | LoweringFailure;

/** One layer kind of the language. */
export interface LayerDefinition<K extends string = string, N extends IrNode = IrNode> {
  /** The name specs call it by. */
  readonly name: K;
  /** One line for people (help, editors, the JSON Schema). */
  readonly doc: string;
  /** Its arguments, in positional order (the first takes a positional value). */
  readonly args: readonly ArgSpec[];
  /**
   * True when, inside a block, the PyTorch target calls it through torch.nn.functional (activations, identity),
   * so hook-based tools do not see it there.
   */
  readonly functionalInBlocks: boolean;
  /**
   * The node for an input of shape `input` with the checked arguments (its kind, output shape, parameters with
   * their initializers, attributes), or why the input does not fit. The lowering adds where it is (`NodeFrame`).
   */
  lower(input: Shape, args: LayerArgs): Lowered<N>;
}

/** Declares a layer kind (typed so that its name stays a literal type). */
export function defineLayer<const K extends string, N extends IrNode>(
  d: LayerDefinition<K, N>,
): LayerDefinition<K, N> {
  return d;
}

/** Lowers with `rule`'s shape: when it fits, `build` makes the body of that output shape. */
export function withShape<N extends IrNode>(
  rule: ShapeResult,
  build: (outputShape: Shape) => NodeBody<N>,
): Lowered<N> {
  return rule.ok ? { ok: true, body: build(rule.shape) } : rule;
}

/**
 * The IR node of `body` at `frame`. Its keys come in one canonical order (kind, where it is, output shape,
 * parameters, functional, then the kind's attributes), so serialized IR is byte-stable whatever order a
 * definition writes them in.
 */
export function assembleNode<N extends IrNode>(frame: NodeFrame, body: NodeBody<N>): N {
  const { kind, outputShape, params, ...attributes } = body as NodeBody<IrNode> & Record<string, unknown>;
  const { functional, ...where } = frame;
  return { kind, ...where, outputShape, params, functional, ...attributes } as unknown as N;
}

/**
 * The IR node of a merge's `body` at `frame`, in the key order merges have always had in serialized IR (output
 * shape and parameters before where it is), which IR version 1 keeps.
 */
export function assembleMerge<N extends IrNode>(frame: NodeFrame, body: NodeBody<N>): N {
  const { kind, outputShape, params, ...attributes } = body as NodeBody<IrNode> & Record<string, unknown>;
  const { path, inputs, inputShapes, module, group, functional } = frame;
  return {
    kind,
    path,
    inputs,
    inputShapes,
    outputShape,
    params,
    module,
    group,
    functional,
    ...attributes,
  } as unknown as N;
}

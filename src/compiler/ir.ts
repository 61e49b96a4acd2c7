/**
 * The IR: a flat, typed graph of layers in execution order. It is the single source of truth for every
 * target, report and the runtime. It holds no source positions, so the YAML and DSL forms of one network
 * give byte-identical IR (see `serializeIr`).
 *
 * Conventions: shapes exclude the batch dimension and are NCHW as PyTorch writes them ([C, H, W] for
 * feature maps, [F] for flat features). Parameter shapes are PyTorch's (conv weight OIHW, linear [out, in]).
 */

import type { ActivationKind } from './ops/activations/index.js';

/** A shape without the batch dimension: [C, H, W] or [F]. */
export type Shape = readonly number[];

/** How a parameter is initialized; PyTorch's defaults for each layer kind. */
export type Init =
  /** kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's conv and linear weights. */
  | { readonly kind: 'kaiming_uniform_a_sqrt5'; readonly fanIn: number }
  /** U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's conv and linear biases. */
  | { readonly kind: 'bias_uniform'; readonly fanIn: number }
  | { readonly kind: 'ones' }
  | { readonly kind: 'zeros' };

/** One tensor a layer owns. `trainable: false` marks buffers (BN running statistics). */
export interface IrParam {
  readonly name: 'weight' | 'bias' | 'running_mean' | 'running_var';
  readonly shape: readonly number[];
  readonly trainable: boolean;
  readonly init: Init;
}

/** Activation functions, by their spec names (declared in ops/activations/). */
export type { ActivationKind } from './ops/activations/index.js';

/** Fields every node has. */
interface NodeBase {
  /** The layer path: `stem.0`, `stage3.0.conv1`, `head.2`. Unique; names the layer everywhere. */
  readonly path: string;
  /** Paths of the nodes this one reads; `input` is the network input. */
  readonly inputs: readonly string[];
  readonly inputShapes: readonly Shape[];
  readonly outputShape: Shape;
  readonly params: readonly IrParam[];
  /** The module (first path part) this node belongs to. */
  readonly module: string;
  /** Path of the innermost block instance containing this node, or null at module level. */
  readonly group: string | null;
  /**
   * True when the PyTorch target emits this layer as a call to torch.nn.functional inside a block's forward
   * (activations and merges in blocks), so hook-based tools (torchsummary, torchstat) do not see it.
   */
  readonly functional: boolean;
}

/** 2-D convolution with explicit symmetric zero padding, as PyTorch's Conv2d. */
export interface ConvNode extends NodeBase {
  readonly kind: 'conv';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
  readonly bias: boolean;
}

/** BatchNorm2d (or 1d on flat features) with PyTorch semantics: eps, momentum 0.1 = weight of the new batch. */
export interface BatchNormNode extends NodeBase {
  readonly kind: 'batchnorm';
  readonly features: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
}

/** An element-wise activation. `alpha` is leaky_relu's negative slope or elu's alpha. */
export interface ActivationNode extends NodeBase {
  readonly kind: 'activation';
  readonly fn: ActivationKind;
  readonly alpha?: number;
}

/** Max or average pooling with explicit padding (-inf for max, zeros counted for avg, as PyTorch). */
export interface PoolNode extends NodeBase {
  readonly kind: 'maxpool' | 'avgpool';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** AdaptiveAvgPool2d(1): [C, H, W] to [C, 1, 1]. */
export interface GlobalAvgPoolNode extends NodeBase {
  readonly kind: 'global_avgpool';
}

/** [C, H, W] to [C*H*W], in PyTorch's (C, H, W) order. */
export interface FlattenNode extends NodeBase {
  readonly kind: 'flatten';
}

/** Fully connected layer on flat features. */
export interface LinearNode extends NodeBase {
  readonly kind: 'linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
}

/** Dropout with drop probability `p` (active only in training). */
export interface DropoutNode extends NodeBase {
  readonly kind: 'dropout';
  readonly p: number;
}

/** Passes its input through. */
export interface IdentityNode extends NodeBase {
  readonly kind: 'identity';
}

/** Element-wise sum of its inputs (a block's merge). */
export interface AddNode extends NodeBase {
  readonly kind: 'add';
}

/** A node of the IR graph. */
export type IrNode =
  | ConvNode
  | BatchNormNode
  | ActivationNode
  | PoolNode
  | GlobalAvgPoolNode
  | FlattenNode
  | LinearNode
  | DropoutNode
  | IdentityNode
  | AddNode;

/** The kind tags of IR nodes. */
export type IrNodeKind = IrNode['kind'];

/** A block instance: reports show it as one row after its layers (torchsummary's `ResBlock-9`). */
export interface IrGroup {
  readonly path: string;
  readonly block: string;
  readonly module: string;
  /** Parent group path for nested blocks, else null. */
  readonly parent: string | null;
  readonly inputShape: Shape;
  /** The node whose output is the block's output. */
  readonly output: string;
  readonly outputShape: Shape;
}

/** A compiled network. */
export interface IrNetwork {
  readonly irVersion: 1;
  readonly name: string;
  /** Resolved network parameters, in declaration order. */
  readonly params: Readonly<Record<string, number | boolean | string>>;
  readonly inputShape: Shape;
  /** Module names in order. */
  readonly modules: readonly string[];
  /** Nodes in execution order (a topological order). */
  readonly nodes: readonly IrNode[];
  readonly groups: readonly IrGroup[];
  /** Path of the node whose output is the network output. */
  readonly output: string;
  readonly outputShape: Shape;
}

/** Number of elements of a shape (1 for []). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameter counts: trainable (PyTorch's parameters) and buffers (BN running statistics). */
export function countParams(ir: IrNetwork): { trainable: number; buffers: number } {
  let trainable = 0;
  let buffers = 0;
  for (const node of ir.nodes)
    for (const p of node.params) {
      if (p.trainable) trainable += numel(p.shape);
      else buffers += numel(p.shape);
    }
  return { trainable, buffers };
}

/** Canonical JSON of the IR (stable key order as built, 2-space indent, trailing newline). */
export function serializeIr(ir: IrNetwork): string {
  return JSON.stringify(ir, null, 2) + '\n';
}

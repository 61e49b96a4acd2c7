/**
 * The IR: a flat, typed graph of layers in execution order. It is the single source of truth for every
 * target, report and the runtime. It holds no source positions, so the YAML and DSL forms of one network
 * give byte-identical IR (see `serializeIr`).
 *
 * Conventions: shapes exclude the batch dimension and are NCHW as PyTorch writes them ([C, H, W] for
 * feature maps, [T, E] for tokens, [F] for flat features). Parameter shapes are PyTorch's (conv weight OIHW,
 * linear [out, in]). A `dim` attribute is PyTorch's, counting the batch axis (0), and never negative in the IR.
 */

import type { ActivationKind } from './ops/activations/index.js';

/** A shape without the batch dimension: [C, H, W], [T, E] or [F]. */
export type Shape = readonly number[];

/** How a parameter is initialized; PyTorch's defaults for each layer kind. */
export type Init =
  /** kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's conv and linear weights. */
  | { readonly kind: 'kaiming_uniform_a_sqrt5'; readonly fanIn: number }
  /** U(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's conv and linear biases. */
  | { readonly kind: 'bias_uniform'; readonly fanIn: number }
  /** xavier_uniform_: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)), MultiheadAttention's in_proj_weight. */
  | { readonly kind: 'xavier_uniform'; readonly fanIn: number; readonly fanOut: number }
  /** normal_(0, std), e.g. ViT's position embedding (std 0.02). */
  | { readonly kind: 'normal'; readonly std: number }
  /** fill_(value), e.g. ConvNeXt's layer scale (1e-6). */
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'ones' }
  | { readonly kind: 'zeros' };

/** The names of the tensors layers own, as PyTorch's state dict spells them after the layer path. */
export type IrParamName =
  | 'weight'
  | 'bias'
  | 'running_mean'
  | 'running_var'
  | 'in_proj_weight'
  | 'in_proj_bias'
  | 'out_proj.weight'
  | 'out_proj.bias';

/** One tensor a layer owns. `trainable: false` marks buffers (BN running statistics). */
export interface IrParam {
  readonly name: IrParamName;
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
  /**
   * PyTorch's ceil_mode: the output length rounds up, so a last window may hang over the padded input (it must
   * start inside the input or the left padding). Present only when true, so IR without it stays as it was.
   */
  readonly ceilMode?: true;
}

/** AdaptiveAvgPool2d(1): [C, H, W] to [C, 1, 1]. */
export interface GlobalAvgPoolNode extends NodeBase {
  readonly kind: 'global_avgpool';
}

/** AdaptiveAvgPool2d([h, w]): [C, H, W] to [C, h, w], bin i of H spanning floor(i*H/h) to ceil((i+1)*H/h). */
export interface AdaptiveAvgPoolNode extends NodeBase {
  readonly kind: 'adaptive_avgpool';
  readonly out: readonly [number, number];
}

/**
 * One piece of torch.chunk: along `dim` (PyTorch's, counting the batch as 0), pieces of ceil(size/chunks), the
 * last smaller; this node is piece `index`, elements `start` to `start + length` of that axis.
 */
export interface ChunkNode extends NodeBase {
  readonly kind: 'chunk';
  readonly chunks: number;
  readonly index: number;
  readonly dim: number;
  readonly start: number;
  readonly length: number;
}

/** x.narrow(dim, start, end - start): elements start to end (exclusive, both resolved to 0..size) of `dim`. */
export interface SliceNode extends NodeBase {
  readonly kind: 'slice';
  readonly dim: number;
  readonly start: number;
  readonly end: number;
}

/** torchvision's channel_shuffle: channels viewed as [groups, C/groups], transposed and flattened. */
export interface ChannelShuffleNode extends NodeBase {
  readonly kind: 'channel_shuffle';
  readonly groups: number;
}

/** torchvision's StochasticDepth(p, 'row'): in training each sample is dropped with probability p. */
export interface StochasticDepthNode extends NodeBase {
  readonly kind: 'stochastic_depth';
  readonly p: number;
}

/** [C, H, W] to [C*H*W], in PyTorch's (C, H, W) order. */
export interface FlattenNode extends NodeBase {
  readonly kind: 'flatten';
}

/** Fully connected layer on flat features [F], or on the last axis of tokens [T, F]. */
export interface LinearNode extends NodeBase {
  readonly kind: 'linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;
}

/** Layer normalization over the one axis `dim` (PyTorch's, counting the batch axis): nn.LayerNorm or LayerNorm2d. */
export interface LayerNormNode extends NodeBase {
  readonly kind: 'layernorm';
  readonly dim: number;
  /** The size of axis `dim`: the length of weight and bias. */
  readonly features: number;
  readonly eps: number;
  readonly affine: boolean;
}

/** A learnable tensor of `shape` (per sample, its `weight`), the same for every sample; its input gives the batch size. */
export interface ParameterNode extends NodeBase {
  readonly kind: 'parameter';
  readonly shape: readonly number[];
}

/** x.permute(dims): `dims` has the batch axis, which stays first (dims[0] = 0). */
export interface PermuteNode extends NodeBase {
  readonly kind: 'permute';
  readonly dims: readonly number[];
}

/** x.reshape(batch, *outputShape), in PyTorch's (row-major, NCHW) element order. */
export interface ReshapeNode extends NodeBase {
  readonly kind: 'reshape';
}

/** x.select(dim, index): the slice at `index` of axis `dim` (with the batch axis), that axis dropped. */
export interface SelectNode extends NodeBase {
  readonly kind: 'select';
  readonly dim: number;
  readonly index: number;
}

/** Self-attention on tokens [T, E], nn.MultiheadAttention(E, heads, batch_first=True) with query = key = value. */
export interface AttentionNode extends NodeBase {
  readonly kind: 'attention';
  readonly embed: number;
  readonly heads: number;
  /** Dropout on the attention weights (training only). */
  readonly dropout: number;
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

/**
 * Element-wise sum of its inputs (a block's merge, or a merge of branches). The inputs have one rank; each axis
 * is equal or 1 in all but one of them (broadcast, as PyTorch's `+`).
 */
export interface AddNode extends NodeBase {
  readonly kind: 'add';
}

/** Element-wise product of its inputs, broadcast as `add` (squeeze-excitation: [C, H, W] * [C, 1, 1]). */
export interface MulNode extends NodeBase {
  readonly kind: 'mul';
}

/** torch.cat of its inputs along `dim` (PyTorch's, counting the batch axis: 1 is the channels of [C, H, W]). */
export interface ConcatNode extends NodeBase {
  readonly kind: 'concat';
  readonly dim: number;
}

/** A node of the IR graph. */
export type IrNode =
  | ConvNode
  | BatchNormNode
  | ActivationNode
  | PoolNode
  | GlobalAvgPoolNode
  | AdaptiveAvgPoolNode
  | ChunkNode
  | SliceNode
  | ChannelShuffleNode
  | StochasticDepthNode
  | FlattenNode
  | LinearNode
  | LayerNormNode
  | ParameterNode
  | PermuteNode
  | ReshapeNode
  | SelectNode
  | AttentionNode
  | DropoutNode
  | IdentityNode
  | AddNode
  | MulNode
  | ConcatNode;

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

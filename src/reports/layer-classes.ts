/**
 * What each IR node is called by the tools whose conventions the reports follow: the PyTorch module class
 * (torchsummary, torchstat) and the tfjs/Keras layer class.
 */
import type { IrNode } from '../compiler/ir.js';
import { rowOf, type NodeOfOp, type OpKind } from '../compiler/ops/index.js';

/** A node's class names: PyTorch's module class (undefined when PyTorch uses no module), and tfjs/Keras's. */
interface ClassRow<N> {
  readonly torch: (node: N) => string | undefined;
  readonly keras: string;
}

const named = (torch: string | undefined, keras: string): ClassRow<IrNode> => ({ torch: () => torch, keras });

/** Every op kind's classes; `tsc` names a kind missing here (a missing row would drop the layer from reports). */
const CLASSES: { readonly [K in OpKind]: ClassRow<NodeOfOp<K>> } = {
  conv: named('Conv2d', 'Conv2D'),
  batchnorm: {
    torch: (n) => (n.inputShapes[0]?.length === 3 ? 'BatchNorm2d' : 'BatchNorm1d'),
    keras: 'BatchNormalization',
  },
  // tfjs has dedicated layers for ReLU, LeakyReLU and ELU; every other function is an Activation layer.
  relu: named('ReLU', 'ReLU'),
  relu6: named('ReLU6', 'ReLU'),
  leaky_relu: named('LeakyReLU', 'LeakyReLU'),
  elu: named('ELU', 'ELU'),
  selu: named('SELU', 'Activation'),
  gelu: named('GELU', 'Activation'),
  sigmoid: named('Sigmoid', 'Activation'),
  tanh: named('Tanh', 'Activation'),
  softplus: named('Softplus', 'Activation'),
  silu: named('SiLU', 'Activation'),
  hardswish: named('Hardswish', 'Activation'),
  hardsigmoid: named('Hardsigmoid', 'Activation'),
  maxpool: named('MaxPool2d', 'MaxPooling2D'),
  avgpool: named('AvgPool2d', 'AveragePooling2D'),
  global_avgpool: named('AdaptiveAvgPool2d', 'GlobalAveragePooling2D'),
  adaptive_avgpool: named('AdaptiveAvgPool2d', 'AdaptiveAveragePooling2D'),
  // torch.chunk, narrow and channel_shuffle are functions: inside blocks they are functional calls (no row); at
  // module level the generated module holds them as its own modules Chunk, Slice and ChannelShuffle (the name of
  // nn.ChannelShuffle). Neither Keras nor tfjs has such layers: the Keras column names netspec's tfjs layer.
  chunk: named('Chunk', 'TorchSlice'),
  slice: named('Slice', 'TorchSlice'),
  channel_shuffle: named('ChannelShuffle', 'TorchChannelShuffle'),
  // torchvision.ops.StochasticDepth, which the generated module defines itself (no torchvision import).
  stochastic_depth: named('StochasticDepth', 'TorchStochasticDepth'),
  flatten: named('Flatten', 'Flatten'),
  linear: named('Linear', 'Dense'),
  dropout: named('Dropout', 'Dropout'),
  // nn.LayerNorm on the last axis; on another axis a subclass the generated module defines (torchvision's
  // LayerNorm2d on a map's channels, LayerNormDim elsewhere).
  layernorm: {
    torch: (n) => {
      const rank = n.inputShapes[0]?.length ?? 0;
      if (n.dim === rank) return 'LayerNorm';
      return rank === 3 && n.dim === 1 ? 'LayerNorm2d' : 'LayerNormDim';
    },
    keras: 'LayerNormalization',
  },
  // Modules the generated PyTorch defines (Permute is torchvision's name); tfjs has Permute and Reshape layers, and
  // for the others the Keras column names netspec's tfjs layer.
  parameter: named('Parameter', 'TorchParameter'),
  permute: named('Permute', 'Permute'),
  reshape: named('Reshape', 'Reshape'),
  select: named('Select', 'TorchSelect'),
  // A subclass of nn.MultiheadAttention that returns the output only; Keras's layer is MultiHeadAttention.
  attention: named('SelfAttention', 'MultiHeadAttention'),
  // tfjs has no Identity layer; a linear Activation is the identity.
  identity: named('Identity', 'Activation'),
  // A merge is `torch.add` (`x + y`), never a module.
  add: named(undefined, 'Add'),
  // torch.mul (`x * y`) and torch.cat, never modules.
  mul: named(undefined, 'Multiply'),
  concat: named(undefined, 'Concatenate'),
};

/** The torch.nn module class PyTorch would use for the node, or undefined when there is none (a merge). */
export function torchClass(node: IrNode): string | undefined {
  return (rowOf(CLASSES, node) as ClassRow<IrNode>).torch(node);
}

/**
 * True when PyTorch's forward hooks see the node: it is a module of its own. Nodes the PyTorch target calls
 * through torch.nn.functional inside a block's forward are invisible to torchsummary and torchstat.
 */
export function isHooked(node: IrNode): boolean {
  return !node.functional && torchClass(node) !== undefined;
}

/** The tfjs (Keras) layer class for the node. */
export function kerasClass(node: IrNode): string {
  return rowOf(CLASSES, node).keras;
}

/**
 * What each IR node is called by the tools whose conventions the reports follow: the PyTorch module class
 * (torchsummary, torchstat) and the tfjs/Keras layer class.
 */
import type { ActivationKind, IrNode } from '../compiler/ir.js';

const TORCH_ACTIVATIONS: Readonly<Record<ActivationKind, string>> = {
  relu: 'ReLU',
  relu6: 'ReLU6',
  leaky_relu: 'LeakyReLU',
  elu: 'ELU',
  selu: 'SELU',
  gelu: 'GELU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softplus: 'Softplus',
  silu: 'SiLU',
};

/**
 * The torch.nn module class PyTorch would use for the node, or undefined when there is none (a merge is
 * `torch.add`, never a module).
 */
export function torchClass(node: IrNode): string | undefined {
  switch (node.kind) {
    case 'conv':
      return 'Conv2d';
    case 'batchnorm':
      return node.inputShapes[0]?.length === 3 ? 'BatchNorm2d' : 'BatchNorm1d';
    case 'activation':
      return TORCH_ACTIVATIONS[node.fn];
    case 'maxpool':
      return 'MaxPool2d';
    case 'avgpool':
      return 'AvgPool2d';
    case 'global_avgpool':
      return 'AdaptiveAvgPool2d';
    case 'flatten':
      return 'Flatten';
    case 'linear':
      return 'Linear';
    case 'dropout':
      return 'Dropout';
    case 'identity':
      return 'Identity';
    case 'add':
      return undefined;
  }
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
  switch (node.kind) {
    case 'conv':
      return 'Conv2D';
    case 'batchnorm':
      return 'BatchNormalization';
    case 'activation':
      // tfjs has dedicated layers for these; every other function is an Activation layer.
      return node.fn === 'relu' || node.fn === 'relu6'
        ? 'ReLU'
        : node.fn === 'leaky_relu'
          ? 'LeakyReLU'
          : node.fn === 'elu'
            ? 'ELU'
            : 'Activation';
    case 'maxpool':
      return 'MaxPooling2D';
    case 'avgpool':
      return 'AveragePooling2D';
    case 'global_avgpool':
      return 'GlobalAveragePooling2D';
    case 'flatten':
      return 'Flatten';
    case 'linear':
      return 'Dense';
    case 'dropout':
      return 'Dropout';
    case 'identity':
      // tfjs has no Identity layer; a linear Activation is the identity.
      return 'Activation';
    case 'add':
      return 'Add';
  }
}

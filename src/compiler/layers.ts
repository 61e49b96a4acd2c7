/**
 * The closed layer vocabulary: for each spec name, its arguments (name, type, default, constraints). The first
 * argument is the one a positional value binds to. Shape rules live in shapes.ts, lowering in lower.ts.
 */
import type { ActivationKind } from './ir.js';

/** The type an argument accepts; `pair` is an int or a list of two ints ([h, w]). */
export type ArgType = 'int' | 'pair' | 'bool' | 'float';

/** One argument of a layer. `min` is an inclusive lower bound; `required` args have no default. */
export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  readonly default?: number | boolean | 'kernel';
  readonly min?: number;
  readonly max?: number;
  /** Strictly greater than `min` (for probabilities and epsilons). */
  readonly exclusiveMin?: boolean;
}

const activation = (args: readonly ArgSpec[] = []): readonly ArgSpec[] => args;

/** Activation layer names and their IR function. */
export const ACTIVATIONS: Readonly<Record<string, ActivationKind>> = {
  relu: 'relu',
  relu6: 'relu6',
  leaky_relu: 'leaky_relu',
  elu: 'elu',
  selu: 'selu',
  gelu: 'gelu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softplus: 'softplus',
  silu: 'silu',
};

const window = (poolDefaults: boolean): readonly ArgSpec[] => [
  { name: 'kernel', type: 'pair', min: 1 },
  poolDefaults
    ? { name: 'stride', type: 'pair', default: 'kernel', min: 1 }
    : { name: 'stride', type: 'pair', default: 1, min: 1 },
  { name: 'padding', type: 'pair', default: 0, min: 0 },
];

/** Every layer kind a spec may name, with its arguments in positional order. */
export const LAYERS: Readonly<Record<string, readonly ArgSpec[]>> = {
  conv: [
    { name: 'out', type: 'int', min: 1 },
    ...window(false),
    { name: 'dilation', type: 'pair', default: 1, min: 1 },
    { name: 'groups', type: 'int', default: 1, min: 1 },
    { name: 'bias', type: 'bool', default: true },
  ],
  batchnorm: [
    { name: 'eps', type: 'float', default: 1e-5, min: 0, exclusiveMin: true },
    { name: 'momentum', type: 'float', default: 0.1, min: 0, max: 1 },
    { name: 'affine', type: 'bool', default: true },
  ],
  relu: activation(),
  relu6: activation(),
  leaky_relu: activation([{ name: 'slope', type: 'float', default: 0.01 }]),
  elu: activation([{ name: 'alpha', type: 'float', default: 1 }]),
  selu: activation(),
  gelu: activation(),
  sigmoid: activation(),
  tanh: activation(),
  softplus: activation(),
  silu: activation(),
  maxpool: window(true),
  avgpool: window(true),
  global_avgpool: [],
  flatten: [],
  linear: [
    { name: 'out', type: 'int', min: 1 },
    { name: 'bias', type: 'bool', default: true },
  ],
  dropout: [{ name: 'p', type: 'float', default: 0.5, min: 0, max: 1 }],
  identity: [],
};

/** True when `name` is a layer of the vocabulary. */
export function isLayerName(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(LAYERS, name);
}

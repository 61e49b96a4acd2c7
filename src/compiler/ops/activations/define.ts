/**
 * Element-wise activations, declared apart from the other layers: their lowering is one shared rule (the output
 * has the input's shape, no parameters, an `activation` IR node naming the function), so a definition is just
 * its name, a line of documentation and its arguments. This folder imports nothing of the IR, so `ir.ts` can take
 * its list of activation functions from here.
 */
import type { ArgSpec } from '../args.js';

/** One activation function as the language offers it. */
export interface ActivationDefinition<K extends string = string> {
  readonly name: K;
  /** One line for people: what it computes, in PyTorch's terms. */
  readonly doc: string;
  readonly args: readonly ArgSpec[];
  /** The argument the IR node keeps as `alpha` (leaky_relu's slope, elu's alpha). */
  readonly alphaArg?: string;
}

/** Declares an activation (typed so that its name stays a literal type). */
export function defineActivation<const K extends string>(
  d: ActivationDefinition<K>,
): ActivationDefinition<K> {
  return d;
}

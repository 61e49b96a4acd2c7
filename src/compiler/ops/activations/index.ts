/**
 * Every activation function of the language, by its spec name. Adding one is a file in this folder and an entry
 * here; the type checker then names each table that needs a row for it (see src/compiler/README.md).
 */
import type { ActivationDefinition } from './define.js';
import { elu } from './elu.js';
import { gelu } from './gelu.js';
import { hardsigmoid } from './hardsigmoid.js';
import { hardswish } from './hardswish.js';
import { leaky_relu } from './leaky-relu.js';
import { relu } from './relu.js';
import { relu6 } from './relu6.js';
import { selu } from './selu.js';
import { sigmoid } from './sigmoid.js';
import { silu } from './silu.js';
import { softplus } from './softplus.js';
import { tanh } from './tanh.js';

/** The activations, in the order the language documents them. */
export const ACTIVATIONS = {
  relu,
  relu6,
  leaky_relu,
  elu,
  selu,
  gelu,
  sigmoid,
  tanh,
  softplus,
  silu,
  hardswish,
  hardsigmoid,
} as const satisfies Readonly<Record<string, ActivationDefinition>>;

/** An activation function's name, as specs write it and as the IR's `activation` nodes record it. */
export type ActivationKind = keyof typeof ACTIVATIONS;

export type { ActivationDefinition } from './define.js';

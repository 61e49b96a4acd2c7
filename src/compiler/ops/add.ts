/** `add`: the element-wise sum that merges a block's body and shortcut (`merge add`), as `x + y` in PyTorch. */
import type { AddNode, Shape } from '../ir.js';
import { addShape } from '../shapes.js';
import { withShape, type Lowered } from './definition.js';

/** A way to merge the values of several branches into one. */
export interface MergeDefinition<K extends string = string, N extends AddNode = AddNode> {
  readonly name: K;
  readonly doc: string;
  /** The merged node's body for inputs of these shapes, or why they do not merge. */
  lower(inputs: readonly Shape[]): Lowered<N>;
}

/** Element-wise sum: every input must have the same shape. */
export const add: MergeDefinition<'add', AddNode> = {
  name: 'add',
  doc: 'element-wise sum of the branches (all of one shape)',
  lower: (inputs) => withShape(addShape(inputs), (outputShape) => ({ kind: 'add', outputShape, params: [] })),
};

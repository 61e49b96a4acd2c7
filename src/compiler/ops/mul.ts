/** `mul`: the element-wise product of the branches, as `x * y` in PyTorch (squeeze-excitation's gate). */
import type { MulNode } from '../ir.js';
import { elementwise, type MergeDefinition } from './merge.js';

/** Element-wise product: one rank, each axis equal or 1 ([C, H, W] * [C, 1, 1]). */
export const mul: MergeDefinition<'mul', MulNode> = {
  name: 'mul',
  doc: 'element-wise product of the branches (one rank; each axis equal or 1, broadcast as PyTorch)',
  args: [],
  lower: (inputs, _args, branches) => elementwise('mul', inputs, branches),
};

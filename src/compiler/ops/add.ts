/**
 * `add`: the element-wise sum that merges a block's body and shortcut (`merge add`) or the branches of an `add`
 * merge, as `x + y` in PyTorch (with its broadcasting along axes of size 1).
 */
import type { AddNode } from '../ir.js';
import { elementwise, type MergeDefinition } from './merge.js';

export type { MergeDefinition } from './merge.js';

/** Element-wise sum: one rank, each axis equal or 1. */
export const add: MergeDefinition<'add', AddNode> = {
  name: 'add',
  doc: 'element-wise sum of the branches (one rank; each axis equal or 1, broadcast as PyTorch)',
  args: [],
  lower: (inputs, _args, branches) => elementwise('add', inputs, branches),
};

/** `permute`: reorders the axes of each sample, as PyTorch's x.permute(dims) (torchvision's Permute). */
import type { PermuteNode } from '../ir.js';
import { permuteShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** x.permute(dims) with PyTorch's dims, the batch axis included and kept first: [0, 2, 1] swaps T and E. */
export const permute = defineLayer<'permute', PermuteNode>({
  name: 'permute',
  doc: "reorders the axes (x.permute(dims)); dims are PyTorch's with the batch axis, which stays first: [0, 2, 1]",
  args: [
    {
      name: 'dims',
      type: 'ints',
      minItems: 2,
      maxItems: 4,
      doc: 'the new order of the axes, batch (0) first: [0, 2, 1]',
    },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const dims = a.ints('dims');
    return withShape(permuteShape(input, dims), (outputShape) => ({
      kind: 'permute',
      outputShape,
      params: [],
      dims,
    }));
  },
});

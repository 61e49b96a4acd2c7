/** `reshape`: a new shape for each sample's elements in PyTorch's order, as x.reshape(batch, *shape). */
import type { ReshapeNode } from '../ir.js';
import { reshapeShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** x.reshape(x.shape[0], *shape): the same elements in the same (row-major, NCHW) order; one -1 is inferred. */
export const reshape = defineLayer<'reshape', ReshapeNode>({
  name: 'reshape',
  doc: 'the same elements in a new shape per sample (x.reshape(batch, *shape)); one -1 takes the rest',
  args: [
    {
      name: 'shape',
      type: 'ints',
      minItems: 1,
      maxItems: 3,
      min: -1,
      doc: 'the shape per sample, without the batch: [768, 196], [-1]',
    },
  ],
  functionalInBlocks: false,
  lower: (input, a) =>
    withShape(reshapeShape(input, a.ints('shape')), (outputShape) => ({
      kind: 'reshape',
      outputShape,
      params: [],
    })),
});

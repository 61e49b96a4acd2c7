/** `slice`: a range of one axis, as x.narrow(dim, start, end - start) (x[:, start:end] for channels). */
import type { SliceNode } from '../ir.js';
import { sliceRange, sliceShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** x.narrow: negative start and end count from the end of the axis; the range must be inside it, not empty. */
export const slice = defineLayer<'slice', SliceNode>({
  name: 'slice',
  doc: 'elements start to end (exclusive) of one axis, as x.narrow; negatives count from the end',
  args: [
    { name: 'start', type: 'int', doc: 'first element; negative counts from the end (-1 is the last)' },
    { name: 'end', type: 'int', doc: 'one past the last element; negative counts from the end' },
    {
      name: 'dim',
      type: 'int',
      default: 1,
      min: 1,
      doc: "PyTorch's axis, counting the batch as 0: 1 channels (or features), 2 height, 3 width",
    },
  ],
  functionalInBlocks: true,
  lower: (input, a) => {
    const [start, end, dim] = [a.number('start'), a.number('end'), a.number('dim')];
    return withShape(sliceShape(input, dim, start, end), (outputShape) => {
      const r = sliceRange(input, dim, start, end);
      const range = r.ok ? { start: r.start, end: r.end } : { start, end };
      return { kind: 'slice', outputShape, params: [], dim, ...range };
    });
  },
});

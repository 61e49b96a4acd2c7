/** `select`: one slice of an axis, the axis dropped, as PyTorch's x.select(dim, index) (ViT's x[:, 0]). */
import type { SelectNode } from '../ir.js';
import { sampleDim, selectShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** x.select(dim, index): dim counts the batch axis (1: the first axis of a sample); a negative index counts from the end. */
export const select = defineLayer<'select', SelectNode>({
  name: 'select',
  doc: "the slice at index of axis dim, that axis dropped (x.select(dim, index)); dim is PyTorch's, with the batch",
  args: [
    {
      name: 'dim',
      type: 'int',
      doc: "the axis, PyTorch's dim counting the batch axis (1: tokens of [T, E])",
    },
    { name: 'index', type: 'int', doc: 'the position along it (negative: from the end)' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const given = a.number('dim');
    const index = a.number('index');
    const resolved = sampleDim(given, input.length, 'select');
    const dim = resolved.ok ? resolved.dim : 1;
    const size = input[dim - 1] ?? 0;
    return withShape(selectShape(input, given, index), (outputShape) => ({
      kind: 'select',
      outputShape,
      params: [],
      dim,
      index: index < 0 ? index + size : index,
    }));
  },
});

/** `dropout`: zeroes elements with probability p in training and scales the rest, as PyTorch's nn.Dropout. */
import type { DropoutNode } from '../ir.js';
import { defineLayer } from './definition.js';

/** nn.Dropout(p): the identity in inference. */
export const dropout = defineLayer<'dropout', DropoutNode>({
  name: 'dropout',
  doc: 'zeroes elements with probability p while training (nn.Dropout)',
  args: [
    { name: 'p', type: 'float', default: 0.5, min: 0, max: 1, doc: 'probability of zeroing an element' },
  ],
  functionalInBlocks: false,
  lower: (input, a) => ({
    ok: true,
    body: { kind: 'dropout', outputShape: input, params: [], p: a.number('p') },
  }),
});

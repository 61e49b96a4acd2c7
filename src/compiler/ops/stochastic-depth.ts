/** `stochastic_depth`: drops whole samples while training, as torchvision.ops.StochasticDepth(p, 'row'). */
import type { StochasticDepthNode } from '../ir.js';
import { defineLayer } from './definition.js';

/** StochasticDepth(p, 'row'): each sample zeroed with probability p, survivors scaled by 1/(1-p); eval: identity. */
export const stochastic_depth = defineLayer<'stochastic_depth', StochasticDepthNode>({
  name: 'stochastic_depth',
  doc: "zeroes each sample's whole tensor with probability p while training (torchvision StochasticDepth, 'row')",
  args: [
    {
      name: 'p',
      type: 'float',
      min: 0,
      max: 1,
      exclusiveMax: true,
      doc: 'probability of dropping a sample, in [0, 1); survivors are scaled by 1/(1-p)',
    },
  ],
  functionalInBlocks: false,
  // p < 1 is checked with the argument (p = 1 would drop every sample in training).
  lower: (input, a) => ({
    ok: true,
    body: { kind: 'stochastic_depth', outputShape: input, params: [], p: a.number('p') },
  }),
});

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
      doc: 'probability of dropping a sample, in [0, 1); survivors are scaled by 1/(1-p)',
    },
  ],
  functionalInBlocks: false,
  lower: (input, a) => {
    const p = a.number('p');
    // The argument check knows inclusive bounds only (max 1); p = 1 would drop every sample.
    if (p >= 1)
      return {
        ok: false,
        code: 'BAD_VALUE',
        message: 'stochastic_depth p must be less than 1: p = 1 would drop every sample in training',
      };
    return { ok: true, body: { kind: 'stochastic_depth', outputShape: input, params: [], p } };
  },
});

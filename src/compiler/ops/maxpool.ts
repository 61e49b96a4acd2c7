/** `maxpool`: 2-D max pooling with explicit padding, as PyTorch's nn.MaxPool2d. */
import type { PoolNode } from '../ir.js';
import { defineLayer } from './definition.js';
import { lowerPool, POOL_ARGS } from './pool.js';

/** nn.MaxPool2d: padding with -inf, at most half the kernel. */
export const maxpool = defineLayer<'maxpool', PoolNode & { readonly kind: 'maxpool' }>({
  name: 'maxpool',
  doc: 'max pooling, padded with -inf (nn.MaxPool2d)',
  args: POOL_ARGS,
  functionalInBlocks: false,
  lower: (input, a) => lowerPool('maxpool', input, a),
});

/** `avgpool`: 2-D average pooling with explicit padding, as PyTorch's nn.AvgPool2d. */
import type { PoolNode } from '../ir.js';
import { defineLayer } from './definition.js';
import { lowerPool, POOL_ARGS } from './pool.js';

/** nn.AvgPool2d: padded zeros count (count_include_pad=True). */
export const avgpool = defineLayer<'avgpool', PoolNode & { readonly kind: 'avgpool' }>({
  name: 'avgpool',
  doc: 'average pooling, padded zeros counted (nn.AvgPool2d)',
  args: POOL_ARGS,
  functionalInBlocks: false,
  lower: (input, a) => lowerPool('avgpool', input, a),
});

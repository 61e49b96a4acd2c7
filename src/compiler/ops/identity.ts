/** `identity`: passes its input through, as PyTorch's nn.Identity. */
import type { IdentityNode } from '../ir.js';
import { defineLayer } from './definition.js';

/** nn.Identity (inside a block, just the variable). */
export const identity = defineLayer<'identity', IdentityNode>({
  name: 'identity',
  doc: 'passes its input through (nn.Identity)',
  args: [],
  functionalInBlocks: true,
  lower: (input) => ({ ok: true, body: { kind: 'identity', outputShape: input, params: [] } }),
});

/** `flatten`: a feature map to flat features in PyTorch's (C, H, W) order, as nn.Flatten. */
import type { FlattenNode } from '../ir.js';
import { flattenShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** nn.Flatten: [C, H, W] to [C*H*W]. */
export const flatten = defineLayer<'flatten', FlattenNode>({
  name: 'flatten',
  doc: 'feature map to flat features, in (C, H, W) order (nn.Flatten)',
  args: [],
  functionalInBlocks: false,
  lower: (input) =>
    withShape(flattenShape(input), (outputShape) => ({ kind: 'flatten', outputShape, params: [] })),
});

/** `global_avgpool`: the mean over each channel's map, as PyTorch's nn.AdaptiveAvgPool2d(1). */
import type { GlobalAvgPoolNode } from '../ir.js';
import { globalPoolShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** nn.AdaptiveAvgPool2d(1): [C, H, W] to [C, 1, 1]. */
export const global_avgpool = defineLayer<'global_avgpool', GlobalAvgPoolNode>({
  name: 'global_avgpool',
  doc: 'the mean of each channel: [C, H, W] to [C, 1, 1] (nn.AdaptiveAvgPool2d(1))',
  args: [],
  functionalInBlocks: false,
  lower: (input) =>
    withShape(globalPoolShape(input), (outputShape) => ({
      kind: 'global_avgpool',
      outputShape,
      params: [],
    })),
});

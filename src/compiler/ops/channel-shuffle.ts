/** `channel_shuffle`: torchvision's ShuffleNetV2 channel_shuffle (a function there, called in forward). */
import type { ChannelShuffleNode } from '../ir.js';
import { channelShuffleShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** channel_shuffle(x, groups): channels viewed as [groups, C/groups], transposed, flattened back. */
export const channel_shuffle = defineLayer<'channel_shuffle', ChannelShuffleNode>({
  name: 'channel_shuffle',
  doc: "interleaves channel groups: [g, C/g] transposed (torchvision's shufflenetv2 channel_shuffle)",
  args: [{ name: 'groups', type: 'int', min: 1, doc: 'how many groups; must divide the channels' }],
  functionalInBlocks: true,
  lower: (input, a) =>
    withShape(channelShuffleShape(input, a.number('groups')), (outputShape) => ({
      kind: 'channel_shuffle',
      outputShape,
      params: [],
      groups: a.number('groups'),
    })),
});

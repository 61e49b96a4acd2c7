/** `conv`: a 2-D convolution with explicit symmetric zero padding, as PyTorch's nn.Conv2d. */
import type { ConvNode } from '../ir.js';
import { convShape } from '../shapes.js';
import { windowArgs } from './args.js';
import { defineLayer, withShape } from './definition.js';
import { kaimingWeight, uniformBias } from './params.js';

/** nn.Conv2d: weight [out, in / groups, kh, kw] and an optional bias, PyTorch's default initialization. */
export const conv = defineLayer<'conv', ConvNode>({
  name: 'conv',
  doc: '2-D convolution with zero padding (nn.Conv2d)',
  args: [
    { name: 'out', type: 'int', min: 1, doc: 'output channels' },
    ...windowArgs(false),
    { name: 'dilation', type: 'pair', default: 1, min: 1, doc: 'spacing between kernel taps' },
    {
      name: 'groups',
      type: 'int',
      default: 1,
      min: 1,
      doc: 'blocked connections from input to output channels',
    },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learnable bias' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const inChannels = input[0] ?? 0;
    const outChannels = a.number('out');
    const groups = a.number('groups');
    const kernel = a.pair('kernel');
    const stride = a.pair('stride');
    const padding = a.pair('padding');
    const dilation = a.pair('dilation');
    const bias = a.bool('bias');
    const rule = convShape(input, inChannels % groups === 0 && outChannels % groups === 0, outChannels, {
      kernel,
      stride,
      padding,
      dilation,
    });
    const fanIn = (inChannels / groups) * kernel[0] * kernel[1];
    const params = [kaimingWeight([outChannels, inChannels / groups, kernel[0], kernel[1]], fanIn)];
    if (bias) params.push(uniformBias(outChannels, fanIn));
    return withShape(rule, (outputShape) => ({
      kind: 'conv',
      outputShape,
      params,
      inChannels,
      outChannels,
      kernel,
      stride,
      padding,
      dilation,
      groups,
      bias,
    }));
  },
});

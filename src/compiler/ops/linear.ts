/** `linear`: a fully connected layer on flat features or on each token, as PyTorch's nn.Linear. */
import type { LinearNode } from '../ir.js';
import { linearShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';
import { kaimingWeight, uniformBias } from './params.js';

/** nn.Linear on the last axis ([F] or tokens [T, F]): weight [out, in] and an optional bias, PyTorch's initialization. */
export const linear = defineLayer<'linear', LinearNode>({
  name: 'linear',
  doc: 'fully connected layer on flat features [F], or on each token of [T, F] (nn.Linear)',
  args: [
    { name: 'out', type: 'int', min: 1, doc: 'output features' },
    { name: 'bias', type: 'bool', default: true, doc: 'add a learnable bias' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const outFeatures = a.number('out');
    const inFeatures = input[input.length - 1] ?? 0;
    const bias = a.bool('bias');
    const params = [kaimingWeight([outFeatures, inFeatures], inFeatures)];
    if (bias) params.push(uniformBias(outFeatures, inFeatures));
    return withShape(linearShape(input, outFeatures), (outputShape) => ({
      kind: 'linear',
      outputShape,
      params,
      inFeatures,
      outFeatures,
      bias,
    }));
  },
});

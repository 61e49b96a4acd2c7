/** `layernorm`: layer normalization over one axis, as PyTorch's nn.LayerNorm (torchvision's LayerNorm2d on channels). */
import type { LayerNormNode } from '../ir.js';
import { layerNormShape, sampleDim } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';
import { layerNormParams } from './params.js';

/**
 * nn.LayerNorm(size of axis `dim`) over that one axis: each position's values along it get mean 0 and the biased
 * variance 1, then the learnable scale and shift (ones and zeros).
 */
export const layernorm = defineLayer<'layernorm', LayerNormNode>({
  name: 'layernorm',
  doc: 'layer normalization over one axis (nn.LayerNorm on the last axis; LayerNorm2d on the channels, dim 1)',
  args: [
    {
      name: 'dim',
      type: 'int',
      default: -1,
      doc: "the axis normalized over, PyTorch's dim counting the batch axis (1: channels, -1: the last)",
    },
    { name: 'eps', type: 'float', default: 1e-5, min: 0, exclusiveMin: true, doc: 'added to the variance' },
    { name: 'affine', type: 'bool', default: true, doc: 'learnable scale and shift (elementwise_affine)' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const given = a.number('dim');
    const resolved = sampleDim(given, input.length, 'layernorm');
    const dim = resolved.ok ? resolved.dim : 1;
    const features = input[dim - 1] ?? 0;
    const affine = a.bool('affine');
    return withShape(layerNormShape(input, given), (outputShape) => ({
      kind: 'layernorm',
      outputShape,
      params: layerNormParams(features, affine),
      dim,
      features,
      eps: a.number('eps'),
      affine,
    }));
  },
});

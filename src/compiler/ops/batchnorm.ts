/** `batchnorm`: BatchNorm2d on feature maps (BatchNorm1d on flat features), PyTorch's semantics. */
import type { BatchNormNode } from '../ir.js';
import { batchNormShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';
import { batchNormParams } from './params.js';

/** nn.BatchNorm2d/1d: eps, momentum 0.1 (the weight of the new batch), the unbiased running variance. */
export const batchnorm = defineLayer<'batchnorm', BatchNormNode>({
  name: 'batchnorm',
  doc: 'batch normalization over channels (nn.BatchNorm2d, or nn.BatchNorm1d on flat features)',
  args: [
    { name: 'eps', type: 'float', default: 1e-5, min: 0, exclusiveMin: true, doc: 'added to the variance' },
    {
      name: 'momentum',
      type: 'float',
      default: 0.1,
      min: 0,
      max: 1,
      doc: 'weight of the new batch in the running statistics',
    },
    { name: 'affine', type: 'bool', default: true, doc: 'learnable scale and shift' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const features = input[0] ?? 0;
    const affine = a.bool('affine');
    return withShape(batchNormShape(input), (outputShape) => ({
      kind: 'batchnorm',
      outputShape,
      params: batchNormParams(features, affine),
      features,
      eps: a.number('eps'),
      momentum: a.number('momentum'),
      affine,
    }));
  },
});

/** `parameter`: a learnable tensor, the same for every sample (ViT's class token and position embedding). */
import type { Init, ParameterNode } from '../ir.js';
import { parameterShape } from '../shapes.js';
import type { LayerArgs } from './args.js';
import { defineLayer, withShape } from './definition.js';

/** The initializer the arguments name: zeros, ones, normal_(0, std) or fill_(value). */
function initOf(a: LayerArgs): Init {
  switch (a.choice('init')) {
    case 'ones':
      return { kind: 'ones' };
    case 'normal':
      return { kind: 'normal', std: a.number('std') };
    case 'constant':
      return { kind: 'constant', value: a.number('value') };
    default:
      return { kind: 'zeros' };
  }
}

/**
 * An nn.Parameter of exactly `shape` per sample (its `weight`), expanded over the batch: the input is read only for
 * its batch size. Merged with the tokens or the map it belongs to (concatenated, added, multiplied).
 */
export const parameter = defineLayer<'parameter', ParameterNode>({
  name: 'parameter',
  doc: 'a learnable tensor of a given shape, the same for every sample (nn.Parameter); reads its input only for the batch size',
  args: [
    {
      name: 'shape',
      type: 'ints',
      minItems: 1,
      maxItems: 3,
      min: 1,
      doc: 'its shape per sample: [F], [T, E] or [C, H, W]',
    },
    {
      name: 'init',
      type: 'choice',
      choices: ['zeros', 'ones', 'normal', 'constant'],
      default: 'zeros',
      doc: 'how it starts: zeros, ones, normal (mean 0, std) or constant (value)',
    },
    {
      name: 'std',
      type: 'float',
      default: 1,
      min: 0,
      exclusiveMin: true,
      doc: 'standard deviation for normal',
    },
    { name: 'value', type: 'float', default: 0, doc: 'the value for constant' },
  ],
  functionalInBlocks: false,
  lower(_input, a) {
    const shape = a.ints('shape');
    return withShape(parameterShape(shape), (outputShape) => ({
      kind: 'parameter',
      outputShape,
      params: [{ name: 'weight', shape, trainable: true, init: initOf(a) }],
      shape,
    }));
  },
});

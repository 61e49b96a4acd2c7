/** `adaptive_avgpool`: average pooling to a given output size, as PyTorch's nn.AdaptiveAvgPool2d([h, w]). */
import type { AdaptiveAvgPoolNode } from '../ir.js';
import { adaptivePoolShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';

/** nn.AdaptiveAvgPool2d(out): bin i of H spans floor(i*H/h) to ceil((i+1)*H/h); bins may overlap or repeat. */
export const adaptive_avgpool = defineLayer<'adaptive_avgpool', AdaptiveAvgPoolNode>({
  name: 'adaptive_avgpool',
  doc: 'average pooling to an output size [h, w], any input size (nn.AdaptiveAvgPool2d)',
  args: [
    {
      name: 'out',
      type: 'pair',
      min: 1,
      doc: 'output size, an int or [h, w]; may exceed the input (bins then repeat)',
    },
  ],
  functionalInBlocks: false,
  lower: (input, a) =>
    withShape(adaptivePoolShape(input, a.pair('out')), (outputShape) => ({
      kind: 'adaptive_avgpool',
      outputShape,
      params: [],
      out: a.pair('out'),
    })),
});

/**
 * The averaging matrix [out, size] of PyTorch's adaptive average pooling of `size` elements to `out`: row i holds
 * 1/|bin i| on bin i (floor(i*size/out) to ceil((i+1)*size/out)). The exporters pool each axis with it.
 */
export function adaptiveMatrix(size: number, out: number): Float32Array {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return m;
}

/** What `maxpool` and `avgpool` share: their window arguments and their lowering. */
import type { PoolNode, Shape } from '../ir.js';
import { poolShape } from '../shapes.js';
import type { LayerArgs } from './args.js';
import { withShape, type Lowered } from './definition.js';

/** The pooling node of `kind` for `input`; PyTorch requires padding at most half the kernel. */
export function lowerPool<K extends 'maxpool' | 'avgpool'>(
  kind: K,
  input: Shape,
  a: LayerArgs,
): Lowered<PoolNode & { readonly kind: K }> {
  const attrs = { kernel: a.pair('kernel'), stride: a.pair('stride'), padding: a.pair('padding') };
  return withShape(poolShape(input, { ...attrs, dilation: [1, 1] }, kind), (outputShape) => ({
    kind,

    outputShape,
    params: [],
    ...attrs,
  }));
}

/** What `maxpool` and `avgpool` share: their window arguments, ceil_mode, and their lowering. */
import type { PoolNode, Shape } from '../ir.js';
import { poolShape } from '../shapes.js';
import { windowArgs, type ArgSpec, type LayerArgs } from './args.js';
import { withShape, type Lowered } from './definition.js';

/** The arguments of both poolings: kernel, stride (default: kernel), padding, and PyTorch's ceil_mode. */
export const POOL_ARGS: readonly ArgSpec[] = [
  ...windowArgs(true),
  {
    name: 'ceil_mode',
    type: 'bool',
    default: false,
    doc: 'round the output size up (a last window may hang over the end, starting inside the input), as PyTorch',
  },
];

/**
 * The pooling node of `kind` for `input`; PyTorch requires padding at most half the kernel. `ceilMode` is in
 * the IR only when true, so networks without it keep their IR bytes.
 */
export function lowerPool<K extends 'maxpool' | 'avgpool'>(
  kind: K,
  input: Shape,
  a: LayerArgs,
): Lowered<PoolNode & { readonly kind: K }> {
  const attrs = { kernel: a.pair('kernel'), stride: a.pair('stride'), padding: a.pair('padding') };
  const ceil = a.bool('ceil_mode');
  const rule = poolShape(input, { ...attrs, dilation: [1, 1] }, kind, ceil);
  return withShape(rule, (outputShape) => ({
    kind,
    outputShape,
    params: [],
    ...attrs,
    ...(ceil ? { ceilMode: true as const } : {}),
  }));
}

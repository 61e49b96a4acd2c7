/** `concat`: torch.cat of the branches along one axis, channels by default (Inception, DenseNet, SqueezeNet). */
import type { ConcatNode, Shape } from '../ir.js';
import type { ShapeResult } from '../shapes.js';
import { axisName, showShape, type MergeDefinition } from './merge.js';

/**
 * The shape of torch.cat(inputs, dim): one rank, equal sizes except along `dim` (PyTorch's, counting the batch
 * axis as 0; negative counts from the end), where the sizes add up.
 */
export function concatShape(inputs: readonly Shape[], dim: number, branches: readonly string[]): ShapeResult {
  const first = inputs[0] ?? [];
  const rank = first.length;
  const name = (i: number): string => `branch '${branches[i] ?? String(i)}'`;
  const axis = dim < 0 ? rank + dim : dim - 1;
  if (axis < 0 || axis >= rank)
    return {
      ok: false,
      code: 'BAD_VALUE',
      message: `concat dim ${dim} is out of range for ${showShape(first)} (dims 1 to ${rank}; 0 is the batch)`,
    };
  const out = [...first];
  out[axis] = 0;
  for (const [i, s] of inputs.entries()) {
    if (s.length !== rank)
      return {
        ok: false,
        code: 'SHAPE_MISMATCH',
        message: `concat of different ranks: ${name(0)} is ${showShape(first)}, ${name(i)} is ${showShape(s)}`,
      };
    for (let a = 0; a < rank; a++)
      if (a !== axis && s[a] !== first[a])
        return {
          ok: false,
          code: 'SHAPE_MISMATCH',
          message:
            `concat along ${axisName(rank, axis)}: ${name(i)} has ${axisName(rank, a).split(' ')[0]} ${s[a]} ` +
            `where ${name(0)} has ${first[a]} (${showShape(s)} and ${showShape(first)}; only dim ${axis + 1} may differ)`,
        };
    out[axis] = (out[axis] ?? 0) + (s[axis] ?? 0);
  }
  return { ok: true, shape: out };
}

/** torch.cat along `dim`; the IR keeps dim as a positive PyTorch dim. */
export const concat: MergeDefinition<'concat', ConcatNode> = {
  name: 'concat',
  doc: 'torch.cat of the branches along dim (PyTorch dim counting the batch: 1 = channels, -1 = last)',
  args: [
    { name: 'dim', type: 'int', default: 1, doc: 'the axis joined (1 = channels; negative from the end)' },
  ],
  lower(inputs, args, branches) {
    const dim = args.number('dim');
    const rule = concatShape(inputs, dim, branches);
    if (!rule.ok) return rule;
    const rank = (inputs[0] ?? []).length;
    return {
      ok: true,
      body: { kind: 'concat', outputShape: rule.shape, params: [], dim: dim < 0 ? rank + 1 + dim : dim },
    };
  },
};

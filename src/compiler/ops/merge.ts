/**
 * What merges share: their definition type and the broadcast shape rule of `add` and `mul`. A merge takes the
 * values of several named branches (a block's body and shortcut are `body` and `shortcut`) and gives one.
 */
import type { AddNode, ConcatNode, MulNode, Shape } from '../ir.js';
import type { ShapeResult } from '../shapes.js';
import type { ArgSpec, LayerArgs } from './args.js';
import type { Lowered } from './definition.js';

/** A merge's node types. */
export type MergeNode = AddNode | MulNode | ConcatNode;

/** A way to merge the values of several branches into one. */
export interface MergeDefinition<K extends string = string, N extends MergeNode = MergeNode> {
  readonly name: K;
  readonly doc: string;
  /** Its arguments (`concat`'s `dim`), checked like a layer's. */
  readonly args: readonly ArgSpec[];
  /**
   * The merged node's body for inputs of these shapes, or why they do not merge; `branches` names each input
   * for messages (which branch, which axis).
   */
  lower(inputs: readonly Shape[], args: LayerArgs, branches: readonly string[]): Lowered<N>;
}

/** `[64, 8, 8]` */
export function showShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The axis names of a shape of this rank, for messages (PyTorch's dim numbers count the batch as 0). */
export function axisName(rank: number, axis: number): string {
  const names = rank === 3 ? ['channels', 'height', 'width'] : rank === 2 ? ['tokens', 'features'] : [];
  const name = names[axis];
  return name ? `${name} (dim ${axis + 1})` : `dim ${axis + 1}`;
}

/**
 * The shape of an element-wise `op` of `inputs` with broadcasting as PyTorch's: one rank, and along each axis
 * every size is equal or 1 (ranks may not differ: netspec's shapes have no batch axis, so right-aligning a
 * [C, 1, 1] and an [F] would silently mean something else).
 */
export function broadcastShape(
  op: string,
  inputs: readonly Shape[],
  branches: readonly string[],
): ShapeResult {
  const first = inputs[0] ?? [];
  const name = (i: number): string => `branch '${branches[i] ?? String(i)}'`;
  for (const [i, s] of inputs.entries())
    if (s.length !== first.length)
      return {
        ok: false,
        code: 'SHAPE_MISMATCH',
        message: `${op} of different ranks: ${name(0)} is ${showShape(first)}, ${name(i)} is ${showShape(s)}`,
      };
  const out = [...first];
  for (let axis = 0; axis < first.length; axis++) {
    let owner = 0;
    for (const [i, s] of inputs.entries()) {
      const d = s[axis] ?? 1;
      const current = out[axis] ?? 1;
      if (d === current || d === 1) continue;
      if (current !== 1)
        return {
          ok: false,
          code: 'SHAPE_MISMATCH',
          message:
            `${op} of shapes that do not broadcast: along ${axisName(first.length, axis)} ${name(owner)} has ` +
            `${current} and ${name(i)} has ${d} (each size must be equal or 1)`,
        };
      out[axis] = d;
      owner = i;
    }
  }
  return { ok: true, shape: out };
}

/** Lowers an element-wise merge of `kind` (no attributes, no parameters). */
export function elementwise<K extends 'add' | 'mul'>(
  kind: K,
  inputs: readonly Shape[],
  branches: readonly string[],
): Lowered<Extract<MergeNode, { kind: K }>> {
  const rule = broadcastShape(kind, inputs, branches);
  if (!rule.ok) return rule;
  return { ok: true, body: { kind, outputShape: rule.shape, params: [] } as never };
}

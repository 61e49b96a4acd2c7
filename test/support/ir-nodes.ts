/**
 * IR nodes for hand-built test networks, made by the real layer definitions (src/compiler/ops/): a test names a
 * kind, its input and its arguments, and gets exactly the node the lowering would make (shapes, parameters,
 * initializers, the functional flag), so no test re-implements a parameter rule.
 */
import type { IrNode, Shape } from '../../src/compiler/ir.js';
import {
  argDefault,
  assembleMerge,
  assembleNode,
  LayerArgs,
  LAYERS,
  MERGES,
  type ArgValue,
  type LayerDefinition,
  type LayerKind,
  type MergeDefinition,
  type MergeKind,
} from '../../src/compiler/ops/index.js';

/** An argument as tests write it: a pair may be a single number. */
export type TestArg = number | boolean | readonly [number, number];

/** Where a node is: its path, what it reads, its module and the block instance around it. */
export interface NodePlace {
  readonly path: string;
  readonly inputs: readonly string[];
  readonly inputShapes: readonly Shape[];
  readonly module: string;
  readonly group: string | null;
}

/** The node the lowering makes for a `kind` call with `args` (omitted ones take their defaults) at `place`. */
export function layerNode(
  kind: LayerKind,
  place: NodePlace,
  args: Readonly<Record<string, TestArg>> = {},
): IrNode {
  const definition: LayerDefinition = LAYERS[kind];
  const bound = new Map<string, ArgValue>();
  for (const spec of definition.args) {
    const given = args[spec.name];
    const value =
      given === undefined
        ? argDefault(spec, bound)
        : spec.type === 'pair' && typeof given === 'number'
          ? ([given, given] as const)
          : given;
    if (value === undefined) throw new Error(`test IR: ${kind} needs argument '${spec.name}'`);
    bound.set(spec.name, value);
  }
  for (const name of Object.keys(args))
    if (!definition.args.some((s) => s.name === name))
      throw new Error(`test IR: ${kind} has no argument '${name}'`);
  const input = place.inputShapes[0];
  if (!input) throw new Error(`test IR: ${place.path} has no input`);
  const lowered = definition.lower(input, new LayerArgs(bound));
  if (!lowered.ok) throw new Error(`test IR: ${place.path}: ${lowered.message}`);
  return assembleNode<IrNode>(
    { ...place, functional: definition.functionalInBlocks && place.group !== null },
    lowered.body,
  );
}

/** The node the lowering makes for a block's merge of `place.inputs` (always functional: `x + y`). */
export function mergeNode(kind: MergeKind, place: NodePlace): IrNode {
  const definition = MERGES[kind] as MergeDefinition;
  const lowered = definition.lower(place.inputShapes, new LayerArgs(new Map([['dim', 1]])), place.inputs);
  if (!lowered.ok) throw new Error(`test IR: ${place.path}: ${lowered.message}`);
  return assembleMerge<IrNode>({ ...place, functional: true }, lowered.body);
}

/** The one lowering every activation shares: output shaped as the input, no parameters, an `activation` node. */
import type { ActivationNode } from '../ir.js';
import { ACTIVATIONS, type ActivationDefinition, type ActivationKind } from './activations/index.js';
import { defineLayer, type LayerDefinition } from './definition.js';

/** The layer definition of the activation `d`: functional inside blocks, as PyTorch's F.relu and friends. */
function activationLayer<K extends ActivationKind>(
  d: ActivationDefinition<K>,
): LayerDefinition<K, ActivationNode> {
  const alphaArg = d.alphaArg;
  return defineLayer<K, ActivationNode>({
    name: d.name,
    doc: d.doc,
    args: d.args,
    functionalInBlocks: true,
    lower: (input, a) => ({
      ok: true,
      body: {
        kind: 'activation',
        outputShape: input,
        params: [],
        fn: d.name,
        ...(alphaArg !== undefined ? { alpha: a.number(alphaArg) } : {}),
      },
    }),
  });
}

/** Every activation as a layer kind, by name. */
export const ACTIVATION_LAYERS = Object.fromEntries(
  Object.values(ACTIVATIONS).map((d) => [d.name, activationLayer(d)]),
) as { readonly [K in ActivationKind]: LayerDefinition<K, ActivationNode> };

/** `attention`: multi-head self-attention on tokens, as PyTorch's nn.MultiheadAttention with batch_first=True. */
import type { AttentionNode } from '../ir.js';
import { attentionShape } from '../shapes.js';
import { defineLayer, withShape } from './definition.js';
import { attentionParams } from './params.js';

/**
 * nn.MultiheadAttention(E, heads, dropout, bias, batch_first=True) called as attn(x, x, x, need_weights=False)[0]:
 * PyTorch's parameters (in_proj_weight [3E, E], in_proj_bias [3E], out_proj.weight [E, E], out_proj.bias [E]) and
 * initialization.
 */
export const attention = defineLayer<'attention', AttentionNode>({
  name: 'attention',
  doc: 'multi-head self-attention on tokens [T, E] (nn.MultiheadAttention, batch_first, query = key = value)',
  args: [
    { name: 'heads', type: 'int', min: 1, doc: 'attention heads; the embedding E must divide into them' },
    {
      name: 'dropout',
      type: 'float',
      default: 0,
      min: 0,
      max: 1,
      doc: 'dropout on the attention weights while training',
    },
    { name: 'bias', type: 'bool', default: true, doc: 'learnable input and output projection biases' },
  ],
  functionalInBlocks: false,
  lower(input, a) {
    const embed = input[1] ?? 0;
    const heads = a.number('heads');
    const bias = a.bool('bias');
    return withShape(attentionShape(input, heads), (outputShape) => ({
      kind: 'attention',
      outputShape,
      params: attentionParams(embed, bias),
      embed,
      heads,
      dropout: a.number('dropout'),
      bias,
    }));
  },
});

/** The parameters and buffers layers own, with PyTorch's default initializers. */
import type { IrParam } from '../ir.js';

/** A weight initialized as PyTorch's conv and linear weights: kaiming_uniform_(a=sqrt(5)) over `fanIn`. */
export function kaimingWeight(shape: readonly number[], fanIn: number): IrParam {
  return { name: 'weight', shape, trainable: true, init: { kind: 'kaiming_uniform_a_sqrt5', fanIn } };
}

/** A bias initialized as PyTorch's conv and linear biases: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function uniformBias(features: number, fanIn: number): IrParam {
  return { name: 'bias', shape: [features], trainable: true, init: { kind: 'bias_uniform', fanIn } };
}

/** BatchNorm's tensors: weight (ones) and bias (zeros) when affine, and the running statistics (buffers). */
export function batchNormParams(features: number, affine: boolean): IrParam[] {
  const params: IrParam[] = affine
    ? [
        { name: 'weight', shape: [features], trainable: true, init: { kind: 'ones' } },
        { name: 'bias', shape: [features], trainable: true, init: { kind: 'zeros' } },
      ]
    : [];
  params.push(
    { name: 'running_mean', shape: [features], trainable: false, init: { kind: 'zeros' } },
    { name: 'running_var', shape: [features], trainable: false, init: { kind: 'ones' } },
  );
  return params;
}

/** LayerNorm's weight (ones) and bias (zeros), when affine. */
export function layerNormParams(features: number, affine: boolean): IrParam[] {
  return affine
    ? [
        { name: 'weight', shape: [features], trainable: true, init: { kind: 'ones' } },
        { name: 'bias', shape: [features], trainable: true, init: { kind: 'zeros' } },
      ]
    : [];
}

/**
 * nn.MultiheadAttention's tensors: in_proj_weight [3E, E] (xavier_uniform_), out_proj.weight [E, E] (nn.Linear's
 * kaiming_uniform_), and with `bias` in_proj_bias [3E] and out_proj.bias [E], both zeros (its _reset_parameters).
 */
export function attentionParams(embed: number, bias: boolean): IrParam[] {
  const inProj: IrParam = {
    name: 'in_proj_weight',
    shape: [3 * embed, embed],
    trainable: true,
    init: { kind: 'xavier_uniform', fanIn: embed, fanOut: 3 * embed },
  };
  const outProj: IrParam = {
    name: 'out_proj.weight',
    shape: [embed, embed],
    trainable: true,
    init: { kind: 'kaiming_uniform_a_sqrt5', fanIn: embed },
  };
  if (!bias) return [inProj, outProj];
  return [
    inProj,
    { name: 'in_proj_bias', shape: [3 * embed], trainable: true, init: { kind: 'zeros' } },
    outProj,
    { name: 'out_proj.bias', shape: [embed], trainable: true, init: { kind: 'zeros' } },
  ];
}

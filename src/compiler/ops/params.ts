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

/**
 * Weights in PyTorch's layout and naming (`<path>.weight`, `.bias`, `.running_mean`, `.running_var`; conv OIHW,
 * linear [out, in]), converted from and to the tfjs layouts of a model built from the same IR.
 */
import * as tf from '@tensorflow/tfjs';
import { didYouMean, error, type Diagnostic } from '../../../diagnostics.js';
import { numel, type IrNetwork, type IrParam } from '../../ir.js';
import { planModel, type PlanStep } from './plan.js';

/** One tensor of a state dict: PyTorch shape and row-major float32 data. */
export interface StateTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A state dict: tensor name → tensor, in IR order (nodes, then each node's parameters). */
export type StateDict = Map<string, StateTensor>;

/** One IR parameter bound to its tfjs variable, with the layout conversions between the two. */
interface Binding {
  readonly key: string;
  readonly param: IrParam;
  readonly variable: tf.LayerVariable;
  readonly toTorch: (t: tf.Tensor) => tf.Tensor;
  readonly fromTorch: (t: tf.Tensor) => tf.Tensor;
}

type Conversion = Pick<Binding, 'toTorch' | 'fromTorch'> & { readonly weight: string };

/** The tfjs weight holding `param` in the layer of `step`, and how its layout relates to PyTorch's. */
function conversionFor(step: PlanStep, param: IrParam, tfjsShape: (weight: string) => number[]): Conversion {
  const plain: Conversion = { weight: param.name, toTorch: (t) => t, fromTorch: (t) => t };
  switch (step.op) {
    case 'conv2d':
    case 'torchConv2d':
      // tfjs HWIO (per group for torchConv2d) vs PyTorch OIHW.
      return param.name === 'weight'
        ? {
            weight: 'kernel',
            toTorch: (t) => tf.transpose(t, [3, 2, 0, 1]),
            fromTorch: (t) => tf.transpose(t, [2, 3, 1, 0]),
          }
        : plain;
    case 'depthwiseConv2d': {
      if (param.name !== 'weight') return plain;
      // tfjs [kh, kw, in, mult] puts output channel c * mult + m where PyTorch's [in * mult, 1, kh, kw] does.
      const [kh = 0, kw = 0, inChannels = 0, mult = 0] = tfjsShape('depthwise_kernel');
      return {
        weight: 'depthwise_kernel',
        toTorch: (t) => tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [inChannels * mult, 1, kh, kw]),
        fromTorch: (t) => tf.transpose(tf.reshape(t, [inChannels, mult, kh, kw]), [2, 3, 0, 1]),
      };
    }
    case 'dense':
      return param.name === 'weight'
        ? { weight: 'kernel', toTorch: (t) => tf.transpose(t), fromTorch: (t) => tf.transpose(t) }
        : plain;
    case 'torchBatchNorm':
      return plain;
    default:
      throw new Error(`tfjs target: layer '${step.name}' (${step.op}) holds no parameter '${param.name}'`);
  }
}

/** Binds every IR parameter to its variable in `model`; throws when the model was not built from `ir`. */
function bind(model: tf.LayersModel, ir: IrNetwork): Binding[] {
  const byPath = new Map<string, PlanStep>();
  for (const step of planModel(ir).steps) if (step.path !== null) byPath.set(step.path, step);
  const bindings: Binding[] = [];
  for (const node of ir.nodes) {
    if (node.params.length === 0) continue;
    const step = byPath.get(node.path);
    if (!step) throw new Error(`tfjs target: no layer computes '${node.path}'`);
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(step.name);
    } catch {
      throw new Error(`tfjs target: the model has no layer '${step.name}'; was it built from this IR?`);
    }
    const variableOf = (weight: string): tf.LayerVariable => {
      const v = layer.weights.find((w) => w.originalName.endsWith(`/${weight}`));
      if (!v) throw new Error(`tfjs target: layer '${step.name}' has no weight '${weight}'`);
      return v;
    };
    for (const param of node.params) {
      const c = conversionFor(step, param, (w) => variableOf(w).shape.map((d) => d ?? 0));
      bindings.push({
        key: `${node.path}.${param.name}`,
        param,
        variable: variableOf(c.weight),
        toTorch: c.toTorch,
        fromTorch: c.fromTorch,
      });
    }
  }
  return bindings;
}

/** The model's weights in PyTorch layout, named `<path>.<param>`; the data are copies. */
export function getStateDict(model: tf.LayersModel, ir: IrNetwork): StateDict {
  const dict: StateDict = new Map();
  for (const b of bind(model, ir)) {
    const data = tf.tidy(() => new Float32Array(b.toTorch(b.variable.read()).dataSync()));
    dict.set(b.key, { shape: [...b.param.shape], data });
  }
  return dict;
}

/**
 * Loads PyTorch-layout weights into `model` (built from `ir`). All or nothing: it first checks that every tensor
 * the network needs is present with its exact shape and value count, and that no other tensor is given; any
 * finding is returned as an error diagnostic (MISSING_KEY, UNKNOWN_KEY, SHAPE_MISMATCH) and nothing is written.
 * Returns [] on success. Throws only when `model` was not built from `ir` (a program error).
 */
export function setStateDict(
  model: tf.LayersModel,
  ir: IrNetwork,
  dict: ReadonlyMap<string, StateTensor>,
): Diagnostic[] {
  const bindings = bind(model, ir);
  const expected = new Set(bindings.map((b) => b.key));
  const diagnostics: Diagnostic[] = [];
  for (const b of bindings) {
    const t = dict.get(b.key);
    const want = `[${b.param.shape.join(', ')}]`;
    if (!t) {
      diagnostics.push(error('MISSING_KEY', `weights: tensor '${b.key}' ${want} is missing`));
    } else if (t.shape.length !== b.param.shape.length || t.shape.some((d, i) => d !== b.param.shape[i])) {
      diagnostics.push(
        error(
          'SHAPE_MISMATCH',
          `weights: tensor '${b.key}' has shape [${t.shape.join(', ')}], the network needs ${want}`,
        ),
      );
    } else if (t.data.length !== numel(b.param.shape)) {
      diagnostics.push(
        error(
          'SHAPE_MISMATCH',
          `weights: tensor '${b.key}' ${want} has ${t.data.length} values, not ${numel(b.param.shape)}`,
        ),
      );
    }
  }
  for (const key of dict.keys()) {
    if (expected.has(key)) continue;
    const hint = didYouMean(key, expected);
    diagnostics.push(
      error('UNKNOWN_KEY', `weights: tensor '${key}' is not a parameter of '${ir.name}'`, undefined, hint),
    );
  }
  if (diagnostics.length > 0) return diagnostics;
  for (const b of bindings) {
    const t = dict.get(b.key);
    if (!t) continue;
    tf.tidy(() => {
      b.variable.write(b.fromTorch(tf.tensor(t.data, [...t.shape], 'float32')));
    });
  }
  return [];
}

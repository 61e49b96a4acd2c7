/**
 * Weights in PyTorch's layout and naming (`<path>.weight`, `.bias`, `.running_mean`, `.running_var`; conv OIHW,
 * linear [out, in]), converted from and to the tfjs layouts of a model built from the same IR.
 */
import * as tf from '@tensorflow/tfjs';
import { didYouMean, error, type Diagnostic } from '../../../diagnostics.js';
import { numel, type IrNetwork, type IrParam } from '../../ir.js';
import { planModel, type PlanOp, type PlanStep } from './plan.js';

/** One tensor of a state dict: PyTorch shape and row-major float32 data. */
export interface StateTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A state dict: tensor name → tensor, in IR order (nodes, then each node's parameters). */
export type StateDict = Map<string, StateTensor>;

/**
 * One IR parameter bound to its tfjs variable. `perm` transposes the variable's data (tfjs layout) into PyTorch's
 * element order; the PyTorch shape may then differ from the permuted one only by a reshape (depthwise kernels).
 */
interface Binding {
  readonly key: string;
  readonly param: IrParam;
  readonly variable: tf.LayerVariable;
  readonly perm: readonly number[] | null;
}

/** Where a plan op keeps an IR parameter: the tfjs weight's name and the permutation from its layout to PyTorch's. */
interface Conversion {
  readonly weight: string;
  readonly perm: readonly number[] | null;
}

/** A parameter kept under its own name in its own layout. */
const plain = (param: IrParam): Conversion => ({ weight: param.name, perm: null });

/** How each plan op holds the IR's parameters; null for ops without any. `tsc` names an op missing here. */
const CONVERSIONS: { readonly [Op in PlanOp]: ((param: IrParam) => Conversion) | null } = {
  input: null,
  permute: null,
  zeroPadding2d: null,
  // tfjs HWIO (per group for torchConv2d) vs PyTorch OIHW.
  conv2d: (p) => (p.name === 'weight' ? { weight: 'kernel', perm: [3, 2, 0, 1] } : plain(p)),
  torchConv2d: (p) => (p.name === 'weight' ? { weight: 'kernel', perm: [3, 2, 0, 1] } : plain(p)),
  // tfjs [kh, kw, in, mult] puts output channel c * mult + m where PyTorch's [in * mult, 1, kh, kw] does.
  depthwiseConv2d: (p) =>
    p.name === 'weight' ? { weight: 'depthwise_kernel', perm: [2, 3, 0, 1] } : plain(p),
  dense: (p) => (p.name === 'weight' ? { weight: 'kernel', perm: [1, 0] } : plain(p)),
  torchBatchNorm: plain,
  activation: null,
  torchActivation: null,
  leakyReLU: null,
  torchElu: null,
  maxPooling2d: null,
  torchMaxPool2d: null,
  torchCeilMaxPool2d: null,
  torchAvgPool2d: null,
  torchAdaptiveAvgPool2d: null,
  torchSlice: null,
  torchChannelShuffle: null,
  torchStochasticDepth: null,
  averagePooling2d: null,
  flatten: null,
  dropout: null,
  add: null,
  reshape: null,
  torchSelect: null,
  torchLayerNorm: plain,
  // A map-shaped parameter is stored [H, W, C], PyTorch's [C, H, W] transposed.
  torchParameter: (p) => ({ weight: p.name, perm: p.shape.length === 3 ? [2, 0, 1] : null }),
  // PyTorch's layout; tfjs names cannot hold the '.' of out_proj.weight.
  torchAttention: (p) => ({ weight: p.name.replace('.', '_'), perm: null }),
  multiply: null,
  concatenate: null,
};

/** The tfjs weight holding `param` in the layer of `step`, and the permutation from its layout to PyTorch's. */
function conversionFor(step: PlanStep, param: IrParam): Conversion {
  const convert = CONVERSIONS[step.op];
  if (!convert)
    throw new Error(`tfjs target: layer '${step.name}' (${step.op}) holds no parameter '${param.name}'`);
  return convert(param);
}

/**
 * `data` of row-major `shape`, transposed by `perm` (output axis k is input axis perm[k]), as a new array.
 * Plain loops: the cpu backend's transpose takes over a minute for ResNet18's 11M weights, this takes milliseconds.
 */
function permute(
  data: ArrayLike<number>,
  shape: readonly number[],
  perm: readonly number[] | null,
): Float32Array {
  const out = Float32Array.from(data);
  if (perm === null) return out;
  const rank = shape.length;
  const inStrides = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k--) inStrides[k] = (inStrides[k + 1] ?? 1) * (shape[k + 1] ?? 1);
  const outShape = perm.map((p) => shape[p] ?? 1);
  const step = perm.map((p) => inStrides[p] ?? 0);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[src] ?? 0;
    for (let k = rank - 1; k >= 0; k--) {
      const next = (index[k] ?? 0) + 1;
      const s = step[k] ?? 0;
      if (next < (outShape[k] ?? 1)) {
        index[k] = next;
        src += s;
        break;
      }
      index[k] = 0;
      src -= s * ((outShape[k] ?? 1) - 1);
    }
  }
  return out;
}

function inverse(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length).fill(0);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

function variableShape(v: tf.LayerVariable): number[] {
  return v.shape.map((d) => d ?? 0);
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
      const c = conversionFor(step, param);
      const variable = variableOf(c.weight);
      if (numel(variableShape(variable)) !== numel(param.shape))
        throw new Error(
          `tfjs target: '${node.path}.${param.name}' has shape [${variableShape(variable).join(', ')}] in tfjs`,
        );
      bindings.push({ key: `${node.path}.${param.name}`, param, variable, perm: c.perm });
    }
  }
  return bindings;
}

/**
 * The model's weights in PyTorch layout, named `<path>.<param>`; the data are copies (the model never aliases them).
 * Reads synchronously: not on backends that cannot (webgpu in Node); the trainer uses {@link readStateDict}.
 */
export function getStateDict(model: tf.LayersModel, ir: IrNetwork): StateDict {
  const bindings = bind(model, ir);
  return toStateDict(
    bindings,
    bindings.map((b) => b.variable.read().dataSync()),
  );
}

/**
 * {@link getStateDict} without a synchronous read: every weight's read is started at once and awaited together,
 * so a GPU backend transfers them in one wait instead of stalling its queue once per tensor.
 */
export async function readStateDict(model: tf.LayersModel, ir: IrNetwork): Promise<StateDict> {
  const bindings = bind(model, ir);
  return toStateDict(bindings, await Promise.all(bindings.map((b) => b.variable.read().data())));
}

/** The state dict of `bindings` from each one's data in its tfjs layout. */
function toStateDict(bindings: readonly Binding[], values: readonly ArrayLike<number>[]): StateDict {
  const dict: StateDict = new Map();
  bindings.forEach((b, i) => {
    const data = permute(values[i] ?? [], variableShape(b.variable), b.perm);
    dict.set(b.key, { shape: [...b.param.shape], data });
  });
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
    const shape = variableShape(b.variable);
    // PyTorch data viewed in the permuted tfjs shape, transposed back by the inverse permutation.
    const data =
      b.perm === null
        ? permute(t.data, shape, null)
        : permute(
            t.data,
            b.perm.map((p) => shape[p] ?? 1),
            inverse(b.perm),
          );
    tf.tidy(() => {
      b.variable.write(tf.tensor(data, shape, 'float32'));
    });
  }
  return [];
}

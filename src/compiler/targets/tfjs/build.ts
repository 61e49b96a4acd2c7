/** Builds an in-memory tf.LayersModel from the IR, by instantiating the layer plan. */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../ir.js';
import { MERGE_OPS, planModel, type InitSpec, type OpConfigs, type PlanOp, type PlanStep } from './plan.js';
import {
  TorchBatchNorm,
  TorchConv2d,
  TorchElu,
  TorchMaxPool2d,
  torchUniform,
  type Initializer,
} from './torch-layers.js';
import {
  TorchAdaptiveAvgPool2d,
  TorchAttention,
  TorchAvgPool2d,
  TorchCeilMaxPool2d,
  TorchChannelShuffle,
  TorchLayerNorm,
  torchNormal,
  TorchParameter,
  TorchSelect,
  TorchSlice,
  TorchStochasticDepth,
} from './zoo-layers.js';
import { TorchActivation } from './torch-activations.js';

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** Seeds the initializers: the same seed gives identical initial weights; without one they are random. */
  readonly seed?: number;
}

/**
 * A trainable functional LayersModel computing what the equivalent PyTorch model computes: input NCHW
 * `[batch, ...ir.inputShape]`, output `[batch, ...ir.outputShape]` (logits, no softmax), layers named by IR path.
 */
export function buildModel(ir: IrNetwork, opts: BuildModelOptions = {}): tf.LayersModel {
  const plan = planModel(ir);
  const tensors = new Map<string, tf.SymbolicTensor>();
  let input: tf.SymbolicTensor | undefined;
  for (const step of plan.steps) {
    if (step.op === 'input') {
      input = tf.input({ name: step.name, shape: step.config.shape });
      tensors.set(step.name, input);
      continue;
    }
    const args = step.inputs.map((n) => {
      const t = tensors.get(n);
      if (!t) throw new Error(`tfjs target: layer '${step.name}' reads '${n}' before it exists`);
      return t;
    });
    const layer = createLayer(step, opts.seed);
    const [first] = args;
    if (!first) throw new Error(`tfjs target: layer '${step.name}' has no input`);
    const out = layer.apply(MERGE_OPS.has(step.op) ? args : first);
    if (Array.isArray(out) || !(out instanceof tf.SymbolicTensor))
      throw new Error(`tfjs target: layer '${step.name}' did not give one symbolic tensor`);
    tensors.set(step.name, out);
  }
  const output = tensors.get(plan.output);
  if (!input || !output) throw new Error('tfjs target: the plan has no input or output');
  return tf.model({ name: plan.modelName, inputs: input, outputs: output });
}

type Realized<C> = { [K in keyof C]: C[K] extends InitSpec | undefined ? Initializer : C[K] };

function isInitSpec(v: unknown): v is InitSpec {
  return typeof v === 'object' && v !== null && 'init' in v;
}

/** The config with every InitSpec replaced by the initializer it describes. */
function realize<C extends object>(config: C, seed: number | undefined): Realized<C> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = isInitSpec(v) ? createInitializer(v, seed) : v;
  return out as Realized<C>;
}

/** The tfjs initializer of an InitSpec; shared in spirit with the generated code, which spells the same calls. */
export function createInitializer(spec: InitSpec, seed: number | undefined): Initializer {
  switch (spec.init) {
    case 'uniform':
      return torchUniform(spec.bound, seed, spec.key);
    case 'normal':
      return torchNormal(spec.std, seed, spec.key);
    case 'constant':
      return tf.initializers.constant({ value: spec.value });
    case 'ones':
      return tf.initializers.ones();
    case 'zeros':
      return tf.initializers.zeros();
  }
}

/** The plan step of op `Op`. */
type StepOf<Op extends PlanOp> = Extract<PlanStep, { op: Op }>;

/** How each plan op becomes a tfjs layer; `tsc` names an op missing here. */
const LAYER_FACTORIES: {
  readonly [Op in Exclude<PlanOp, 'input'>]: (step: StepOf<Op>, seed: number | undefined) => tf.layers.Layer;
} = {
  permute: (s) => tf.layers.permute({ name: s.name, ...s.config }),
  zeroPadding2d: (s) => tf.layers.zeroPadding2d({ name: s.name, ...s.config }),
  conv2d: (s, seed) => tf.layers.conv2d({ name: s.name, ...realize<OpConfigs['conv2d']>(s.config, seed) }),
  depthwiseConv2d: (s, seed) =>
    tf.layers.depthwiseConv2d({ name: s.name, ...realize<OpConfigs['depthwiseConv2d']>(s.config, seed) }),
  torchConv2d: (s, seed) =>
    new TorchConv2d({ name: s.name, ...realize<OpConfigs['torchConv2d']>(s.config, seed) }),
  torchBatchNorm: (s, seed) =>
    new TorchBatchNorm({ name: s.name, ...realize<OpConfigs['torchBatchNorm']>(s.config, seed) }),
  activation: (s) => tf.layers.activation({ name: s.name, ...s.config }),
  torchActivation: (s) => new TorchActivation({ name: s.name, ...s.config }),
  leakyReLU: (s) => tf.layers.leakyReLU({ name: s.name, ...s.config }),
  torchElu: (s) => new TorchElu({ name: s.name, ...s.config }),
  maxPooling2d: (s) => tf.layers.maxPooling2d({ name: s.name, ...s.config }),
  torchMaxPool2d: (s) => new TorchMaxPool2d({ name: s.name, ...s.config }),
  torchCeilMaxPool2d: (s) => new TorchCeilMaxPool2d({ name: s.name, ...s.config }),
  torchAvgPool2d: (s) => new TorchAvgPool2d({ name: s.name, ...s.config }),
  torchAdaptiveAvgPool2d: (s) => new TorchAdaptiveAvgPool2d({ name: s.name, ...s.config }),
  torchSlice: (s) => new TorchSlice({ name: s.name, ...s.config }),
  torchChannelShuffle: (s) => new TorchChannelShuffle({ name: s.name, ...s.config }),
  torchStochasticDepth: (s) => new TorchStochasticDepth({ name: s.name, ...s.config }),
  averagePooling2d: (s) => tf.layers.averagePooling2d({ name: s.name, ...s.config }),
  flatten: (s) => tf.layers.flatten({ name: s.name }),
  dense: (s, seed) => tf.layers.dense({ name: s.name, ...realize<OpConfigs['dense']>(s.config, seed) }),
  dropout: (s) => tf.layers.dropout({ name: s.name, ...s.config }),
  add: (s) => tf.layers.add({ name: s.name }),
  reshape: (s) => tf.layers.reshape({ name: s.name, ...s.config }),
  torchSelect: (s) => new TorchSelect({ name: s.name, ...s.config }),
  torchLayerNorm: (s, seed) =>
    new TorchLayerNorm({ name: s.name, ...realize<OpConfigs['torchLayerNorm']>(s.config, seed) }),
  torchParameter: (s, seed) =>
    new TorchParameter({ name: s.name, ...realize<OpConfigs['torchParameter']>(s.config, seed) }),
  torchAttention: (s, seed) =>
    new TorchAttention({ name: s.name, ...realize<OpConfigs['torchAttention']>(s.config, seed) }),
  multiply: (s) => tf.layers.multiply({ name: s.name }),
  concatenate: (s) => tf.layers.concatenate({ name: s.name, ...s.config }),
};

function createLayer(step: Exclude<PlanStep, { op: 'input' }>, seed: number | undefined): tf.layers.Layer {
  return (LAYER_FACTORIES[step.op] as (s: PlanStep, seed: number | undefined) => tf.layers.Layer)(step, seed);
}

/** Builds an in-memory tf.LayersModel from the IR, by instantiating the layer plan. */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../ir.js';
import { planModel, type InitSpec, type OpConfigs, type PlanStep } from './plan.js';
import {
  TorchBatchNorm,
  TorchConv2d,
  TorchElu,
  TorchMaxPool2d,
  torchUniform,
  type Initializer,
} from './torch-layers.js';

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
    const out = layer.apply(step.op === 'add' ? args : first);
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
    case 'ones':
      return tf.initializers.ones();
    case 'zeros':
      return tf.initializers.zeros();
  }
}

function createLayer(step: Exclude<PlanStep, { op: 'input' }>, seed: number | undefined): tf.layers.Layer {
  const name = step.name;
  switch (step.op) {
    case 'permute':
      return tf.layers.permute({ name, ...step.config });
    case 'zeroPadding2d':
      return tf.layers.zeroPadding2d({ name, ...step.config });
    case 'conv2d':
      return tf.layers.conv2d({ name, ...realize<OpConfigs['conv2d']>(step.config, seed) });
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d({ name, ...realize<OpConfigs['depthwiseConv2d']>(step.config, seed) });
    case 'torchConv2d':
      return new TorchConv2d({ name, ...realize<OpConfigs['torchConv2d']>(step.config, seed) });
    case 'torchBatchNorm':
      return new TorchBatchNorm({ name, ...realize<OpConfigs['torchBatchNorm']>(step.config, seed) });
    case 'activation':
      return tf.layers.activation({ name, ...step.config });
    case 'leakyReLU':
      return tf.layers.leakyReLU({ name, ...step.config });
    case 'torchElu':
      return new TorchElu({ name, ...step.config });
    case 'maxPooling2d':
      return tf.layers.maxPooling2d({ name, ...step.config });
    case 'torchMaxPool2d':
      return new TorchMaxPool2d({ name, ...step.config });
    case 'averagePooling2d':
      return tf.layers.averagePooling2d({ name, ...step.config });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'dense':
      return tf.layers.dense({ name, ...realize<OpConfigs['dense']>(step.config, seed) });
    case 'dropout':
      return tf.layers.dropout({ name, ...step.config });
    case 'add':
      return tf.layers.add({ name });
  }
}

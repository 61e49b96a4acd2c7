/**
 * The layer plan: the IR turned into the exact sequence of tfjs layers (factory + config) that computes what
 * the equivalent PyTorch model computes. Both the in-memory builder and the TypeScript generator consume this
 * one plan, so the two can only differ in how they spell it.
 */
import type { Init, IrNetwork, IrNode, Shape } from '../../ir.js';
import { byOp, type NodeOfOp, type OpKind } from '../../ops/index.js';
import type { TorchActivationFn } from './torch-activations.js';
import { helperLayerName, tfjsLayerName, tfjsModelName } from './names.js';

/** How a weight starts: PyTorch's uniform (drawn from a stream keyed by the state-dict name), or a constant. */
export type InitSpec =
  | { readonly init: 'uniform'; readonly bound: number; readonly key: string }
  | { readonly init: 'ones' }
  | { readonly init: 'zeros' };

/** tfjs built-in activation identifiers the plan uses (each equals its PyTorch namesake). */
export type TfjsActivation =
  'relu' | 'relu6' | 'elu' | 'selu' | 'gelu' | 'sigmoid' | 'tanh' | 'softplus' | 'swish' | 'linear';

type Pair = [number, number];

/** Layer configs by op, as passed to the factory (without `name`). Arrays are mutable because tfjs's arg types are. */
export interface OpConfigs {
  input: { shape: number[] };
  permute: { dims: number[] };
  zeroPadding2d: { padding: [Pair, Pair] };
  conv2d: {
    filters: number;
    kernelSize: Pair;
    strides: Pair;
    padding: 'valid';
    useBias: boolean;
    kernelInitializer: InitSpec;
    biasInitializer?: InitSpec;
  };
  depthwiseConv2d: {
    kernelSize: Pair;
    depthMultiplier: number;
    strides: Pair;
    padding: 'valid';
    useBias: boolean;
    depthwiseInitializer: InitSpec;
    biasInitializer?: InitSpec;
  };
  torchConv2d: {
    filters: number;
    kernelSize: Pair;
    strides: Pair;
    dilationRate: Pair;
    groups: number;
    padding: Pair;
    useBias: boolean;
    kernelInitializer: InitSpec;
    biasInitializer?: InitSpec;
  };
  torchBatchNorm: {
    eps: number;
    momentum: number;
    affine: boolean;
    weightInitializer?: InitSpec;
    biasInitializer?: InitSpec;
    runningMeanInitializer: InitSpec;
    runningVarInitializer: InitSpec;
  };
  activation: { activation: TfjsActivation };
  torchActivation: { fn: TorchActivationFn };
  leakyReLU: { alpha: number };
  torchElu: { alpha: number };
  maxPooling2d: { poolSize: Pair; strides: Pair; padding: 'valid' };
  torchMaxPool2d: { poolSize: Pair; strides: Pair; padding: Pair };
  averagePooling2d: { poolSize: Pair; strides: Pair; padding: 'valid' };
  flatten: Record<string, never>;
  dense: { units: number; useBias: boolean; kernelInitializer: InitSpec; biasInitializer?: InitSpec };
  dropout: { rate: number };
  add: Record<string, never>;
}

/** The op tags of plan steps. */
export type PlanOp = keyof OpConfigs;

/** One tfjs layer of the plan. `path` is the IR node it computes; helper layers (padding, permutes) have null. */
export type PlanStep = {
  [Op in PlanOp]: {
    readonly op: Op;
    /** The tfjs layer name, unique in the model. */
    readonly name: string;
    readonly path: string | null;
    /** Names of the steps whose outputs this layer reads. */
    readonly inputs: readonly string[];
    readonly config: OpConfigs[Op];
  };
}[PlanOp];

/** A whole model: steps in execution order; the first is the input, `output` names the last layer. */
export interface LayerPlan {
  readonly modelName: string;
  readonly inputName: string;
  readonly inputShape: readonly number[];
  readonly steps: readonly PlanStep[];
  readonly output: string;
}

/** Name of the model's input layer (the IR reserves `input` for the network input). */
export const INPUT_LAYER_NAME = 'input';

/** Where a node's value lives: the producing layer, and whether it is a channels-last map or flat features. */
interface Value {
  readonly step: string;
  readonly layout: 'nhwc' | 'flat';
}

/**
 * Plans the tfjs layers for `ir`. Throws (an internal error: the lowering guarantees valid IR) when a node's
 * shapes are not [C, H, W] / [F] as its kind requires or when two layer names collide.
 */
export function planModel(ir: IrNetwork): LayerPlan {
  const steps: PlanStep[] = [];
  const names = new Set<string>();
  const values = new Map<string, Value>();
  const push = (step: PlanStep): string => {
    if (names.has(step.name)) throw new Error(`tfjs target: two layers would be named '${step.name}'`);
    names.add(step.name);
    steps.push(step);
    return step.name;
  };

  const inputLayout = layoutOf(ir.inputShape, 'the network input');
  push({
    op: 'input',
    name: INPUT_LAYER_NAME,
    path: null,
    inputs: [],
    config: { shape: [...ir.inputShape] },
  });
  const inputValue: Value =
    inputLayout === 'nhwc'
      ? {
          step: push({
            op: 'permute',
            name: helperLayerName(INPUT_LAYER_NAME, 'nhwc'),
            path: null,
            inputs: [INPUT_LAYER_NAME],
            config: { dims: [2, 3, 1] },
          }),
          layout: 'nhwc',
        }
      : { step: INPUT_LAYER_NAME, layout: 'flat' };
  values.set('input', inputValue);

  for (const node of ir.nodes) {
    const inputs = node.inputs.map((p) => {
      const v = values.get(p);
      if (!v) throw new Error(`tfjs target: '${node.path}' reads '${p}', which is not computed before it`);
      return v;
    });
    const first = inputs[0];
    if (!first) throw new Error(`tfjs target: '${node.path}' has no input`);
    const layout = layoutOf(node.outputShape, `the output of '${node.path}'`);
    const step = planNode(node, first, inputs, push);
    values.set(node.path, { step, layout });
  }

  const out = values.get(ir.output);
  if (!out) throw new Error(`tfjs target: the output '${ir.output}' is not a node`);
  const output =
    out.layout === 'nhwc'
      ? push({
          op: 'permute',
          name: helperLayerName(out.step, 'nchw'),
          path: null,
          inputs: [out.step],
          config: { dims: [3, 1, 2] },
        })
      : out.step;
  return {
    modelName: tfjsModelName(ir.name),
    inputName: INPUT_LAYER_NAME,
    inputShape: [...ir.inputShape],
    steps,
    output,
  };
}

/** What a planner needs besides its node: the values it reads and how to add layers. */
interface PlanContext {
  /** The node's tfjs layer name. */
  readonly name: string;
  readonly path: string;
  /** The value of the node's first input, and of all of them. */
  readonly first: Value;
  readonly inputs: readonly Value[];
  /** The first input's step, as a layer's input list. */
  readonly from: string[];
  /** Adds a layer; returns its name. */
  push(step: PlanStep): string;
  /** Throws unless the first input is a [C, H, W] map. */
  requireMap(kind: string): void;
  /** The inputs behind an explicit zero padding layer (none for zero padding). */
  padded(padding: readonly [number, number]): string[];
}

/** How one op kind becomes tfjs layers: returns the name of the layer holding the node's value. */
type Planner<K extends OpKind> = (node: NodeOfOp<K>, c: PlanContext) => string;

/** A tfjs built-in activation layer. */
const builtIn =
  (activation: TfjsActivation) =>
  (_node: IrNode, c: PlanContext): string =>
    c.push({ op: 'activation', name: c.name, path: c.path, inputs: c.from, config: { activation } });

/** One of netspec's own activations (TorchActivation, torch-activations.ts), for what tfjs lacks. */
const torchActivation =
  (fn: TorchActivationFn) =>
  (_node: IrNode, c: PlanContext): string =>
    c.push({ op: 'torchActivation', name: c.name, path: c.path, inputs: c.from, config: { fn } });

/** The plan of every op kind; `tsc` names a kind missing here. */
const PLANNERS: { readonly [K in OpKind]: Planner<K> } = {
  conv: planConv,
  batchnorm: (node, c) => {
    const affine = node.affine
      ? { weightInitializer: initOf(node, 'weight'), biasInitializer: initOf(node, 'bias') }
      : {};
    return c.push({
      op: 'torchBatchNorm',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: {
        eps: node.eps,
        momentum: node.momentum,
        affine: node.affine,
        ...affine,
        runningMeanInitializer: initOf(node, 'running_mean'),
        runningVarInitializer: initOf(node, 'running_var'),
      },
    });
  },
  relu: builtIn('relu'),
  relu6: builtIn('relu6'),
  leaky_relu: (node, c) =>
    c.push({
      op: 'leakyReLU',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { alpha: node.alpha ?? 0.01 },
    }),
  elu: (node, c) => {
    const alpha = node.alpha ?? 1;
    return alpha === 1
      ? builtIn('elu')(node, c)
      : c.push({ op: 'torchElu', name: c.name, path: c.path, inputs: c.from, config: { alpha } });
  },
  selu: builtIn('selu'),
  gelu: builtIn('gelu'),
  sigmoid: builtIn('sigmoid'),
  tanh: builtIn('tanh'),
  softplus: builtIn('softplus'),
  silu: builtIn('swish'),
  hardswish: torchActivation('hardswish'),
  hardsigmoid: torchActivation('hardsigmoid'),
  maxpool: (node, c) => {
    c.requireMap('maxpool');
    const poolSize = pair(node.kernel);
    const strides = pair(node.stride);
    if (node.padding[0] === 0 && node.padding[1] === 0)
      return c.push({
        op: 'maxPooling2d',
        name: c.name,
        path: c.path,
        inputs: c.from,
        config: { poolSize, strides, padding: 'valid' },
      });
    return c.push({
      op: 'torchMaxPool2d',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { poolSize, strides, padding: pair(node.padding) },
    });
  },
  avgpool: (node, c) => {
    c.requireMap('avgpool');
    // Zero padding then a valid average counts the padded zeros: PyTorch's count_include_pad=True.
    return c.push({
      op: 'averagePooling2d',
      name: c.name,
      path: c.path,
      inputs: c.padded(node.padding),
      config: { poolSize: pair(node.kernel), strides: pair(node.stride), padding: 'valid' },
    });
  },
  global_avgpool: (node, c) => {
    c.requireMap('global_avgpool');
    const [, h, w] = mapShape(node.inputShapes[0], c.path);
    return c.push({
      op: 'averagePooling2d',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { poolSize: [h, w], strides: [h, w], padding: 'valid' },
    });
  },
  flatten: (node, c) => {
    if (c.first.layout === 'flat') return builtIn('linear')(node, c);
    const [, h, w] = mapShape(node.inputShapes[0], c.path);
    // PyTorch flattens in (C, H, W) order; NHWC must go back to NCHW first unless the map is 1x1.
    const source =
      h * w === 1
        ? c.from
        : [
            c.push({
              op: 'permute',
              name: helperLayerName(c.name, 'nchw'),
              path: null,
              inputs: c.from,
              config: { dims: [3, 1, 2] },
            }),
          ];
    return c.push({ op: 'flatten', name: c.name, path: c.path, inputs: source, config: {} });
  },
  linear: (node, c) => {
    if (c.first.layout !== 'flat') throw new Error(`tfjs target: '${c.path}' (linear) needs flat [F] input`);
    const biasInitializer = node.bias ? { biasInitializer: initOf(node, 'bias') } : {};
    return c.push({
      op: 'dense',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: {
        units: node.outFeatures,
        useBias: node.bias,
        kernelInitializer: initOf(node, 'weight'),
        ...biasInitializer,
      },
    });
  },
  dropout: (node, c) =>
    c.push({ op: 'dropout', name: c.name, path: c.path, inputs: c.from, config: { rate: node.p } }),
  identity: builtIn('linear'),
  add: (_node, c) => {
    if (c.inputs.some((v) => v.layout !== c.first.layout))
      throw new Error(`tfjs target: '${c.path}' adds values of different ranks`);
    return c.push({ op: 'add', name: c.name, path: c.path, inputs: c.inputs.map((v) => v.step), config: {} });
  },
};

/** tfjs's Conv2D and DepthwiseConv2D where they compute PyTorch's convolution, else netspec's TorchConv2d. */
function planConv(node: NodeOfOp<'conv'>, c: PlanContext): string {
  c.requireMap('conv');
  const { name, path, from } = c;
  const kernelInitializer = initOf(node, 'weight');
  const biasInitializer = node.bias ? { biasInitializer: initOf(node, 'bias') } : {};
  const kernelSize = pair(node.kernel);
  const strides = pair(node.stride);
  const dilated = node.dilation[0] !== 1 || node.dilation[1] !== 1;
  const unpadded = node.padding[0] === 0 && node.padding[1] === 0;
  // Padded convolutions take their padding themselves (TorchConv2d): tfjs's Conv2D layer only knows 'same'
  // and 'valid', and a separate padding layer makes backends convolve the padded zeros.
  if (!dilated && node.groups === 1 && unpadded) {
    return c.push({
      op: 'conv2d',
      name,
      path,
      inputs: from,
      config: {
        filters: node.outChannels,
        kernelSize,
        strides,
        padding: 'valid',
        useBias: node.bias,
        kernelInitializer,
        ...biasInitializer,
      },
    });
  }
  if (unpadded && !dilated && node.groups === node.inChannels && node.outChannels % node.inChannels === 0) {
    return c.push({
      op: 'depthwiseConv2d',
      name,
      path,
      inputs: from,
      config: {
        kernelSize,
        depthMultiplier: node.outChannels / node.inChannels,
        strides,
        padding: 'valid',
        useBias: node.bias,
        depthwiseInitializer: kernelInitializer,
        ...biasInitializer,
      },
    });
  }
  return c.push({
    op: 'torchConv2d',
    name,
    path,
    inputs: from,
    config: {
      filters: node.outChannels,
      kernelSize,
      strides,
      dilationRate: pair(node.dilation),
      groups: node.groups,
      padding: pair(node.padding),
      useBias: node.bias,
      kernelInitializer,
      ...biasInitializer,
    },
  });
}

/** Plans `node`'s layers after its inputs (`first` and `inputs`); returns the layer holding its value. */
function planNode(
  node: IrNode,
  first: Value,
  inputs: readonly Value[],
  push: (s: PlanStep) => string,
): string {
  const name = tfjsLayerName(node.path);
  const path = node.path;
  const from = [first.step];
  const context: PlanContext = {
    name,
    path,
    first,
    inputs,
    from,
    push,
    requireMap: (kind) => {
      if (first.layout !== 'nhwc')
        throw new Error(`tfjs target: '${path}' (${kind}) needs a [C, H, W] input`);
    },
    padded: (padding) => {
      const [ph, pw] = padding;
      if (ph === 0 && pw === 0) return from;
      const pad = push({
        op: 'zeroPadding2d',
        name: helperLayerName(name, 'pad'),
        path: null,
        inputs: from,
        config: {
          padding: [
            [ph, ph],
            [pw, pw],
          ],
        },
      });
      return [pad];
    },
  };
  return byOp(PLANNERS, node, context);
}

function layoutOf(shape: Shape, what: string): Value['layout'] {
  if (shape.length === 3) return 'nhwc';
  if (shape.length === 1) return 'flat';
  throw new Error(
    `tfjs target: ${what} has shape [${shape.join(', ')}]; only [C, H, W] and [F] are supported`,
  );
}

function mapShape(shape: Shape | undefined, path: string): [number, number, number] {
  const [c, h, w] = shape ?? [];
  if (shape?.length !== 3 || c === undefined || h === undefined || w === undefined)
    throw new Error(`tfjs target: '${path}' needs a [C, H, W] input`);
  return [c, h, w];
}

function pair(v: readonly [number, number]): Pair {
  return [v[0], v[1]];
}

function initOf(node: IrNode, param: 'weight' | 'bias' | 'running_mean' | 'running_var'): InitSpec {
  const p = node.params.find((q) => q.name === param);
  if (!p) throw new Error(`tfjs target: '${node.path}' has no parameter '${param}'`);
  return initSpec(p.init, `${node.path}.${param}`);
}

/** The InitSpec of an IR init; `key` is the state-dict name, which seeds the uniform stream. */
export function initSpec(init: Init, key: string): InitSpec {
  switch (init.kind) {
    case 'kaiming_uniform_a_sqrt5':
    case 'bias_uniform':
      // kaiming_uniform_(a=sqrt(5)) has gain sqrt(1/3), so its bound sqrt(3/fanIn)*gain is 1/sqrt(fanIn), as the bias's.
      return { init: 'uniform', bound: 1 / Math.sqrt(init.fanIn), key };
    case 'ones':
      return { init: 'ones' };
    case 'zeros':
      return { init: 'zeros' };
  }
}

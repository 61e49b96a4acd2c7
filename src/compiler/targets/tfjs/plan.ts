/**
 * The layer plan: the IR turned into the exact sequence of tfjs layers (factory + config) that computes what
 * the equivalent PyTorch model computes. Both the in-memory builder and the TypeScript generator consume this
 * one plan, so the two can only differ in how they spell it.
 */
import type { Init, IrNetwork, IrNode, IrParamName, Shape } from '../../ir.js';
import { byOp, type NodeOfOp, type OpKind } from '../../ops/index.js';
import type { TorchActivationFn } from './torch-activations.js';
import { helperLayerName, tfjsLayerName, tfjsModelName } from './names.js';

/** How a weight starts: PyTorch's uniform (drawn from a stream keyed by the state-dict name), or a constant. */
export type InitSpec =
  | { readonly init: 'uniform'; readonly bound: number; readonly key: string }
  | { readonly init: 'normal'; readonly std: number; readonly key: string }
  | { readonly init: 'constant'; readonly value: number }
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
  torchCeilMaxPool2d: { poolSize: Pair; strides: Pair; padding: Pair };
  torchAvgPool2d: { poolSize: Pair; strides: Pair; padding: Pair; ceilMode: true };
  torchAdaptiveAvgPool2d: { outputSize: Pair };
  torchSlice: { axis: number; start: number; size: number };
  torchChannelShuffle: { groups: number };
  torchStochasticDepth: { rate: number };
  averagePooling2d: { poolSize: Pair; strides: Pair; padding: 'valid' };
  flatten: Record<string, never>;
  dense: { units: number; useBias: boolean; kernelInitializer: InitSpec; biasInitializer?: InitSpec };
  dropout: { rate: number };
  add: Record<string, never>;
  multiply: Record<string, never>;
  concatenate: { axis: number };
  reshape: { targetShape: number[] };
  torchSelect: { axis: number; index: number };
  torchLayerNorm: {
    axis: number;
    eps: number;
    affine: boolean;
    weightInitializer?: InitSpec;
    biasInitializer?: InitSpec;
  };
  torchParameter: { shape: number[]; weightInitializer: InitSpec };
  torchAttention: {
    heads: number;
    dropout: number;
    useBias: boolean;
    inProjWeightInitializer: InitSpec;
    inProjBiasInitializer?: InitSpec;
    outProjWeightInitializer: InitSpec;
    outProjBiasInitializer?: InitSpec;
  };
}

/** The op tags of plan steps. */
export type PlanOp = keyof OpConfigs;

/** Plan ops whose layer reads a list of inputs (merges); every other layer reads one. */
export const MERGE_OPS: ReadonlySet<PlanOp> = new Set<PlanOp>(['add', 'multiply', 'concatenate']);

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

/**
 * Where a node's value lives: the producing layer, and its layout: a [C, H, W] map is stored channels-last
 * (`nhwc`), tokens [T, E] (`tokens`) and flat features [F] (`flat`) as PyTorch orders them.
 */
interface Value {
  readonly step: string;
  readonly layout: 'nhwc' | 'tokens' | 'flat';
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
      : { step: INPUT_LAYER_NAME, layout: inputLayout };
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
  /**
   * The first input in PyTorch's axis order: a map goes back from NHWC to NCHW through a helper permute, which
   * `orderOnly` leaves out for a 1x1 map (the same elements in the same order, for a reshape).
   */
  pytorchOrder(orderOnly: boolean): string[];
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
    if (node.padding[0] === 0 && node.padding[1] === 0 && node.ceilMode !== true)
      return c.push({
        op: 'maxPooling2d',
        name: c.name,
        path: c.path,
        inputs: c.from,
        config: { poolSize, strides, padding: 'valid' },
      });
    // Ceil mode has its own class (zoo-layers.ts), so that TorchMaxPool2d and the code of models without ceil mode
    // keep their bytes.
    return c.push({
      op: node.ceilMode === true ? 'torchCeilMaxPool2d' : 'torchMaxPool2d',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { poolSize, strides, padding: pair(node.padding) },
    });
  },
  avgpool: (node, c) => {
    c.requireMap('avgpool');
    // Ceil mode divides the windows that hang over the end by what they cover of the padded input.
    if (node.ceilMode)
      return c.push({
        op: 'torchAvgPool2d',
        name: c.name,
        path: c.path,
        inputs: c.from,
        config: {
          poolSize: pair(node.kernel),
          strides: pair(node.stride),
          padding: pair(node.padding),
          ceilMode: true,
        },
      });
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
  adaptive_avgpool: (node, c) => {
    c.requireMap('adaptive_avgpool');
    return c.push({
      op: 'torchAdaptiveAvgPool2d',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { outputSize: pair(node.out) },
    });
  },
  chunk: (node, c) => sliceOf(c, node.dim, node.start, node.length),
  slice: (node, c) => sliceOf(c, node.dim, node.start, node.end - node.start),
  channel_shuffle: (node, c) => {
    c.requireMap('channel_shuffle');
    return c.push({
      op: 'torchChannelShuffle',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { groups: node.groups },
    });
  },
  stochastic_depth: (node, c) =>
    c.push({
      op: 'torchStochasticDepth',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { rate: node.p },
    }),
  flatten: (node, c) => {
    if (c.first.layout === 'flat') return builtIn('linear')(node, c);
    // Tokens are stored in PyTorch's order already.
    if (c.first.layout === 'tokens')
      return c.push({ op: 'flatten', name: c.name, path: c.path, inputs: c.from, config: {} });
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
    // tfjs's Dense acts on the last axis, as nn.Linear: on flat features and on each token.
    if (c.first.layout === 'nhwc')
      throw new Error(`tfjs target: '${c.path}' (linear) needs flat [F] or tokens [T, F] input`);
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
  add: (node, c) => merge(node, c, 'add', {}),
  // Broadcasting along axes of size 1 is the same in NHWC storage, since every input has one layout.
  mul: (node, c) => merge(node, c, 'multiply', {}),
  concat: (node, c) => merge(node, c, 'concatenate', { axis: storageAxis(c.first.layout, node.dim) }),
  layernorm: (node, c) => {
    const affine = node.affine
      ? { weightInitializer: initOf(node, 'weight'), biasInitializer: initOf(node, 'bias') }
      : {};
    return c.push({
      op: 'torchLayerNorm',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { axis: storageAxis(c.first.layout, node.dim), eps: node.eps, affine: node.affine, ...affine },
    });
  },
  parameter: (node, c) =>
    c.push({
      op: 'torchParameter',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { shape: storageShape(node.shape), weightInitializer: initOf(node, 'weight') },
    }),
  permute: (node, c) => {
    // One tfjs permute from the input's storage order to the output's: PyTorch's dims between the two layouts.
    const inOrder = storageOrder(node.inputShapes[0]?.length ?? 0);
    const outOrder = storageOrder(node.outputShape.length);
    const inverse = inverseOf(inOrder);
    const dims = outOrder.map((axis) => inverse[node.dims[axis] ?? 0] ?? 0);
    if (dims.every((d, k) => d === k)) return builtIn('linear')(node, c);
    return c.push({
      op: 'permute',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: { dims: dims.slice(1) },
    });
  },
  reshape: (node, c) => {
    // PyTorch reshapes the (C, H, W)-ordered elements: a map goes back to NCHW first and a map result comes back
    // to NHWC after, except where a 1x1 map has its elements in that order already.
    const source = c.pytorchOrder(true);
    const out = node.outputShape;
    const [ch = 1, h = 1, w = 1] = out;
    if (out.length === 3 && h * w !== 1) {
      const nchw = c.push({
        op: 'reshape',
        name: helperLayerName(c.name, 'shape'),
        path: null,
        inputs: source,
        config: { targetShape: [...out] },
      });
      return c.push({
        op: 'permute',
        name: c.name,
        path: c.path,
        inputs: [nchw],
        config: { dims: [2, 3, 1] },
      });
    }
    const targetShape = out.length === 3 ? [h, w, ch] : [...out];
    return c.push({ op: 'reshape', name: c.name, path: c.path, inputs: source, config: { targetShape } });
  },
  select: (node, c) => {
    // The channels of an NHWC map are its last axis, and what remains, [H, W], is in PyTorch's order already.
    const channels = c.first.layout === 'nhwc' && node.dim === 1;
    return c.push({
      op: 'torchSelect',
      name: c.name,
      path: c.path,
      inputs: channels ? c.from : c.pytorchOrder(false),
      config: { axis: channels ? 3 : node.dim, index: node.index },
    });
  },
  attention: (node, c) => {
    if (c.first.layout !== 'tokens')
      throw new Error(`tfjs target: '${c.path}' (attention) needs tokens [T, E] input`);
    const biases = node.bias
      ? {
          inProjBiasInitializer: initOf(node, 'in_proj_bias'),
          outProjBiasInitializer: initOf(node, 'out_proj.bias'),
        }
      : {};
    return c.push({
      op: 'torchAttention',
      name: c.name,
      path: c.path,
      inputs: c.from,
      config: {
        heads: node.heads,
        dropout: node.dropout,
        useBias: node.bias,
        inProjWeightInitializer: initOf(node, 'in_proj_weight'),
        outProjWeightInitializer: initOf(node, 'out_proj.weight'),
        ...biases,
      },
    });
  },
};

/** The axes of a value with its batch in storage order: storage axis k holds PyTorch's axis order[k]. */
function storageOrder(sampleRank: number): number[] {
  return sampleRank === 3 ? [0, 2, 3, 1] : Array.from({ length: sampleRank + 1 }, (_, k) => k);
}

function inverseOf(order: readonly number[]): number[] {
  const inverse = new Array<number>(order.length).fill(0);
  order.forEach((axis, k) => (inverse[axis] = k));
  return inverse;
}

/** The storage axis (batch = 0) of PyTorch's axis `dim` in a value of `layout`. */
function storageAxis(layout: Value['layout'], dim: number): number {
  return layout === 'nhwc' ? (inverseOf(storageOrder(3))[dim] ?? dim) : dim;
}

/** A per-sample shape as stored: [C, H, W] as [H, W, C], the others as they are. */
function storageShape(shape: readonly number[]): number[] {
  const [c = 1, h = 1, w = 1] = shape;
  return shape.length === 3 ? [h, w, c] : [...shape];
}

/** `size` elements from `start` of PyTorch's axis `dim`, on the axis that holds it in storage (TorchSlice). */
function sliceOf(c: PlanContext, dim: number, start: number, size: number): string {
  const axis = storageAxis(c.first.layout, dim);
  return c.push({
    op: 'torchSlice',
    name: c.name,
    path: c.path,
    inputs: c.from,
    config: { axis, start, size },
  });
}

/**
 * A merge as the tfjs merge layer `op` over its inputs (all of one layout), or a merge of one branch as that branch
 * (tfjs's merge layers want two inputs; a branch of one is how a spec numbers a block's layers).
 */
function merge<Op extends 'add' | 'multiply' | 'concatenate'>(
  node: IrNode,
  c: PlanContext,
  op: Op,
  config: OpConfigs[Op],
): string {
  if (c.inputs.length === 1) return builtIn('linear')(node, c);
  if (c.inputs.some((v) => v.layout !== c.first.layout))
    throw new Error(`tfjs target: '${c.path}' merges values of different ranks (${op})`);
  const inputs = c.inputs.map((v) => v.step);
  return c.push({ op, name: c.name, path: c.path, inputs, config } as PlanStep);
}

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
    pytorchOrder: (orderOnly) => {
      if (first.layout !== 'nhwc') return from;
      const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
      if (orderOnly && h * w === 1) return from;
      return [
        push({
          op: 'permute',
          name: helperLayerName(name, 'nchw'),
          path: null,
          inputs: from,
          config: { dims: [3, 1, 2] },
        }),
      ];
    },
  };
  return byOp(PLANNERS, node, context);
}

function layoutOf(shape: Shape, what: string): Value['layout'] {
  if (shape.length === 3) return 'nhwc';
  if (shape.length === 2) return 'tokens';
  if (shape.length === 1) return 'flat';
  throw new Error(
    `tfjs target: ${what} has shape [${shape.join(', ')}]; only [C, H, W], [T, E] and [F] are supported`,
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

function initOf(node: IrNode, param: IrParamName): InitSpec {
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
    case 'xavier_uniform':
      return { init: 'uniform', bound: Math.sqrt(6 / (init.fanIn + init.fanOut)), key };
    case 'normal':
      return { init: 'normal', std: init.std, key };
    case 'constant':
      return { init: 'constant', value: init.value };
    case 'ones':
      return { init: 'ones' };
    case 'zeros':
      return { init: 'zeros' };
  }
}

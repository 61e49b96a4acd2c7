/**
 * The tfjs-graph format: a network and its weights as a TensorFlow.js GraphModel (`model.json` with a GraphDef of
 * TensorFlow ops, and weight shards) that `tf.loadGraphModel` runs on any backend without netspec's code.
 * Inference only: BatchNorm is FusedBatchNormV3 on the running statistics (is_training false), dropout is an
 * Identity. The input is NCHW `[N, ...ir.inputShape]` as in the spec, transposed to NHWC inside; the output is
 * the logits `[N, ...ir.outputShape]` (a map output transposed back to NCHW).
 *
 * Each op kind is one row of GRAPH_OPS and spells the tfjs ops netspec's own tfjs model runs for it (plan.ts,
 * torch-layers.ts, torch-activations.ts, and tfjs-layers' built-ins), so that both give the same numbers.
 */
import type { IrNetwork, IrNode } from '../../../ir.js';
import { byOp, type NodeOfOp, type OpTable } from '../../../ops/index.js';
import { tfjsLayerName } from '../names.js';
import type { StateDict } from '../state-dict.js';
import { attr, GraphBuilder, shapeJson, type AttrValue, type GraphNode } from './graph-def.js';
import {
  convKernelHwio,
  dilateHwio,
  netspecMetadata,
  shardTensors,
  splitHwioOutputs,
  transposeTensor,
  type FloatTensor,
  type ManifestGroup,
} from './weights.js';

/** The graph's input node (the IR reserves `input`, so no layer has that name). */
export const GRAPH_INPUT = 'input';
/** The preferred name of the graph's output node (an Identity); `logits_1`, ... if a layer is named so. */
export const GRAPH_OUTPUT = 'logits';

/** PyTorch pads max pooling with -inf; the lowest float32, as TorchMaxPool2d, is safe on every backend. */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

/** The `model.json` of a GraphModel, as tfjs's `ModelJSON`. */
export interface GraphModelJson {
  readonly format: 'graph-model';
  readonly generatedBy: string;
  readonly convertedBy: string;
  readonly signature: {
    readonly inputs: Readonly<Record<string, TensorInfo>>;
    readonly outputs: Readonly<Record<string, TensorInfo>>;
  };
  readonly userDefinedMetadata: Readonly<Record<string, unknown>>;
  readonly modelTopology: {
    readonly node: readonly GraphNode[];
    readonly library: Record<string, never>;
    readonly versions: Record<string, never>;
  };
  readonly weightsManifest: readonly ManifestGroup[];
}

interface TensorInfo {
  readonly name: string;
  readonly dtype: 'DT_FLOAT';
  readonly tensorShape: ReturnType<typeof shapeJson>;
}

/** Options of {@link tfjsGraphModel}. */
export interface GraphModelOptions {
  /** Goes into `userDefinedMetadata.netspec` beside the network's name and shapes (e.g. where the weights came from). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Shard size in bytes (tfjs's converter's 4 MiB by default). */
  readonly shardBytes?: number;
}

/** Where a node's value lives: the tensor's name, and whether it is an NHWC map or flat features. */
interface Value {
  readonly tensor: string;
  readonly layout: 'nhwc' | 'flat';
}

/** What a row needs besides its node. */
interface GraphContext {
  readonly g: GraphBuilder;
  /** The node's layer name: its last op is named so, helper nodes `<name>/<role>`. */
  readonly name: string;
  /** The first input's tensor, and all inputs. */
  readonly x: string;
  readonly first: Value;
  readonly inputs: readonly Value[];
  /** The node's parameter `param` from the state dict (PyTorch layout). */
  weight(param: 'weight' | 'bias' | 'running_mean' | 'running_var'): FloatTensor;
}

/**
 * The files of a GraphModel for `ir` with `weights` (a state dict that fits `ir`, PyTorch layout): `model.json`
 * and its weight shards. Deterministic. Throws (a program error) when a tensor is missing or of another size.
 */
export function tfjsGraphModel(
  ir: IrNetwork,
  weights: ReadonlyMap<string, FloatTensor> | StateDict,
  options: GraphModelOptions = {},
): Map<string, string | Uint8Array> {
  const g = new GraphBuilder();
  const values = new Map<string, Value>();
  const input = g.placeholder(GRAPH_INPUT, [-1, ...ir.inputShape]);
  values.set(
    'input',
    ir.inputShape.length === 3
      ? { tensor: transpose(g, `${GRAPH_INPUT}/nhwc`, input, [0, 2, 3, 1]), layout: 'nhwc' }
      : { tensor: input, layout: 'flat' },
  );
  for (const node of ir.nodes) {
    const inputs = node.inputs.map((p) => {
      const v = values.get(p);
      if (!v)
        throw new Error(`tfjs-graph export: '${node.path}' reads '${p}', which is not computed before it`);
      return v;
    });
    const first = inputs[0];
    if (!first) throw new Error(`tfjs-graph export: '${node.path}' has no input`);
    const context: GraphContext = {
      g,
      name: tfjsLayerName(node.path),
      x: first.tensor,
      first,
      inputs,
      weight: (param) => weightOf(weights, node, param),
    };
    const tensor = byOp(GRAPH_OPS, node, context);
    values.set(node.path, { tensor, layout: node.outputShape.length === 3 ? 'nhwc' : 'flat' });
  }
  const out = values.get(ir.output);
  if (!out) throw new Error(`tfjs-graph export: the output '${ir.output}' is not a node`);
  const last =
    out.layout === 'nhwc' ? transpose(g, `${out.tensor}/nchw`, out.tensor, [0, 3, 1, 2]) : out.tensor;
  let outputName = GRAPH_OUTPUT;
  for (let k = 1; g.has(outputName); k++) outputName = `${GRAPH_OUTPUT}_${k}`;
  g.op(outputName, 'Identity', [last]);

  const shards = shardTensors(g.weights, options.shardBytes);
  const info = (name: string, shape: readonly number[]): TensorInfo => ({
    name: `${name}:0`,
    dtype: 'DT_FLOAT',
    tensorShape: shapeJson([-1, ...shape]),
  });
  const model: GraphModelJson = {
    format: 'graph-model',
    generatedBy: 'netspec',
    convertedBy: 'netspec export --format tfjs-graph',
    signature: {
      inputs: { [GRAPH_INPUT]: info(GRAPH_INPUT, ir.inputShape) },
      outputs: { [GRAPH_OUTPUT]: info(outputName, ir.outputShape) },
    },
    userDefinedMetadata: { netspec: netspecMetadata(ir, options.metadata ?? {}) },
    modelTopology: { node: g.nodes, library: {}, versions: {} },
    weightsManifest: [shards.group],
  };
  return new Map<string, string | Uint8Array>([['model.json', JSON.stringify(model)], ...shards.files]);
}

function weightOf(
  weights: ReadonlyMap<string, FloatTensor>,
  node: IrNode,
  param: 'weight' | 'bias' | 'running_mean' | 'running_var',
): FloatTensor {
  const key = `${node.path}.${param}`;
  const t = weights.get(key);
  const want = node.params.find((p) => p.name === param);
  if (!t || !want) throw new Error(`tfjs-graph export: no tensor '${key}'`);
  if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i]))
    throw new Error(
      `tfjs-graph export: '${key}' has shape [${t.shape.join(', ')}], not [${want.shape.join(', ')}]`,
    );
  return t;
}

const NHWC = attr.s('NHWC');
const ONES4 = attr.ints([1, 1, 1, 1]);

function transpose(g: GraphBuilder, name: string, x: string, perm: readonly number[]): string {
  const p = g.ints(`${name}/perm`, [perm.length], perm);
  return g.op(name, 'Transpose', [x, p], { Tperm: attr.type('DT_INT32') });
}

/** Padding attributes of convolutions: VALID, or PyTorch's symmetric padding as EXPLICIT (NHWC order). */
function convPadding([ph, pw]: readonly [number, number]): Record<string, AttrValue> {
  if (ph === 0 && pw === 0) return { padding: attr.s('VALID') };
  return { padding: attr.s('EXPLICIT'), explicit_paddings: attr.ints([0, 0, ph, ph, pw, pw, 0, 0]) };
}

/** A zero (or `value`) padding of H and W by [ph, pw] on both sides, or `x` itself when there is none. */
function pad(c: GraphContext, [ph, pw]: readonly [number, number], value?: number): string {
  if (ph === 0 && pw === 0) return c.x;
  const paddings = c.g.ints(`${c.name}/paddings`, [4, 2], [0, 0, ph, ph, pw, pw, 0, 0]);
  if (value === undefined)
    return c.g.op(`${c.name}/pad`, 'Pad', [c.x, paddings], { Tpaddings: attr.type('DT_INT32') });
  const constant = c.g.scalar(`${c.name}/pad_value`, value);
  return c.g.op(`${c.name}/pad`, 'PadV2', [c.x, paddings, constant], { Tpaddings: attr.type('DT_INT32') });
}

/** A pooling op over NHWC. */
function pool(
  c: GraphContext,
  op: 'MaxPool' | 'AvgPool',
  x: string,
  kernel: readonly number[],
  stride: readonly number[],
): string {
  return c.g.op(c.name, op, [x], {
    ksize: attr.ints([1, kernel[0] ?? 1, kernel[1] ?? 1, 1]),
    strides: attr.ints([1, stride[0] ?? 1, stride[1] ?? 1, 1]),
    padding: attr.s('VALID'),
    data_format: NHWC,
  });
}

/** A one-input op named as the node. */
const unary =
  (op: string, attrs: Readonly<Record<string, AttrValue>> = {}) =>
  (_node: IrNode, c: GraphContext): string =>
    c.g.op(c.name, op, [c.x], attrs);

/** `y + bias` over the last axis, named as the node. */
function biasAdd(c: GraphContext, y: string, bias: FloatTensor): string {
  const b = c.g.floats(`${c.name}/bias`, bias.shape, bias.data);
  return c.g.op(c.name, 'BiasAdd', [y, b], { data_format: NHWC });
}

/**
 * The ops of every op kind; `tsc` names a kind missing here. Each spells what netspec's tfjs model computes for
 * it (see the module comment), in the same order of operations.
 */
const GRAPH_OPS: OpTable<string, GraphContext> = {
  conv: convOps,
  batchnorm: (node, c) => {
    const f = node.features;
    const scale = node.affine ? c.weight('weight') : { shape: [f], data: new Float32Array(f).fill(1) };
    const offset = node.affine ? c.weight('bias') : { shape: [f], data: new Float32Array(f) };
    const mean = c.weight('running_mean');
    const variance = c.weight('running_var');
    const g = c.g;
    return g.op(
      c.name,
      'FusedBatchNormV3',
      [
        c.x,
        g.floats(`${c.name}/${node.affine ? 'weight' : 'scale'}`, scale.shape, scale.data),
        g.floats(`${c.name}/${node.affine ? 'bias' : 'offset'}`, offset.shape, offset.data),
        g.floats(`${c.name}/running_mean`, mean.shape, mean.data),
        g.floats(`${c.name}/running_var`, variance.shape, variance.data),
      ],
      { U: attr.type('DT_FLOAT'), epsilon: attr.f(node.eps), is_training: attr.b(false), data_format: NHWC },
    );
  },
  relu: unary('Relu'),
  relu6: unary('Relu6'),
  leaky_relu: (node, c) => unary('LeakyRelu', { alpha: attr.f(node.alpha ?? 0.01) })(node, c),
  elu: (node, c) => {
    const alpha = node.alpha ?? 1;
    if (alpha === 1) return unary('Elu')(node, c);
    // TorchElu: relu(x) + alpha * expm1(min(x, 0)).
    const g = c.g;
    const relu = g.op(`${c.name}/relu`, 'Relu', [c.x]);
    const neg = g.op(`${c.name}/min`, 'Minimum', [c.x, g.scalar(`${c.name}/zero`, 0)]);
    const expm1 = g.op(`${c.name}/expm1`, 'Expm1', [neg]);
    const scaled = g.op(`${c.name}/scaled`, 'Mul', [g.scalar(`${c.name}/alpha`, alpha), expm1]);
    return g.op(c.name, 'AddV2', [relu, scaled]);
  },
  selu: unary('Selu'),
  gelu: (_node, c) => {
    // tfjs-layers' gelu (exact, = PyTorch's default): x * (0.5 * (1 + erf(x / sqrt(2)))).
    const g = c.g;
    const scaled = g.op(`${c.name}/div`, 'RealDiv', [c.x, g.scalar(`${c.name}/sqrt2`, Math.SQRT2)]);
    const erf = g.op(`${c.name}/erf`, 'Erf', [scaled]);
    const plus = g.op(`${c.name}/add`, 'AddV2', [g.scalar(`${c.name}/one`, 1), erf]);
    const cdf = g.op(`${c.name}/cdf`, 'Mul', [g.scalar(`${c.name}/half`, 0.5), plus]);
    return g.op(c.name, 'Mul', [c.x, cdf]);
  },
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  softplus: unary('Softplus'),
  silu: (_node, c) => {
    // tfjs-layers' swish: sigmoid(x) * x.
    const sigmoid = c.g.op(`${c.name}/sigmoid`, 'Sigmoid', [c.x]);
    return c.g.op(c.name, 'Mul', [sigmoid, c.x]);
  },
  hardswish: (_node, c) => {
    // torch-activations.ts: x * clip(x + 3, 0, 6) / 6.
    const gate = clippedShift(c);
    const product = c.g.op(`${c.name}/mul`, 'Mul', [c.x, gate]);
    return c.g.op(c.name, 'RealDiv', [product, c.g.scalar(`${c.name}/six`, 6)]);
  },
  hardsigmoid: (_node, c) =>
    // torch-activations.ts: clip(x + 3, 0, 6) / 6.
    c.g.op(c.name, 'RealDiv', [clippedShift(c), c.g.scalar(`${c.name}/six`, 6)]),
  maxpool: (node, c) => pool(c, 'MaxPool', pad(c, node.padding, LOWEST_FLOAT32), node.kernel, node.stride),
  // Zero padding then a valid average counts the padded zeros: PyTorch's count_include_pad=True.
  avgpool: (node, c) => pool(c, 'AvgPool', pad(c, node.padding), node.kernel, node.stride),
  global_avgpool: (node, c) => {
    const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
    return pool(c, 'AvgPool', c.x, [h, w], [h, w]);
  },
  flatten: (node, c) => {
    if (c.first.layout === 'flat') return unary('Identity')(node, c);
    const [ch = 1, h = 1, w = 1] = node.inputShapes[0] ?? [];
    // PyTorch flattens in (C, H, W) order; NHWC goes back to NCHW first unless the map is 1x1.
    const source = h * w === 1 ? c.x : transpose(c.g, `${c.name}/nchw`, c.x, [0, 3, 1, 2]);
    const shape = c.g.ints(`${c.name}/shape`, [2], [-1, ch * h * w]);
    return c.g.op(c.name, 'Reshape', [source, shape], { Tshape: attr.type('DT_INT32') });
  },
  linear: (node, c) => {
    const kernel = transposeTensor(c.weight('weight'), [1, 0]);
    const k = c.g.floats(`${c.name}/kernel`, kernel.shape, kernel.data);
    const flags = { transpose_a: attr.b(false), transpose_b: attr.b(false) };
    if (!node.bias) return c.g.op(c.name, 'MatMul', [c.x, k], flags);
    // tfjs-layers' Dense multiplies and adds the bias in one fused op.
    const bias = c.weight('bias');
    const b = c.g.floats(`${c.name}/bias`, bias.shape, bias.data);
    return c.g.op(c.name, '_FusedMatMul', [c.x, k, b], {
      ...flags,
      fused_ops: attr.strings(['BiasAdd']),
      num_args: attr.i(1),
      epsilon: attr.f(0),
    });
  },
  dropout: unary('Identity'),
  identity: unary('Identity'),
  add: (_node, c) => {
    // tfjs-layers' Add sums left to right.
    const [first, ...rest] = c.inputs;
    if (!first || rest.length === 0)
      throw new Error(`tfjs-graph export: '${c.name}' adds fewer than two values`);
    let sum = first.tensor;
    rest.forEach((v, k) => {
      sum = c.g.op(k === rest.length - 1 ? c.name : `${c.name}/sum${k + 1}`, 'AddV2', [sum, v.tensor]);
    });
    return sum;
  },
};

/** clip(x + 3, 0, 6), the gate of hardswish and hardsigmoid (torch-activations.ts). */
function clippedShift(c: GraphContext): string {
  const g = c.g;
  const shifted = g.op(`${c.name}/shift`, 'AddV2', [c.x, g.scalar(`${c.name}/three`, 3)]);
  return g.op(`${c.name}/clip`, 'ClipByValue', [
    shifted,
    g.scalar(`${c.name}/zero`, 0),
    g.scalar(`${c.name}/six_max`, 6),
  ]);
}

/**
 * A convolution as netspec's tfjs model runs it: groups 1 as Conv2D (with the bias: one _FusedConv2D, as
 * tfjs's Conv2D layer and TorchConv2d's inference path); groups = in channels as a depthwise convolution plus the
 * bias; other groups as one Conv2D per group over a Split, concatenated, plus the bias. PyTorch's padding is
 * EXPLICIT padding on the convolution; a dilated kernel is spread with zeros beforehand, as TorchConv2d does.
 */
function convOps(node: NodeOfOp<'conv'>, c: GraphContext): string {
  const g = c.g;
  const kernel = dilateHwio(convKernelHwio(c.weight('weight')), node.dilation);
  const bias = node.bias ? c.weight('bias') : undefined;
  const attrs = {
    strides: attr.ints([1, node.stride[0], node.stride[1], 1]),
    data_format: NHWC,
    dilations: ONES4,
    ...convPadding(node.padding),
  };
  if (node.groups === 1) {
    const k = g.floats(`${c.name}/kernel`, kernel.shape, kernel.data);
    if (!bias) return g.op(c.name, 'Conv2D', [c.x, k], { ...attrs, use_cudnn_on_gpu: attr.b(true) });
    const b = g.floats(`${c.name}/bias`, bias.shape, bias.data);
    return g.op(c.name, '_FusedConv2D', [c.x, k, b], {
      ...attrs,
      fused_ops: attr.strings(['BiasAdd']),
      num_args: attr.i(1),
      epsilon: attr.f(0),
    });
  }
  if (node.groups === node.inChannels) {
    // HWIO [kh, kw, 1, in * mult] is the depthwise [kh, kw, in, mult] in the same element order.
    const [kh = 1, kw = 1] = kernel.shape;
    const shape = [kh, kw, node.inChannels, node.outChannels / node.inChannels];
    const k = g.floats(`${c.name}/depthwise_kernel`, shape, kernel.data);
    const y = g.op(bias ? `${c.name}/depthwise` : c.name, 'DepthwiseConv2dNative', [c.x, k], attrs);
    return bias ? biasAdd(c, y, bias) : y;
  }
  const split = g.op(`${c.name}/split`, 'Split', [g.ints(`${c.name}/split_axis`, [], [3]), c.x], {
    num_split: attr.i(node.groups),
  });
  const parts = splitHwioOutputs(kernel, node.groups).map((kg, i) =>
    g.op(
      `${c.name}/group${i}`,
      'Conv2D',
      [`${split}:${i}`, g.floats(`${c.name}/kernel${i}`, kg.shape, kg.data)],
      {
        ...attrs,
        use_cudnn_on_gpu: attr.b(true),
      },
    ),
  );
  const axis = g.ints(`${c.name}/concat_axis`, [], [3]);
  const y = g.op(bias ? `${c.name}/concat` : c.name, 'ConcatV2', [...parts, axis], {
    N: attr.i(node.groups),
    Tidx: attr.type('DT_INT32'),
  });
  return bias ? biasAdd(c, y, bias) : y;
}

/**
 * The tfjs-graph format: a network and its weights as a TensorFlow.js GraphModel (`model.json` with a GraphDef of
 * TensorFlow ops, and weight shards) that `tf.loadGraphModel` runs on any backend without netspec's code.
 * Inference only: BatchNorm is FusedBatchNormV3 on the running statistics (is_training false), dropout is an
 * Identity. The input is NCHW `[N, ...ir.inputShape]` as in the spec, transposed to NHWC inside; the output is
 * the logits `[N, ...ir.outputShape]` (a map output transposed back to NCHW).
 *
 * Each op kind is one row of GRAPH_OPS and spells the tfjs ops netspec's own tfjs model runs for it (plan.ts,
 * torch-layers.ts, zoo-layers.ts, torch-activations.ts, and tfjs-layers' built-ins), so that both give the same
 * numbers.
 */
import { numel, type IrNetwork, type IrNode, type IrParamName, type Shape } from '../../../ir.js';
import { adaptiveMatrix } from '../../../ops/adaptive-avgpool.js';
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
  readonly layout: 'nhwc' | 'tokens' | 'flat';
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
  weight(param: IrParamName): FloatTensor;
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
      : { tensor: input, layout: layoutOf(ir.inputShape) },
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
    values.set(node.path, { tensor, layout: layoutOf(node.outputShape) });
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

function weightOf(weights: ReadonlyMap<string, FloatTensor>, node: IrNode, param: IrParamName): FloatTensor {
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
  maxpool: (node, c) =>
    node.ceilMode
      ? pool(c, 'MaxPool', ceilPad(c, node, LOWEST_FLOAT32), node.kernel, node.stride)
      : pool(c, 'MaxPool', pad(c, node.padding, LOWEST_FLOAT32), node.kernel, node.stride),
  // Zero padding then a valid average counts the padded zeros: PyTorch's count_include_pad=True.
  avgpool: (node, c) =>
    node.ceilMode ? ceilAvgPool(node, c) : pool(c, 'AvgPool', pad(c, node.padding), node.kernel, node.stride),
  global_avgpool: (node, c) => {
    const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
    return pool(c, 'AvgPool', c.x, [h, w], [h, w]);
  },
  adaptive_avgpool: adaptiveAvgPoolOps,
  chunk: (node, c) => sliceOps(node, c, node.dim, node.start, node.length),
  slice: (node, c) => sliceOps(node, c, node.dim, node.start, node.end - node.start),
  channel_shuffle: (node, c) => {
    // TorchChannelShuffle: [M, g, C/g] transposed to [M, C/g, g], back to the map's NHWC shape.
    const [ch = 1, h = 1, w = 1] = node.inputShapes[0] ?? [];
    const grouped = reshape(c, `${c.name}/grouped`, c.x, [-1, node.groups, ch / node.groups]);
    const swapped = transpose(c.g, `${c.name}/transpose`, grouped, [0, 2, 1]);
    return reshape(c, c.name, swapped, [-1, h, w, ch]);
  },
  // The identity in inference, as dropout.
  stochastic_depth: unary('Identity'),
  flatten: (node, c) => {
    if (c.first.layout === 'flat') return unary('Identity')(node, c);
    // Tokens are in PyTorch's order already: tfjs's Flatten reshapes them.
    if (c.first.layout === 'tokens') return reshape(c, c.name, c.x, [-1, numel(node.outputShape)]);
    const [ch = 1, h = 1, w = 1] = node.inputShapes[0] ?? [];
    // PyTorch flattens in (C, H, W) order; NHWC goes back to NCHW first unless the map is 1x1.
    const source = h * w === 1 ? c.x : transpose(c.g, `${c.name}/nchw`, c.x, [0, 3, 1, 2]);
    const shape = c.g.ints(`${c.name}/shape`, [2], [-1, ch * h * w]);
    return c.g.op(c.name, 'Reshape', [source, shape], { Tshape: attr.type('DT_INT32') });
  },
  linear: (node, c) => {
    // tfjs-layers' Dense on tokens [N, T, F] multiplies the [N * T, F] rows and reshapes back.
    const [tokens = 1] = node.inputShapes[0] ?? [];
    const onTokens = c.first.layout === 'tokens';
    const rows = onTokens ? reshape(c, `${c.name}/rows`, c.x, [-1, node.inFeatures]) : c.x;
    const name = onTokens ? `${c.name}/matmul` : c.name;
    const kernel = transposeTensor(c.weight('weight'), [1, 0]);
    const k = c.g.floats(`${c.name}/kernel`, kernel.shape, kernel.data);
    const flags = { transpose_a: attr.b(false), transpose_b: attr.b(false) };
    let y: string;
    if (!node.bias) y = c.g.op(name, 'MatMul', [rows, k], flags);
    else {
      // tfjs-layers' Dense multiplies and adds the bias in one fused op.
      const bias = c.weight('bias');
      const b = c.g.floats(`${c.name}/bias`, bias.shape, bias.data);
      y = c.g.op(name, '_FusedMatMul', [rows, k, b], {
        ...flags,
        fused_ops: attr.strings(['BiasAdd']),
        num_args: attr.i(1),
        epsilon: attr.f(0),
      });
    }
    return onTokens ? reshape(c, c.name, y, [-1, tokens, node.outFeatures]) : y;
  },
  dropout: unary('Identity'),
  layernorm: (node, c) => {
    // TorchLayerNorm: (x - mean) * rsqrt(mean((x - mean)^2) + eps) * weight + bias along the stored axis.
    const g = c.g;
    const rank = (node.inputShapes[0]?.length ?? 0) + 1;
    const axis = storageAxis(c.first.layout, node.dim);
    const axes = g.ints(`${c.name}/axis`, [1], [axis]);
    const keep = { keep_dims: attr.b(true), Tidx: attr.type('DT_INT32') };
    const mean = g.op(`${c.name}/mean`, 'Mean', [c.x, axes], keep);
    const centered = g.op(`${c.name}/centered`, 'Sub', [c.x, mean]);
    const square = g.op(`${c.name}/square`, 'Square', [centered]);
    const variance = g.op(`${c.name}/variance`, 'Mean', [square, axes], keep);
    const shifted = g.op(`${c.name}/shifted`, 'AddV2', [variance, g.scalar(`${c.name}/eps`, node.eps)]);
    const rstd = g.op(`${c.name}/rstd`, 'Rsqrt', [shifted]);
    if (!node.affine) return g.op(c.name, 'Mul', [centered, rstd]);
    const normalized = g.op(`${c.name}/normalized`, 'Mul', [centered, rstd]);
    // weight and bias shaped to broadcast along the axis, as TorchLayerNorm reshapes them.
    const shape = Array.from({ length: rank }, (_, k) => (k === axis ? node.features : 1));
    const weight = c.weight('weight');
    const bias = c.weight('bias');
    const scaled = g.op(`${c.name}/scaled`, 'Mul', [
      normalized,
      g.floats(`${c.name}/weight`, shape, weight.data),
    ]);
    return g.op(c.name, 'AddV2', [scaled, g.floats(`${c.name}/bias`, shape, bias.data)]);
  },
  parameter: (node, c) => {
    // TorchParameter: the weight (as stored: a map's as [H, W, C]) tiled to the batch of the input.
    const g = c.g;
    const stored =
      node.shape.length === 3 ? transposeTensor(c.weight('weight'), [1, 2, 0]) : c.weight('weight');
    const w = g.floats(`${c.name}/weight`, [1, ...stored.shape], stored.data);
    const ints = { T: attr.type('DT_INT32') };
    const shape = g.op(`${c.name}/input_shape`, 'Shape', [c.x], {
      T: attr.type('DT_FLOAT'),
      out_type: attr.type('DT_INT32'),
    });
    const batch = g.op(
      `${c.name}/batch`,
      'Slice',
      [shape, g.ints(`${c.name}/batch_begin`, [1], [0]), g.ints(`${c.name}/batch_size`, [1], [1])],
      { ...ints, Index: attr.type('DT_INT32') },
    );
    const ones = g.ints(
      `${c.name}/ones`,
      [stored.shape.length],
      stored.shape.map(() => 1),
    );
    const multiples = g.op(
      `${c.name}/multiples`,
      'ConcatV2',
      [batch, ones, g.ints(`${c.name}/concat_axis`, [], [0])],
      {
        ...ints,
        N: attr.i(2),
        Tidx: attr.type('DT_INT32'),
      },
    );
    return g.op(c.name, 'Tile', [w, multiples], { Tmultiples: attr.type('DT_INT32') });
  },
  permute: (node, c) => {
    // One transpose from the input's stored order to the output's (plan.ts).
    const inverse = inverseOf(storageOrder(node.inputShapes[0]?.length ?? 0));
    const perm = storageOrder(node.outputShape.length).map((axis) => inverse[node.dims[axis] ?? 0] ?? 0);
    if (perm.every((d, k) => d === k)) return unary('Identity')(node, c);
    return transpose(c.g, c.name, c.x, perm);
  },
  reshape: (node, c) => {
    // PyTorch's element order: a map back to NCHW first (unless 1x1), a map result back to NHWC after.
    const [, ih = 1, iw = 1] = node.inputShapes[0] ?? [];
    const source =
      c.first.layout === 'nhwc' && ih * iw !== 1 ? transpose(c.g, `${c.name}/nchw`, c.x, [0, 3, 1, 2]) : c.x;
    const out = node.outputShape;
    const [ch = 1, h = 1, w = 1] = out;
    if (out.length === 3 && h * w !== 1) {
      const nchw = reshape(c, `${c.name}/shape`, source, [-1, ...out]);
      return transpose(c.g, c.name, nchw, [0, 2, 3, 1]);
    }
    return reshape(c, c.name, source, [-1, ...(out.length === 3 ? [h, w, ch] : out)]);
  },
  select: (node, c) => {
    // TorchSelect: a slice of size 1 on the axis (a map's channels on its last axis, else in NCHW), reshaped away.
    const channels = c.first.layout === 'nhwc' && node.dim === 1;
    const x =
      c.first.layout === 'nhwc' && !channels ? transpose(c.g, `${c.name}/nchw`, c.x, [0, 3, 1, 2]) : c.x;
    const rank = (node.inputShapes[0]?.length ?? 0) + 1;
    const axis = channels ? 3 : node.dim;
    const begin = Array.from({ length: rank }, (_, k) => (k === axis ? node.index : 0));
    const sizes = Array.from({ length: rank }, (_, k) => (k === axis ? 1 : -1));
    const slice = c.g.op(
      `${c.name}/slice`,
      'Slice',
      [x, c.g.ints(`${c.name}/begin`, [rank], begin), c.g.ints(`${c.name}/size`, [rank], sizes)],
      { Index: attr.type('DT_INT32') },
    );
    return reshape(c, c.name, slice, [-1, ...node.outputShape]);
  },
  attention: (node, c) => {
    // TorchAttention, op for op: the projections as MatMul with PyTorch's [out, in] weights transposed (transpose_b).
    const g = c.g;
    const [tokens = 1, e = 1] = node.inputShapes[0] ?? [];
    const h = node.heads;
    const d = e / h;
    const project = (name: string, x: string, weight: 'in_proj_weight' | 'out_proj.weight'): string => {
      const w = c.weight(weight);
      const k = g.floats(`${c.name}/${weight.replace('.', '_')}`, w.shape, w.data);
      const flags = { transpose_a: attr.b(false), transpose_b: attr.b(true) };
      if (!node.bias) return g.op(name, 'MatMul', [x, k], flags);
      const y = g.op(`${name}/matmul`, 'MatMul', [x, k], flags);
      const biasName = weight === 'in_proj_weight' ? 'in_proj_bias' : 'out_proj.bias';
      const b = c.weight(biasName);
      return g.op(name, 'AddV2', [y, g.floats(`${c.name}/${biasName.replace('.', '_')}`, b.shape, b.data)]);
    };
    const qkv = project(`${c.name}/qkv`, reshape(c, `${c.name}/rows`, c.x, [-1, e]), 'in_proj_weight');
    const split = g.op(`${c.name}/split`, 'Split', [g.ints(`${c.name}/split_axis`, [], [1]), qkv], {
      num_split: attr.i(3),
    });
    const perHead = (k: number, role: string): string =>
      transpose(
        g,
        `${c.name}/${role}_heads`,
        reshape(c, `${c.name}/${role}`, `${split}:${k}`, [-1, tokens, h, d]),
        [0, 2, 1, 3],
      );
    const q = g.op(`${c.name}/q_scaled`, 'RealDiv', [
      perHead(0, 'q'),
      g.scalar(`${c.name}/sqrt_d`, Math.sqrt(d)),
    ]);
    const scores = g.op(`${c.name}/scores`, 'BatchMatMulV2', [q, perHead(1, 'k')], {
      adj_x: attr.b(false),
      adj_y: attr.b(true),
    });
    const weights = g.op(`${c.name}/softmax`, 'Softmax', [scores]);
    const context = g.op(`${c.name}/context`, 'BatchMatMulV2', [weights, perHead(2, 'v')], {
      adj_x: attr.b(false),
      adj_y: attr.b(false),
    });
    const joined = reshape(c, `${c.name}/joined`, transpose(g, `${c.name}/merge`, context, [0, 2, 1, 3]), [
      -1,
      e,
    ]);
    return reshape(c, c.name, project(`${c.name}/out`, joined, 'out_proj.weight'), [-1, tokens, e]);
  },
  identity: unary('Identity'),
  // tfjs-layers' Add and Multiply combine left to right.
  add: (node, c) => fold(node, c, 'AddV2', 'sum'),
  mul: (node, c) => fold(node, c, 'Mul', 'mul'),
  concat: (node, c) => {
    if (c.inputs.length === 1) return unary('Identity')(node, c);
    // PyTorch's dim on the NHWC storage of a map (C is last); flat features keep their order.
    const axis = c.first.layout === 'nhwc' ? ([0, 3, 1, 2][node.dim] ?? node.dim) : node.dim;
    const axisTensor = c.g.ints(`${c.name}/axis`, [], [axis]);
    return c.g.op(c.name, 'ConcatV2', [...c.inputs.map((v) => v.tensor), axisTensor], {
      N: attr.i(c.inputs.length),
      Tidx: attr.type('DT_INT32'),
    });
  },
};

/** A Reshape of `x` to `shape` (-1 for the batch), named `name`. */
function reshape(c: GraphContext, name: string, x: string, shape: readonly number[]): string {
  const target = c.g.ints(`${name}/shape`, [shape.length], shape);
  return c.g.op(name, 'Reshape', [x, target], { Tshape: attr.type('DT_INT32') });
}

/** What a ceil-mode pooling adds at the far end of each axis: its last window's overhang past the padded input. */
function overhangs(node: NodeOfOp<'maxpool' | 'avgpool'>): [number, number] {
  const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
  const [, oh = 1, ow = 1] = node.outputShape;
  const over = (size: number, out: number, axis: 0 | 1): number =>
    Math.max(0, (out - 1) * node.stride[axis] + node.kernel[axis] - (size + 2 * node.padding[axis]));
  return [over(h, oh, 0), over(w, ow, 1)];
}

/** A ceil-mode pooling's padding (TorchCeilMaxPool2d, TorchAvgPool2d): symmetric plus the overhang at the end. */
function ceilPad(c: GraphContext, node: NodeOfOp<'maxpool' | 'avgpool'>, value?: number): string {
  const [ph, pw] = node.padding;
  const [eh, ew] = overhangs(node);
  if (ph + eh + pw + ew === 0) return c.x;
  const paddings = c.g.ints(`${c.name}/paddings`, [4, 2], [0, 0, ph, ph + eh, pw, pw + ew, 0, 0]);
  if (value === undefined)
    return c.g.op(`${c.name}/pad`, 'Pad', [c.x, paddings], { Tpaddings: attr.type('DT_INT32') });
  const constant = c.g.scalar(`${c.name}/pad_value`, value);
  return c.g.op(`${c.name}/pad`, 'PadV2', [c.x, paddings, constant], { Tpaddings: attr.type('DT_INT32') });
}

/**
 * Ceil-mode average pooling as TorchAvgPool2d: zero padding with the overhang, a valid AvgPool, and the windows that
 * hang over rescaled by kernel / (their part inside the padded input), PyTorch's count_include_pad divisor.
 */
function ceilAvgPool(node: NodeOfOp<'avgpool'>, c: GraphContext): string {
  const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
  const [, oh = 1, ow = 1] = node.outputShape;
  const scale = (size: number, out: number, axis: 0 | 1): number[] =>
    Array.from({ length: out }, (_, i) => {
      const [k, p] = [node.kernel[axis], node.padding[axis]];
      const start = i * node.stride[axis] - p;
      return k / (Math.min(start + k, size + p) - start);
    });
  const rows = scale(h, oh, 0);
  const columns = scale(w, ow, 1);
  const padded = ceilPad(c, node);
  if (rows.every((r) => r === 1) && columns.every((v) => v === 1))
    return pool(c, 'AvgPool', padded, node.kernel, node.stride);
  const y = pool({ ...c, name: `${c.name}/avg` }, 'AvgPool', padded, node.kernel, node.stride);
  const grid = Float32Array.from(rows.flatMap((r) => columns.map((v) => r * v)));
  return c.g.op(c.name, 'Mul', [y, c.g.floats(`${c.name}/scale`, [1, oh, ow, 1], grid)]);
}

/**
 * Adaptive average pooling as TorchAdaptiveAvgPool2d: the width, then the height, each a MatMul with a constant
 * averaging matrix (transpose_b) over the last axis of a 2-D view, between the same Transposes.
 */
function adaptiveAvgPoolOps(node: NodeOfOp<'adaptive_avgpool'>, c: GraphContext): string {
  const [ch = 1, h = 1, w = 1] = node.inputShapes[0] ?? [];
  const [oh, ow] = node.out;
  const g = c.g;
  const flags = { transpose_a: attr.b(false), transpose_b: attr.b(true) };
  const hcw = transpose(g, `${c.name}/hcw`, c.x, [0, 1, 3, 2]);
  const rows = reshape(c, `${c.name}/rows`, hcw, [-1, w]);
  const byWidth = g.floats(`${c.name}/by_width`, [ow, w], adaptiveMatrix(w, ow));
  const pooledW = g.op(`${c.name}/pool_width`, 'MatMul', [rows, byWidth], flags);
  const nhcw = reshape(c, `${c.name}/pooled_width`, pooledW, [-1, h, ch, ow]);
  const ncwh = transpose(g, `${c.name}/cwh`, nhcw, [0, 2, 3, 1]);
  const columns = reshape(c, `${c.name}/columns`, ncwh, [-1, h]);
  const byHeight = g.floats(`${c.name}/by_height`, [oh, h], adaptiveMatrix(h, oh));
  const pooledH = g.op(`${c.name}/pool_height`, 'MatMul', [columns, byHeight], flags);
  const pooled = reshape(c, `${c.name}/pooled`, pooledH, [-1, ch, ow, oh]);
  return transpose(g, c.name, pooled, [0, 3, 2, 1]);
}

/** `size` elements from `start` of PyTorch's axis `dim` (TorchSlice): a Slice on the axis storage holds it at. */
function sliceOps(node: IrNode, c: GraphContext, dim: number, start: number, size: number): string {
  const rank = (node.inputShapes[0]?.length ?? 0) + 1;
  const axis = c.first.layout === 'nhwc' ? ([0, 3, 1, 2][dim] ?? dim) : dim;
  const begin = Array.from({ length: rank }, (_, i) => (i === axis ? start : 0));
  const sizes = Array.from({ length: rank }, (_, i) => (i === axis ? size : -1));
  return c.g.op(
    c.name,
    'Slice',
    [c.x, c.g.ints(`${c.name}/begin`, [rank], begin), c.g.ints(`${c.name}/size`, [rank], sizes)],
    { Index: attr.type('DT_INT32') },
  );
}

/**
 * The inputs combined left to right by the binary `op` (the last op named as the node, the others
 * `<name>/<role>k`); a merge of one branch is that branch.
 */
function fold(node: IrNode, c: GraphContext, op: 'AddV2' | 'Mul', role: string): string {
  const [first, ...rest] = c.inputs;
  if (!first) throw new Error(`tfjs-graph export: '${c.name}' merges no values`);
  if (rest.length === 0) return unary('Identity')(node, c);
  let value = first.tensor;
  rest.forEach((v, k) => {
    value = c.g.op(k === rest.length - 1 ? c.name : `${c.name}/${role}${k + 1}`, op, [value, v.tensor]);
  });
  return value;
}

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

/** A value's layout: a [C, H, W] map is NHWC, tokens [T, E] and flat features [F] are stored as PyTorch orders them. */
function layoutOf(shape: Shape): Value['layout'] {
  return shape.length === 3 ? 'nhwc' : shape.length === 2 ? 'tokens' : 'flat';
}

/** The axes of a value with its batch in storage order, as plan.ts: axis k holds PyTorch's axis order[k]. */
function storageOrder(sampleRank: number): number[] {
  return sampleRank === 3 ? [0, 2, 3, 1] : Array.from({ length: sampleRank + 1 }, (_, k) => k);
}

function inverseOf(order: readonly number[]): number[] {
  const inverse = new Array<number>(order.length).fill(0);
  order.forEach((axis, k) => (inverse[axis] = k));
  return inverse;
}

/** The stored axis (batch = 0) of PyTorch's axis `dim` in a value of `layout`. */
function storageAxis(layout: Value['layout'], dim: number): number {
  return layout === 'nhwc' ? (inverseOf(storageOrder(3))[dim] ?? dim) : dim;
}

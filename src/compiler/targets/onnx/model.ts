/**
 * The ONNX format: a network and its weights as one ONNX model (opset 13 to 17, standard ops of the default
 * domain only) that onnxruntime runs and Netron opens. Inference semantics: BatchNormalization on the running
 * statistics, dropout and stochastic depth as Identity. The input `input` is NCHW `[batch, ...ir.inputShape]` and
 * the output `logits` is `[batch, ...ir.outputShape]`, `batch` a symbolic dimension.
 *
 * Values keep PyTorch's layout (NCHW maps, [N, T, E] tokens, [N, F] features) and the weights are PyTorch's
 * (conv OIHW, linear [out, in]), which is ONNX's: initializers are the state dict's tensors under their keys
 * (`stage3.0.conv1.weight`), untransposed. Each op kind is one row of ONNX_OPS, with PyTorch's semantics for it
 * (the tfjs-graph rows in ../tfjs/export/graph.ts spell the same semantics in TensorFlow ops). A layer's last node
 * is named by its path and writes the tensor of that name; helper nodes and constants are `<path>/<role>`.
 */
import { type IrNetwork, type IrNode, type IrParamName } from '../../ir.js';
import { adaptiveMatrix } from '../../ops/adaptive-avgpool.js';
import { byOp, type NodeOfOp, type OpTable } from '../../ops/index.js';
import type { onnx } from 'onnx-proto';
import { attr, batchedFloatType, OnnxGraphBuilder, type AttrValue, type FloatTensor } from './builder.js';
import {
  irVersionOf,
  ONNX_INPUT,
  ONNX_OPSETS,
  ONNX_OUTPUT,
  ONNX_PRODUCER,
  opsetProblem,
  VERSION_KEY,
} from './format.js';

/** Options of {@link onnxModelProto}. */
export interface OnnxModelOptions {
  /** The opset (13 to 17; 17 by default). */
  readonly opset?: number;
  /** netspec's version, the model's producer_version. */
  readonly netspecVersion: string;
  /** The spec file the network came from. */
  readonly spec: string;
  /** Where the weights came from (`checkpoint runs/x/checkpoints/best`, `initial weights, seed 0`). */
  readonly weights: string;
}

/** What a row needs besides its node. */
interface OnnxContext {
  readonly g: OnnxGraphBuilder;
  readonly opset: number;
  /** The node's path: its last ONNX node and output are named so, helpers `<name>/<role>`. */
  readonly name: string;
  /** The first input's tensor, and all inputs. */
  readonly x: string;
  readonly inputs: readonly string[];
  /** The initializer of the node's parameter `param` (named `<path>.<param>`, added on first use). */
  weight(param: IrParamName): string;
}

/**
 * The ONNX model of `ir` with `weights` (a state dict that fits `ir`, PyTorch layout) as onnx-proto's message
 * object, ready to encode. Deterministic; the weights' arrays are referenced, not copied. Throws (a program error)
 * when a tensor is missing or of another shape, or the opset is not 13 to 17 (the CLI checks it first).
 */
export function onnxModelProto(
  ir: IrNetwork,
  weights: ReadonlyMap<string, FloatTensor>,
  options: OnnxModelOptions,
): onnx.IModelProto {
  const opset = options.opset ?? ONNX_OPSETS.default;
  const problem = opsetProblem(opset);
  if (problem) throw new Error(`ONNX export: ${problem}`);
  const g = new OnnxGraphBuilder();
  const values = new Map<string, string>([['input', ONNX_INPUT]]);
  for (const node of ir.nodes) {
    const inputs = node.inputs.map((p) => {
      const v = values.get(p);
      if (v === undefined)
        throw new Error(`ONNX export: '${node.path}' reads '${p}', which is not computed before it`);
      return v;
    });
    const x = inputs[0];
    if (x === undefined) throw new Error(`ONNX export: '${node.path}' has no input`);
    const added = new Map<IrParamName, string>();
    const context: OnnxContext = {
      g,
      opset,
      name: node.path,
      x,
      inputs,
      weight: (param) => {
        const known = added.get(param);
        if (known !== undefined) return known;
        const t = weightOf(weights, node, param);
        const name = g.floats(`${node.path}.${param}`, t.shape, t.data);
        added.set(param, name);
        return name;
      },
    };
    values.set(node.path, byOp(ONNX_OPS, node, context));
  }
  const out = values.get(ir.output);
  if (out === undefined) throw new Error(`ONNX export: the output '${ir.output}' is not a node`);
  g.op(ONNX_OUTPUT, 'Identity', [out]);

  const shape = (s: readonly number[]) => `[batch, ${s.join(', ')}]`;
  const docString =
    `netspec ${options.netspecVersion}: the network '${ir.name}' of ${options.spec} with ${options.weights}. ` +
    `Input '${ONNX_INPUT}': float32 NCHW ${shape(ir.inputShape)}; output '${ONNX_OUTPUT}': float32 ` +
    `${shape(ir.outputShape)} (logits). Inference: BatchNorm on its running statistics, dropout and stochastic ` +
    'depth are the identity. Initializers are named by their PyTorch state-dict keys.';
  const metadata: Record<string, string> = {
    [VERSION_KEY]: options.netspecVersion,
    network: ir.name,
    spec: options.spec,
    weights: options.weights,
    input_shape: JSON.stringify(['batch', ...ir.inputShape]),
    output_shape: JSON.stringify(['batch', ...ir.outputShape]),
    layout: 'NCHW',
  };
  return {
    irVersion: irVersionOf(opset),
    producerName: ONNX_PRODUCER,
    producerVersion: options.netspecVersion,
    docString,
    graph: {
      name: ir.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: ONNX_INPUT, type: batchedFloatType(ir.inputShape) }],
      output: [{ name: ONNX_OUTPUT, type: batchedFloatType(ir.outputShape) }],
    },
    opsetImport: [{ domain: '', version: opset }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
}

function weightOf(weights: ReadonlyMap<string, FloatTensor>, node: IrNode, param: IrParamName): FloatTensor {
  const key = `${node.path}.${param}`;
  const t = weights.get(key);
  const want = node.params.find((p) => p.name === param);
  if (!t || !want) throw new Error(`ONNX export: no tensor '${key}'`);
  if (t.shape.length !== want.shape.length || t.shape.some((d, i) => d !== want.shape[i]))
    throw new Error(
      `ONNX export: '${key}' has shape [${t.shape.join(', ')}], not [${want.shape.join(', ')}]`,
    );
  return t;
}

/** A one-input op named as the node. */
const unary =
  (opType: string, attributes: Readonly<Record<string, AttrValue>> = {}) =>
  (_node: IrNode, c: OnnxContext): string =>
    c.g.op(c.name, opType, [c.x], attributes);

/** PyTorch's hardsigmoid, relu6(x + 3) / 6, as ONNX's HardSigmoid max(0, min(1, x / 6 + 1/2)). */
const HARD_SIGMOID = { alpha: attr.f(1 / 6), beta: attr.f(0.5) };

/** The rows: what ONNX computes for each op kind; `tsc` names a kind missing here. */
const ONNX_OPS: OpTable<string, OnnxContext> = {
  conv: (node, c) => {
    const [ph, pw] = node.padding;
    const inputs = [c.x, c.weight('weight'), ...(node.bias ? [c.weight('bias')] : [])];
    return c.g.op(c.name, 'Conv', inputs, {
      kernel_shape: attr.ints(node.kernel),
      strides: attr.ints(node.stride),
      pads: attr.ints([ph, pw, ph, pw]),
      dilations: attr.ints(node.dilation),
      group: attr.i(node.groups),
    });
  },
  batchnorm: (node, c) => {
    const f = node.features;
    const scale = node.affine
      ? c.weight('weight')
      : c.g.floats(`${c.name}/scale`, [f], new Float32Array(f).fill(1));
    const offset = node.affine ? c.weight('bias') : c.g.floats(`${c.name}/offset`, [f], new Float32Array(f));
    // ONNX's momentum weighs the old running value, PyTorch's the new batch; inference uses neither.
    return c.g.op(
      c.name,
      'BatchNormalization',
      [c.x, scale, offset, c.weight('running_mean'), c.weight('running_var')],
      { epsilon: attr.f(node.eps), momentum: attr.f(1 - node.momentum) },
    );
  },
  relu: unary('Relu'),
  relu6: (_node, c) =>
    c.g.op(c.name, 'Clip', [c.x, c.g.scalar(`${c.name}/min`, 0), c.g.scalar(`${c.name}/max`, 6)]),
  leaky_relu: (node, c) => unary('LeakyRelu', { alpha: attr.f(node.alpha ?? 0.01) })(node, c),
  elu: (node, c) => unary('Elu', { alpha: attr.f(node.alpha ?? 1) })(node, c),
  // PyTorch's constants (ONNX's defaults are the same numbers in float32).
  selu: unary('Selu', { alpha: attr.f(1.6732632423543772), gamma: attr.f(1.0507009873554805) }),
  gelu: (_node, c) => {
    // Exact GELU (PyTorch's default; ONNX has Gelu only from opset 20): x * (0.5 * (1 + erf(x / sqrt(2)))).
    const g = c.g;
    const scaled = g.op(`${c.name}/div`, 'Div', [c.x, g.scalar(`${c.name}/sqrt2`, Math.SQRT2)]);
    const erf = g.op(`${c.name}/erf`, 'Erf', [scaled]);
    const plus = g.op(`${c.name}/add`, 'Add', [g.scalar(`${c.name}/one`, 1), erf]);
    const cdf = g.op(`${c.name}/cdf`, 'Mul', [g.scalar(`${c.name}/half`, 0.5), plus]);
    return g.op(c.name, 'Mul', [c.x, cdf]);
  },
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  softplus: unary('Softplus'),
  silu: (_node, c) => c.g.op(c.name, 'Mul', [c.x, c.g.op(`${c.name}/sigmoid`, 'Sigmoid', [c.x])]),
  hardswish: (node, c) => {
    if (c.opset >= 14) return unary('HardSwish')(node, c);
    return c.g.op(c.name, 'Mul', [c.x, c.g.op(`${c.name}/gate`, 'HardSigmoid', [c.x], HARD_SIGMOID)]);
  },
  hardsigmoid: unary('HardSigmoid', HARD_SIGMOID),
  // Padded positions never win a MaxPool (PyTorch pads with -inf); ceil mode's overhang is padding at the end.
  maxpool: (node, c) => {
    const [ph, pw] = node.padding;
    const [eh, ew] = overhangs(node);
    return c.g.op(c.name, 'MaxPool', [c.x], {
      kernel_shape: attr.ints(node.kernel),
      strides: attr.ints(node.stride),
      pads: attr.ints([ph, pw, ph + eh, pw + ew]),
    });
  },
  avgpool: avgPoolOps,
  global_avgpool: unary('GlobalAveragePool'),
  adaptive_avgpool: adaptiveAvgPoolOps,
  chunk: (node, c) => sliceOps(c, node.dim, node.start, node.start + node.length),
  slice: (node, c) => sliceOps(c, node.dim, node.start, node.end),
  channel_shuffle: (node, c) => {
    // torchvision's channel_shuffle: [N, g, C/g, ...] transposed to [N, C/g, g, ...], flattened back.
    const [ch = 1, ...rest] = node.inputShapes[0] ?? [];
    const grouped = reshape(c, `${c.name}/grouped`, c.x, [node.groups, ch / node.groups, ...rest]);
    const perm = [0, 2, 1, ...rest.map((_, k) => k + 3)];
    const swapped = c.g.op(`${c.name}/transpose`, 'Transpose', [grouped], { perm: attr.ints(perm) });
    return reshape(c, c.name, swapped, node.outputShape);
  },
  // The identity in inference, as dropout.
  stochastic_depth: unary('Identity'),
  // A Reshape to [batch, C*H*W] (Flatten's output loses the symbolic batch in shape inference).
  flatten: (node, c) => reshape(c, c.name, c.x, node.outputShape),
  linear: (node, c) => {
    if ((node.inputShapes[0] ?? []).length === 1)
      return c.g.op(c.name, 'Gemm', [c.x, c.weight('weight'), ...(node.bias ? [c.weight('bias')] : [])], {
        transB: attr.i(1),
      });
    // Tokens [N, T, F]: a MatMul with the transposed weight (a constant onnxruntime folds), as torch.onnx writes it.
    return matmulLinear(c, c.name, c.x, 'weight', node.bias ? 'bias' : undefined);
  },
  dropout: unary('Identity'),
  layernorm: layerNormOps,
  parameter: (node, c) => {
    // The weight expanded to [N, ...shape], N the batch of the input (Shape, its first element, the shape after).
    const g = c.g;
    const shape = g.op(`${c.name}/input_shape`, 'Shape', [c.x]);
    const batch = g.op(`${c.name}/batch`, 'Slice', [
      shape,
      g.ints(`${c.name}/batch_start`, [0]),
      g.ints(`${c.name}/batch_end`, [1]),
    ]);
    const target = g.op(`${c.name}/target_shape`, 'Concat', [batch, g.ints(`${c.name}/shape`, node.shape)], {
      axis: attr.i(0),
    });
    return g.op(c.name, 'Expand', [c.weight('weight'), target]);
  },
  permute: (node, c) => c.g.op(c.name, 'Transpose', [c.x], { perm: attr.ints(node.dims) }),
  reshape: (node, c) => reshape(c, c.name, c.x, node.outputShape),
  select: (node, c) =>
    c.g.op(c.name, 'Gather', [c.x, c.g.ints(`${c.name}/index`, [node.index], [])], {
      axis: attr.i(node.dim),
    }),
  attention: attentionOps,
  identity: unary('Identity'),
  // Left to right, as PyTorch's `a + b + c`; numpy broadcasting is PyTorch's.
  add: (_node, c) => fold(c, 'Add', 'sum'),
  mul: (_node, c) => fold(c, 'Mul', 'mul'),
  concat: (node, c) =>
    c.inputs.length === 1
      ? c.g.op(c.name, 'Identity', [c.x])
      : c.g.op(c.name, 'Concat', c.inputs, { axis: attr.i(node.dim) }),
};

/** A Reshape of `x` to `[batch, ...shape]`: the leading 0 copies the batch, so shape inference keeps it symbolic. */
function reshape(c: OnnxContext, name: string, x: string, shape: readonly number[]): string {
  return c.g.op(name, 'Reshape', [x, c.g.ints(`${name}/shape`, [0, ...shape])]);
}

/**
 * PyTorch's linear on the last axis of `x` ([N, T, F]): x @ weight^T (+ bias), the weight an initializer kept in
 * PyTorch's [out, in] layout and transposed by a node.
 */
function matmulLinear(
  c: OnnxContext,
  name: string,
  x: string,
  weight: IrParamName,
  bias?: IrParamName,
): string {
  const transposed = c.g.op(`${name}/${weight}_t`, 'Transpose', [c.weight(weight)], {
    perm: attr.ints([1, 0]),
  });
  if (bias === undefined) return c.g.op(name, 'MatMul', [x, transposed]);
  const product = c.g.op(`${name}/matmul`, 'MatMul', [x, transposed]);
  return c.g.op(name, 'Add', [product, c.weight(bias)]);
}

/** What a ceil-mode pooling adds at the far end of each axis: its last window's overhang past the padded input. */
function overhangs(node: NodeOfOp<'maxpool' | 'avgpool'>): [number, number] {
  const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
  const [, oh = 1, ow = 1] = node.outputShape;
  const over = (size: number, out: number, axis: 0 | 1): number =>
    Math.max(0, (out - 1) * node.stride[axis] + node.kernel[axis] - (size + 2 * node.padding[axis]));
  return [over(h, oh, 0), over(w, ow, 1)];
}

/**
 * Average pooling as nn.AvgPool2d (count_include_pad): an AveragePool counting its zero padding; in ceil mode with
 * windows hanging over the padded input, zero padding with the overhang, a valid AveragePool (dividing by the
 * kernel size), and those windows rescaled by kernel / (their part inside the padded input), PyTorch's divisor.
 */
function avgPoolOps(node: NodeOfOp<'avgpool'>, c: OnnxContext): string {
  const [ph, pw] = node.padding;
  const [eh, ew] = overhangs(node);
  const window = { kernel_shape: attr.ints(node.kernel), strides: attr.ints(node.stride) };
  if (eh + ew === 0)
    return c.g.op(c.name, 'AveragePool', [c.x], {
      ...window,
      pads: attr.ints([ph, pw, ph, pw]),
      count_include_pad: attr.i(1),
    });
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
  const padded = c.g.op(`${c.name}/pad`, 'Pad', [
    c.x,
    c.g.ints(`${c.name}/pads`, [0, 0, ph, pw, 0, 0, ph + eh, pw + ew]),
  ]);
  const pooled = c.g.op(`${c.name}/avg`, 'AveragePool', [padded], window);
  const grid = Float32Array.from(rows.flatMap((r) => columns.map((v) => r * v)));
  return c.g.op(c.name, 'Mul', [pooled, c.g.floats(`${c.name}/scale`, [oh, ow], grid)]);
}

/**
 * nn.AdaptiveAvgPool2d: an AveragePool where the bins tile the map evenly (as torch.onnx writes it), else two
 * MatMuls with constant averaging matrices, `by_height [oh, H] @ (x @ by_width [W, ow])`, whose rows hold 1/|bin|
 * on each (possibly overlapping) bin.
 */
function adaptiveAvgPoolOps(node: NodeOfOp<'adaptive_avgpool'>, c: OnnxContext): string {
  const [, h = 1, w = 1] = node.inputShapes[0] ?? [];
  const [oh, ow] = node.out;
  if (h % oh === 0 && w % ow === 0) {
    const kernel = [h / oh, w / ow];
    return c.g.op(c.name, 'AveragePool', [c.x], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(kernel),
    });
  }
  const byRow = adaptiveMatrix(w, ow);
  // [ow, W] transposed to [W, ow], so that x @ by_width averages each row's bins.
  const byWidth = new Float32Array(w * ow);
  for (let i = 0; i < ow; i++) for (let j = 0; j < w; j++) byWidth[j * ow + i] = byRow[i * w + j] ?? 0;
  const g = c.g;
  const pooledWidth = g.op(`${c.name}/pool_width`, 'MatMul', [
    c.x,
    g.floats(`${c.name}/by_width`, [w, ow], byWidth),
  ]);
  return g.op(c.name, 'MatMul', [
    g.floats(`${c.name}/by_height`, [oh, h], adaptiveMatrix(h, oh)),
    pooledWidth,
  ]);
}

/** Elements `start` to `end` (exclusive) of PyTorch's axis `dim`: one Slice. */
function sliceOps(c: OnnxContext, dim: number, start: number, end: number): string {
  const g = c.g;
  return g.op(c.name, 'Slice', [
    c.x,
    g.ints(`${c.name}/starts`, [start]),
    g.ints(`${c.name}/ends`, [end]),
    g.ints(`${c.name}/axes`, [dim]),
  ]);
}

/** The inputs combined left to right by `opType` (the last node named as the layer, the others `<name>/<role>k`). */
function fold(c: OnnxContext, opType: 'Add' | 'Mul', role: string): string {
  const [first, ...rest] = c.inputs;
  if (first === undefined) throw new Error(`ONNX export: '${c.name}' merges no values`);
  if (rest.length === 0) return c.g.op(c.name, 'Identity', [first]);
  let value = first;
  rest.forEach((v, k) => {
    value = c.g.op(k === rest.length - 1 ? c.name : `${c.name}/${role}${k + 1}`, opType, [value, v]);
  });
  return value;
}

/**
 * Layer normalization over the one axis `dim`: from opset 17 LayerNormalization over the last axis (with the axis
 * moved last and back, as LayerNormDim and LayerNorm2d do, when it is not the last); below 17 its parts along the
 * axis: (x - mean) / sqrt(mean((x - mean)^2) + eps) * weight + bias, weight and bias shaped to broadcast.
 */
function layerNormOps(node: NodeOfOp<'layernorm'>, c: OnnxContext): string {
  const g = c.g;
  const rank = (node.inputShapes[0]?.length ?? 0) + 1;
  const last = node.dim === rank - 1;
  const f = node.features;
  if (c.opset >= 17) {
    const scale = node.affine
      ? c.weight('weight')
      : g.floats(`${c.name}/scale`, [f], new Float32Array(f).fill(1));
    const inputs = [scale, ...(node.affine ? [c.weight('bias')] : [])];
    const options = { axis: attr.i(-1), epsilon: attr.f(node.eps) };
    if (last) return g.op(c.name, 'LayerNormalization', [c.x, ...inputs], options);
    const moved = [...Array.from({ length: rank }, (_, k) => k).filter((k) => k !== node.dim), node.dim];
    const back = Array.from({ length: rank }, (_, k) => moved.indexOf(k));
    const x = g.op(`${c.name}/move`, 'Transpose', [c.x], { perm: attr.ints(moved) });
    const y = g.op(`${c.name}/normalize`, 'LayerNormalization', [x, ...inputs], options);
    return g.op(c.name, 'Transpose', [y], { perm: attr.ints(back) });
  }
  const axes = { axes: attr.ints([node.dim]), keepdims: attr.i(1) };
  const mean = g.op(`${c.name}/mean`, 'ReduceMean', [c.x], axes);
  const centered = g.op(`${c.name}/centered`, 'Sub', [c.x, mean]);
  const square = g.op(`${c.name}/square`, 'Mul', [centered, centered]);
  const variance = g.op(`${c.name}/variance`, 'ReduceMean', [square], axes);
  const shifted = g.op(`${c.name}/shifted`, 'Add', [variance, g.scalar(`${c.name}/eps`, node.eps)]);
  const std = g.op(`${c.name}/std`, 'Sqrt', [shifted]);
  if (!node.affine) return g.op(c.name, 'Div', [centered, std]);
  const normalized = g.op(`${c.name}/normalized`, 'Div', [centered, std]);
  // [F] broadcasts over the last axis; another axis needs it as [F, 1, ...].
  const broadcast = (param: 'weight' | 'bias'): string =>
    last
      ? c.weight(param)
      : g.op(`${c.name}/${param}_shaped`, 'Reshape', [
          c.weight(param),
          g.ints(`${c.name}/${param}_shape`, [f, ...Array.from({ length: rank - 1 - node.dim }, () => 1)]),
        ]);
  const scaled = g.op(`${c.name}/scaled`, 'Mul', [normalized, broadcast('weight')]);
  return g.op(c.name, 'Add', [scaled, broadcast('bias')]);
}

/**
 * nn.MultiheadAttention(batch_first) with query = key = value, in eval mode: the input projection of the tokens
 * [N, T, E] (in_proj_weight [3E, E] as stored), split into q, k, v, each [N, heads, T, d]; q / sqrt(d) times k
 * transposed, a softmax over the keys, times v; the heads joined back to [N, T, E] and the output projection.
 */
function attentionOps(node: NodeOfOp<'attention'>, c: OnnxContext): string {
  const g = c.g;
  const [tokens = 1, e = 1] = node.inputShapes[0] ?? [];
  const h = node.heads;
  const d = e / h;
  const qkv = matmulLinear(
    c,
    `${c.name}/in_proj`,
    c.x,
    'in_proj_weight',
    node.bias ? 'in_proj_bias' : undefined,
  );
  const [q, k, v] = g.opMulti(
    `${c.name}/split`,
    'Split',
    [qkv, g.ints(`${c.name}/split_sizes`, [e, e, e])],
    3,
    {
      axis: attr.i(2),
    },
  );
  if (q === undefined || k === undefined || v === undefined)
    throw new Error('ONNX export: Split gave no 3 outputs');
  const heads = (x: string, role: string, perm: readonly number[]): string =>
    g.op(`${c.name}/${role}_heads`, 'Transpose', [reshape(c, `${c.name}/${role}`, x, [tokens, h, d])], {
      perm: attr.ints(perm),
    });
  const query = g.op(`${c.name}/q_scaled`, 'Div', [
    heads(q, 'q', [0, 2, 1, 3]),
    g.scalar(`${c.name}/sqrt_d`, Math.sqrt(d)),
  ]);
  // k as [N, heads, d, T]: the scores are q @ k^T.
  const scores = g.op(`${c.name}/scores`, 'MatMul', [query, heads(k, 'k', [0, 2, 3, 1])]);
  const weights = g.op(`${c.name}/softmax`, 'Softmax', [scores], { axis: attr.i(-1) });
  const context = g.op(`${c.name}/context`, 'MatMul', [weights, heads(v, 'v', [0, 2, 1, 3])]);
  const merged = g.op(`${c.name}/merge`, 'Transpose', [context], { perm: attr.ints([0, 2, 1, 3]) });
  const joined = reshape(c, `${c.name}/joined`, merged, [tokens, e]);
  return matmulLinear(c, c.name, joined, 'out_proj.weight', node.bias ? 'out_proj.bias' : undefined);
}

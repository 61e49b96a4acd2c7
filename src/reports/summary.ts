/**
 * `netspec summary`: the layer table of a compiled network, in torchsummary's format (byte for byte), in
 * tfjs/Keras conventions, or as JSON. Reads only the IR and returns text; it never prints.
 */
import { numel, type IrNetwork, type IrNode, type IrNodeKind, type Shape } from '../compiler/ir.js';
import { formatFixed, groupThousands, stringifyJson } from './format.js';
import { isHooked, kerasClass, torchClass } from './layer-classes.js';

/** The formats `summary` can produce. */
export type SummaryFormat = 'torchsummary' | 'keras' | 'json';

/** Every summary format, for validating user input. */
export const SUMMARY_FORMATS: readonly SummaryFormat[] = ['torchsummary', 'keras', 'json'];

/** 2^20: torchsummary's and torchstat's "MB" are MiB. */
const MIB = 1024 ** 2;
/** Bytes per number: netspec's tensors are float32, as torchsummary assumes. */
const FLOAT32 = 4;

/** One row of torchsummary's table: a hooked module or a block instance, in the order their forwards end. */
export interface TorchsummaryRow {
  /** torchsummary's key: class name and 1-based row number (`Conv2d-1`, `ResBlock-9`). */
  readonly name: string;
  /** The IR node or block instance path. */
  readonly path: string;
  readonly kind: IrNodeKind | 'block';
  readonly outputShape: Shape;
  /** The module's own weight and bias (a block's row has none of its own). */
  readonly params: number;
}

/** torchsummary's totals; sizes are in bytes (torchsummary prints them in MiB). */
export interface TorchsummaryTotals {
  readonly totalParams: number;
  readonly trainableParams: number;
  readonly nonTrainableParams: number;
  readonly inputBytes: number;
  readonly forwardBackwardBytes: number;
  readonly paramsBytes: number;
  readonly estimatedTotalBytes: number;
}

function trainableCount(node: IrNode): number {
  return node.params.reduce((n, p) => n + (p.trainable ? numel(p.shape) : 0), 0);
}

/**
 * What torchsummary counts of a module: its own `weight` and `bias` attributes, nothing else (so 0 for
 * nn.MultiheadAttention, whose tensors are in_proj_weight, in_proj_bias and out_proj's).
 */
function torchsummaryCount(node: IrNode): number {
  return node.params.reduce(
    (n, p) => n + (p.trainable && (p.name === 'weight' || p.name === 'bias') ? numel(p.shape) : 0),
    0,
  );
}

function bufferCount(node: IrNode): number {
  return node.params.reduce((n, p) => n + (p.trainable ? 0 : numel(p.shape)), 0);
}

/**
 * The rows torchsummary's forward hooks would record: every hooked node, and each block instance right after
 * the node that produces its output (a hook fires when a module's forward returns, so inner blocks come
 * before outer ones, which is the order of `ir.groups`).
 */
export function torchsummaryRows(ir: IrNetwork): TorchsummaryRow[] {
  const groupsByOutput = new Map<string, IrNetwork['groups'][number][]>();
  for (const group of ir.groups)
    groupsByOutput.set(group.output, [...(groupsByOutput.get(group.output) ?? []), group]);
  const rows: TorchsummaryRow[] = [];
  const add = (cls: string, row: Omit<TorchsummaryRow, 'name'>): void => {
    rows.push({ name: `${cls}-${rows.length + 1}`, ...row });
  };
  for (const node of ir.nodes) {
    const cls = torchClass(node);
    if (cls !== undefined && isHooked(node))
      add(cls, {
        path: node.path,
        kind: node.kind,
        outputShape: node.outputShape,
        params: torchsummaryCount(node),
      });
    for (const group of groupsByOutput.get(node.path) ?? [])
      add(group.block, { path: group.path, kind: 'block', outputShape: group.outputShape, params: 0 });
  }
  return rows;
}

/** torchsummary's totals for the rows of `ir` (batch size -1, float32). */
export function torchsummaryTotals(ir: IrNetwork): TorchsummaryTotals {
  const rows = torchsummaryRows(ir);
  const totalParams = rows.reduce((n, r) => n + r.params, 0);
  const outputs = rows.reduce((n, r) => n + numel(r.outputShape), 0);
  const inputBytes = numel(ir.inputShape) * FLOAT32;
  const forwardBackwardBytes = 2 * outputs * FLOAT32;
  const paramsBytes = totalParams * FLOAT32;
  return {
    totalParams,
    // torchsummary counts a row as trainable when its weight requires grad; netspec's weights always do.
    trainableParams: totalParams,
    nonTrainableParams: 0,
    inputBytes,
    forwardBackwardBytes,
    paramsBytes,
    estimatedTotalBytes: paramsBytes + forwardBackwardBytes + inputBytes,
  };
}

/** Python's `str(list)` of a torchsummary output shape: `[-1, 64, 16, 16]`. */
function torchShape(shape: Shape): string {
  return `[${[-1, ...shape].join(', ')}]`;
}

function torchsummaryLine(name: string, shape: string, params: string): string {
  return `${name.padStart(20)}  ${shape.padStart(25)} ${params.padStart(15)}`;
}

/** torchsummary's table, exactly as `torchsummary.summary(model, input_size)` prints it. */
export function torchsummaryTable(ir: IrNetwork): string {
  const rows = torchsummaryRows(ir);
  const t = torchsummaryTotals(ir);
  const dashes = '-'.repeat(64);
  const equals = '='.repeat(64);
  // torchsummary divides each size by 1024**2 separately and adds the quotients; so do we, for equal rounding.
  const inputMiB = t.inputBytes / MIB;
  const forwardMiB = t.forwardBackwardBytes / MIB;
  const paramsMiB = t.paramsBytes / MIB;
  const lines = [
    dashes,
    torchsummaryLine('Layer (type)', 'Output Shape', 'Param #'),
    equals,
    ...rows.map((r) => torchsummaryLine(r.name, torchShape(r.outputShape), groupThousands(r.params))),
    equals,
    `Total params: ${groupThousands(t.totalParams)}`,
    `Trainable params: ${groupThousands(t.trainableParams)}`,
    `Non-trainable params: ${groupThousands(t.nonTrainableParams)}`,
    dashes,
    `Input size (MB): ${formatFixed(inputMiB, 2)}`,
    `Forward/backward pass size (MB): ${formatFixed(forwardMiB, 2)}`,
    `Params size (MB): ${formatFixed(paramsMiB, 2)}`,
    `Estimated Total Size (MB): ${formatFixed(paramsMiB + forwardMiB + inputMiB, 2)}`,
    dashes,
  ];
  return lines.join('\n') + '\n';
}

/** A note on the trainable parameters torchsummary does not count (attention's), when there are any. */
function uncounted(ir: IrNetwork): string[] {
  const missed = ir.nodes
    .filter(isHooked)
    .reduce((n, node) => n + trainableCount(node) - torchsummaryCount(node), 0);
  if (missed === 0) return [];
  const total = ir.nodes.reduce((n, node) => n + trainableCount(node), 0);
  return [
    `- ${groupThousands(missed)} trainable parameters are not in Total params: nn.MultiheadAttention keeps its tensors as`,
    `  in_proj_weight, in_proj_bias and out_proj, which torchsummary does not count (the network has ${groupThousands(total)}).`,
  ];
}

function torchsummaryText(ir: IrNetwork): string {
  const hidden = ir.nodes.filter((n) => !isHooked(n)).length;
  const buffers = ir.nodes.reduce((n, node) => n + bufferCount(node), 0);
  const notes = [
    'Notes (netspec):',
    '- "MB" above is MiB (2^20 bytes), at 4 bytes per number (float32), as torchsummary computes it.',
    '- Param # counts trainable parameters only (weight and bias). BatchNorm running statistics are buffers and',
    `  are not counted (${groupThousands(buffers)} here; \`netspec summary --format keras\` counts them).`,
    "- Forward/backward pass size is torchsummary's estimate, 2 x the sum of the output sizes of all rows (the",
    '  factor 2 for gradients); it is not a measurement.',
    "- Rows are the modules PyTorch's forward hooks see. Activations and merges that a block applies with",
    `  torch.nn.functional have no row (${hidden} layers here); a block's row has 0 params because torchsummary`,
    "  counts only a module's own weight and bias.",
    ...uncounted(ir),
  ];
  return `${torchsummaryTable(ir)}\n${notes.join('\n')}\n`;
}

/** A shape in tfjs's NHWC convention with a null batch: [C, H, W] → [null, H, W, C]. */
function kerasShape(shape: Shape): string {
  const nhwc = shape.length === 3 ? [shape[1], shape[2], shape[0]] : [...shape];
  return JSON.stringify([null, ...nhwc]);
}

/** One Keras row: name (type), input shape, output shape, param #, inputs. */
type KerasRow = readonly [string, string, string, string, readonly string[]];

/** The tfjs `model.summary()` layout, with columns widened instead of truncated when a cell is too long. */
function kerasText(ir: IrNetwork): string {
  // tfjs treats a model as sequential when each layer reads exactly the layer before it.
  const sequential = ir.nodes.every(
    (n, i) => n.inputs.length === 1 && n.inputs[0] === (i === 0 ? 'input' : ir.nodes[i - 1]?.path),
  );
  const shapeOf = new Map<string, Shape>([['input', ir.inputShape]]);
  for (const n of ir.nodes) shapeOf.set(n.path, n.outputShape);
  const inputShapes = (node: IrNode): string => {
    const shapes = node.inputs.map((i) => kerasShape(shapeOf.get(i) ?? []));
    return shapes.length === 1 ? (shapes[0] ?? '') : `[${shapes.join(',')}]`;
  };
  const rows: KerasRow[] = [
    ['input (InputLayer)', `[${kerasShape(ir.inputShape)}]`, kerasShape(ir.inputShape), '0', []],
    ...ir.nodes.map((n): KerasRow => [
      `${n.path} (${kerasClass(n)})`,
      inputShapes(n),
      kerasShape(n.outputShape),
      String(trainableCount(n) + bufferCount(n)),
      n.inputs.map((i) => `${i}[0][0]`),
    ]),
  ];
  const headers = ['Layer (type)', 'Input Shape', 'Output shape', 'Param #', 'Receives inputs'];
  const lineLength = sequential ? 90 : 115;
  const relative = sequential ? [0.32, 0.61, 0.89, 1] : [0.24, 0.48, 0.7, 0.8, 1];
  const columns = relative.length;
  const ends = relative.map((p) => Math.floor(lineLength * p));
  const cellsOf = (r: KerasRow, c: number): readonly string[] => (c === 4 ? r[4] : [r[c] as string]);
  // Column c ends at tfjs's position unless a cell needs more room (tfjs would cut it off).
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    const base = (ends[c] ?? 0) - (ends[c - 1] ?? 0);
    const longest = Math.max(
      headers[c]?.length ?? 0,
      ...rows.flatMap((r) => cellsOf(r, c).map((s) => s.length)),
    );
    widths.push(Math.max(base, longest + (c === columns - 1 ? 0 : 1)));
  }
  const width = widths.reduce((a, b) => a + b, 0);
  const line = (fields: readonly string[]): string =>
    fields
      .slice(0, columns)
      .map((f, c) => f.padEnd(widths[c] ?? 0))
      .join('')
      .trimEnd();
  const out = ['_'.repeat(width), line(headers), '='.repeat(width)];
  rows.forEach((r, i) => {
    const inputs = r[4];
    out.push(line([r[0], r[1], r[2], r[3], inputs[0] ?? '']));
    if (!sequential) for (const extra of inputs.slice(1)) out.push(line(['', '', '', '', extra]));
    out.push((i === rows.length - 1 ? '=' : '_').repeat(width));
  });
  const trainable = ir.nodes.reduce((n, node) => n + trainableCount(node), 0);
  const buffers = ir.nodes.reduce((n, node) => n + bufferCount(node), 0);
  out.push(
    `Total params: ${groupThousands(trainable + buffers)}`,
    `Trainable params: ${groupThousands(trainable)}`,
    `Non-trainable params: ${groupThousands(buffers)}`,
    '_'.repeat(width),
  );
  const notes = [
    'Notes (netspec):',
    "- Shapes are NHWC ([batch, height, width, channels], batch null), as tfjs stores tensors; netspec's other",
    "  reports (torchsummary, torchstat, json) use PyTorch's NCHW.",
    '- Param # counts every weight tfjs keeps: a BatchNormalization layer has gamma and beta (trainable) and its',
    '  moving mean and variance (non-trainable), 4 x channels in all. torchsummary counts only the trainable ones.',
    '- One row per IR layer, including the activations and merges inside blocks that torchsummary does not list.',
    "- global_avgpool keeps the 1x1 spatial dimensions, as PyTorch's AdaptiveAvgPool2d(1) does.",
  ];
  return `${out.join('\n')}\n\n${notes.join('\n')}\n`;
}

/** One row of the JSON summary. */
interface JsonSummaryRow {
  readonly path: string;
  readonly kind: IrNodeKind | 'block';
  readonly torchClass: string | null;
  readonly functional: boolean;
  readonly outputShape: Shape;
  readonly trainableParams: number;
  readonly bufferParams: number;
  readonly torchsummaryName: string | null;
}

/** The JSON document of `summary(ir, 'json')`, with keys in a fixed order. */
export function summaryJson(ir: IrNetwork): unknown {
  const tsRows = torchsummaryRows(ir);
  const tsName = new Map(tsRows.map((r) => [r.path, r.name]));
  const groupsByOutput = new Map<string, IrNetwork['groups'][number][]>();
  for (const group of ir.groups)
    groupsByOutput.set(group.output, [...(groupsByOutput.get(group.output) ?? []), group]);
  const rows: JsonSummaryRow[] = [];
  for (const node of ir.nodes) {
    rows.push({
      path: node.path,
      kind: node.kind,
      torchClass: torchClass(node) ?? null,
      functional: node.functional,
      outputShape: node.outputShape,
      trainableParams: trainableCount(node),
      bufferParams: bufferCount(node),
      torchsummaryName: tsName.get(node.path) ?? null,
    });
    for (const group of groupsByOutput.get(node.path) ?? [])
      rows.push({
        path: group.path,
        kind: 'block',
        torchClass: group.block,
        functional: false,
        outputShape: group.outputShape,
        trainableParams: 0,
        bufferParams: 0,
        torchsummaryName: tsName.get(group.path) ?? null,
      });
  }
  const trainable = ir.nodes.reduce((n, node) => n + trainableCount(node), 0);
  const buffers = ir.nodes.reduce((n, node) => n + bufferCount(node), 0);
  const t = torchsummaryTotals(ir);
  return {
    network: ir.name,
    inputShape: ir.inputShape,
    conventions: {
      shapes:
        'per sample, without the batch dimension, in PyTorch order: [C, H, W] for feature maps (NCHW without N), [F] for flat features',
      trainableParams: 'parameters that training updates: weights and biases (PyTorch parameters)',
      bufferParams:
        'tensors that are saved but not trained: BatchNorm running mean and variance (PyTorch buffers)',
      rows: "every IR layer in execution order, plus one 'block' row per block instance right after the layer that produces its output",
      functional:
        "true for layers applied with torch.nn.functional inside a block's forward; PyTorch's hooks (torchsummary, torchstat) do not see them",
      torchsummary:
        "torchsummary's totals: params are trainable only; sizes in bytes of float32 with batch size 1; forward/backward is 2 x the sum of the row outputs",
    },
    rows,
    totals: {
      trainableParams: trainable,
      bufferParams: buffers,
      allParams: trainable + buffers,
    },
    torchsummary: {
      rows: tsRows.length,
      totalParams: t.totalParams,
      trainableParams: t.trainableParams,
      nonTrainableParams: t.nonTrainableParams,
      inputBytes: t.inputBytes,
      forwardBackwardBytes: t.forwardBackwardBytes,
      paramsBytes: t.paramsBytes,
      estimatedTotalBytes: t.estimatedTotalBytes,
    },
  };
}

/** The summary of `ir` in the given format, as text ending in a newline. */
export function summary(ir: IrNetwork, format: SummaryFormat = 'torchsummary'): string {
  switch (format) {
    case 'torchsummary':
      return torchsummaryText(ir);
    case 'keras':
      return kerasText(ir);
    case 'json':
      return stringifyJson(summaryJson(ir));
  }
}

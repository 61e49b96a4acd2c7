/**
 * `netspec stat`: per-layer parameters, compute and memory of a compiled network, either as torchstat's table
 * (its formulas, including its quirks, and pandas' layout) or as JSON with honestly labelled conventions.
 * Reads only the IR and returns text; it never prints.
 */
import { numel, type IrNetwork, type IrNode, type Shape } from '../compiler/ir.js';
import { byOp, type NodeOfOp, type OpKind } from '../compiler/ops/index.js';
import {
  formatFixed,
  groupFloat,
  groupThousands,
  pandasFloatColumn,
  pandasObjectColumn,
  pandasTable,
  pythonFloatRepr,
  stringifyJson,
} from './format.js';
import { isHooked, torchClass } from './layer-classes.js';

/** The formats `stat` can produce. */
export type StatFormat = 'torchstat' | 'json';

/** Every stat format, for validating user input. */
export const STAT_FORMATS: readonly StatFormat[] = ['torchstat', 'json'];

const MIB = 1024 ** 2;
const FLOAT32 = 4;

const inputOf = (node: IrNode): Shape => node.inputShapes[0] ?? [];
const trainable = (node: IrNode): number =>
  node.params.reduce((n, p) => n + (p.trainable ? numel(p.shape) : 0), 0);
const allParams = (node: IrNode): number => node.params.reduce((n, p) => n + numel(p.shape), 0);

/**
 * torchstat's three measures of one module, in elements (memory) or operations; undefined where torchstat
 * prints "is not supported!" and records 0.
 */
interface TorchstatMeasures {
  readonly madd: number | undefined;
  readonly flops: number | undefined;
  /** Elements read and written; torchstat multiplies them by the item size (4). */
  readonly memory: readonly [number, number] | undefined;
}

const UNSUPPORTED: TorchstatMeasures = { madd: undefined, flops: undefined, memory: undefined };

/** Conventional compute of one layer per sample: multiply-accumulates and floating-point operations. */
interface Compute {
  readonly macs: number;
  readonly flops: number;
}

/** A layer's measures: torchstat's (its formulas, quirks included) and netspec's own (see CONVENTIONS). */
interface Measures {
  readonly torchstat: TorchstatMeasures;
  readonly compute: Compute;
}

const elementwise = (count: number): Compute => ({ macs: 0, flops: count });

/** An op torchstat does not support, with netspec's element-wise count of `count(node)` operations. */
const unsupported =
  (count: (node: IrNode) => number) =>
  (node: IrNode): Measures => ({ torchstat: UNSUPPORTED, compute: elementwise(count(node)) });

/**
 * An activation: one operation per element. torchstat 0.0.7 counts MAdd for ReLU (and ReLU6), Flops and memory
 * for ReLU, ReLU6, ELU and LeakyReLU, and supports nothing else.
 */
const activation =
  (torchstat: { madd: boolean; flopsAndMemory: boolean }) =>
  (node: IrNode): Measures => {
    const count = numel(inputOf(node));
    return {
      torchstat: {
        madd: torchstat.madd ? count : undefined,
        flops: torchstat.flopsAndMemory ? count : undefined,
        memory: torchstat.flopsAndMemory ? [count, count] : undefined,
      },
      compute: elementwise(numel(node.outputShape)),
    };
  };
const countedByTorchstat = activation({ madd: true, flopsAndMemory: true });
const flopsOnlyInTorchstat = activation({ madd: false, flopsAndMemory: true });
const unknownToTorchstat = activation({ madd: false, flopsAndMemory: false });

/**
 * Every op kind's measures: torchstat 0.0.7's formulas (compute_madd.py, compute_flops.py, compute_memory.py) at
 * batch size 1, and netspec's counts. `tsc` names a kind missing here.
 */
const MEASURES: { readonly [K in OpKind]: (node: NodeOfOp<K>) => Measures } = {
  conv: (n) => {
    const [outC = 0, outH = 0, outW = 0] = n.outputShape;
    const inC = n.inChannels;
    const [kh, kw] = n.kernel;
    const kernelMul = kh * kw * Math.floor(inC / n.groups);
    const kernelAdd = kernelMul - 1 + (n.bias ? 1 : 0);
    const perGroup = outH * outW * Math.floor(outC / n.groups);
    // compute_flops uses all input channels per filter whatever `groups` is; torchstat overcounts grouped convs.
    const flops =
      kh * kw * inC * Math.floor(outC / n.groups) * outH * outW + (n.bias ? outC * outH * outW : 0);
    const macs = numel(n.outputShape) * (n.inChannels / n.groups) * n.kernel[0] * n.kernel[1];
    return {
      torchstat: {
        madd: (kernelMul + kernelAdd) * perGroup * n.groups,
        flops,
        memory: [numel(inputOf(n)) + trainable(n), numel(n.outputShape)],
      },
      compute: { macs, flops: 2 * macs },
    };
  },
  batchnorm: (n) => {
    const input = inputOf(n);
    return {
      // torchstat knows BatchNorm2d only; BatchNorm1d (flat features) is "not supported".
      torchstat:
        input.length !== 3
          ? UNSUPPORTED
          : {
              madd: 4 * numel(input),
              flops: numel(input) * (n.affine ? 2 : 1),
              memory: [numel(input) + 2 * n.features, numel(input)],
            },
      compute: { macs: numel(n.outputShape), flops: 2 * numel(n.outputShape) },
    };
  },
  relu: countedByTorchstat,
  relu6: countedByTorchstat,
  leaky_relu: flopsOnlyInTorchstat,
  elu: flopsOnlyInTorchstat,
  selu: unknownToTorchstat,
  gelu: unknownToTorchstat,
  sigmoid: unknownToTorchstat,
  tanh: unknownToTorchstat,
  softplus: unknownToTorchstat,
  silu: unknownToTorchstat,
  hardswish: unknownToTorchstat,
  hardsigmoid: unknownToTorchstat,
  maxpool: (n) => ({
    torchstat: {
      madd: (n.kernel[0] * n.kernel[1] - 1) * numel(n.outputShape),
      flops: numel(inputOf(n)),
      memory: [numel(inputOf(n)), numel(n.outputShape)],
    },
    compute: elementwise((n.kernel[0] * n.kernel[1] - 1) * numel(n.outputShape)),
  }),
  avgpool: (n) => ({
    torchstat: {
      madd: n.kernel[0] * n.kernel[1] * numel(n.outputShape),
      flops: numel(inputOf(n)),
      memory: [numel(inputOf(n)), numel(n.outputShape)],
    },
    compute: elementwise(n.kernel[0] * n.kernel[1] * numel(n.outputShape)),
  }),
  global_avgpool: unsupported((n) => numel(inputOf(n))),
  // Each output element adds its bin and divides once: the bin's size in operations, as avgpool's k_h*k_w.
  adaptive_avgpool: (n) => {
    const [channels = 0, h = 0, w = 0] = inputOf(n);
    return unsupported(() => channels * binSizes(h, n.out[0]) * binSizes(w, n.out[1]))(n);
  },
  // Views and copies: no arithmetic.
  chunk: unsupported(() => 0),
  slice: unsupported(() => 0),
  channel_shuffle: unsupported(() => 0),
  // The identity in inference, as dropout.
  stochastic_depth: unsupported(() => 0),
  flatten: unsupported(() => 0),
  linear: (n) => ({
    // torchstat's Linear formulas assert a 2-D input ([N, F]); on tokens they would stop, recorded here as unsupported.
    torchstat:
      inputOf(n).length !== 1
        ? UNSUPPORTED
        : {
            madd: n.outFeatures * (2 * n.inFeatures - 1),
            flops: n.inFeatures * n.outFeatures,
            memory: [n.inFeatures + trainable(n), n.outFeatures],
          },
    compute: {
      macs: tokensOf(n) * n.inFeatures * n.outFeatures,
      flops: 2 * tokensOf(n) * n.inFeatures * n.outFeatures,
    },
  }),
  dropout: unsupported(() => 0),
  // torchstat has no LayerNorm. fvcore's count: 5 operations per element with the affine scale and shift, else 4.
  layernorm: (n) => unsupported(() => numel(n.outputShape) * (n.affine ? 5 : 4))(n),
  // A copy of the weight per sample, and views: no arithmetic.
  parameter: unsupported(() => 0),
  permute: unsupported(() => 0),
  reshape: unsupported(() => 0),
  select: unsupported(() => 0),
  attention: (n) => {
    // Per sample with T tokens of E: the q, k, v projections 3*T*E*E, the scores T*T*E (over all heads), their
    // weighted sum of values T*T*E, the output projection T*E*E. Softmax, scaling and bias adds not counted.
    const [tokens = 0] = n.outputShape;
    const e = n.embed;
    const macs = 4 * tokens * e * e + 2 * tokens * tokens * e;
    return { torchstat: UNSUPPORTED, compute: { macs, flops: 2 * macs } };
  },
  identity: unsupported(() => 0),
  add: unsupported((n) => (n.inputs.length - 1) * numel(n.outputShape)),
  mul: unsupported((n) => (n.inputs.length - 1) * numel(n.outputShape)),
  // A copy: no arithmetic.
  concat: unsupported(() => 0),
};

/** The summed sizes of AdaptiveAvgPool2d's `out` bins over `size` elements (bins may overlap). */
function binSizes(size: number, out: number): number {
  let total = 0;
  for (let i = 0; i < out; i++) total += Math.ceil(((i + 1) * size) / out) - Math.floor((i * size) / out);
  return total;
}

/** How many rows a linear layer maps: 1 for flat features, T for tokens [T, F]. */
function tokensOf(n: NodeOfOp<'linear'>): number {
  const input = inputOf(n);
  return input.length === 2 ? (input[0] ?? 1) : 1;
}

const measuresOf = (node: IrNode): Measures => byOp(MEASURES, node, undefined);

/** One row of torchstat's table: a module its hooks see, with its columns (memory in bytes, as printed). */
export interface TorchstatRow {
  readonly path: string;
  readonly torchClass: string;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly params: number;
  /** Output size in MiB, stored as float32 as torchstat does. */
  readonly memoryMiB: number;
  readonly madd: number;
  readonly flops: number;
  readonly memReadBytes: number;
  readonly memWriteBytes: number;
  /** Measures torchstat does not support for this class (recorded as 0): 'MAdd', 'Flops', 'Memory'. */
  readonly notSupported: readonly ('MAdd' | 'Flops' | 'Memory')[];
}

function torchstatRow(node: IrNode, cls: string): TorchstatRow {
  const m = measuresOf(node).torchstat;
  const notSupported: ('MAdd' | 'Flops' | 'Memory')[] = [];
  if (m.madd === undefined) notSupported.push('MAdd');
  if (m.flops === undefined) notSupported.push('Flops');
  if (m.memory === undefined) notSupported.push('Memory');
  return {
    path: node.path,
    torchClass: cls,
    inputShape: inputOf(node),
    outputShape: node.outputShape,
    params: trainable(node),
    memoryMiB: Math.fround((numel(node.outputShape) * FLOAT32) / MIB),
    madd: m.madd ?? 0,
    flops: m.flops ?? 0,
    memReadBytes: (m.memory?.[0] ?? 0) * FLOAT32,
    memWriteBytes: (m.memory?.[1] ?? 0) * FLOAT32,
    notSupported,
  };
}

/** The rows torchstat lists: every module its hooks see (non-functional nodes), in IR order. */
export function torchstatRows(ir: IrNetwork): TorchstatRow[] {
  return ir.nodes.flatMap((node) => {
    const cls = torchClass(node);
    return cls !== undefined && isHooked(node) ? [torchstatRow(node, cls)] : [];
  });
}

/** torchstat's totals; `totalRow*` are what its total row shows for MemRead/MemWrite (the last row's values). */
export interface TorchstatTotals {
  readonly params: number;
  readonly memoryMiB: number;
  readonly madd: number;
  readonly flops: number;
  readonly memReadBytes: number;
  readonly memWriteBytes: number;
  readonly memRWBytes: number;
  readonly totalRowMemReadBytes: number;
  readonly totalRowMemWriteBytes: number;
}

/** Sums torchstat's columns as its reporter does. */
export function torchstatTotals(rows: readonly TorchstatRow[]): TorchstatTotals {
  const sum = (f: (r: TorchstatRow) => number): number => rows.reduce((n, r) => n + f(r), 0);
  const last = rows[rows.length - 1];
  return {
    params: sum((r) => r.params),
    // pandas sums the float32 column in float32.
    memoryMiB: Math.fround(sum((r) => r.memoryMiB)),
    madd: sum((r) => r.madd),
    flops: sum((r) => r.flops),
    memReadBytes: sum((r) => r.memReadBytes),
    memWriteBytes: sum((r) => r.memWriteBytes),
    memRWBytes: sum((r) => r.memReadBytes + r.memWriteBytes),
    totalRowMemReadBytes: last?.memReadBytes ?? 0,
    totalRowMemWriteBytes: last?.memWriteBytes ?? 0,
  };
}

/** torchstat's `round_value`: K/M/G/T with `str(round(x, 2))`, powers of 1000 (or 1024 when `binary`). */
export function torchstatRoundValue(value: number, binary = false): string {
  const divisor = binary ? 1024 : 1000;
  for (const [power, suffix] of [
    [4, 'T'],
    [3, 'G'],
    [2, 'M'],
    [1, 'K'],
  ] as const) {
    const unit = divisor ** power;
    if (Math.floor(value / unit) > 0) return pythonFloatRepr(Number(formatFixed(value / unit, 2))) + suffix;
  }
  return String(value);
}

function shapeCell(shape: Shape): string {
  return shape.map((d) => String(d).padStart(3)).join(' ');
}

/**
 * torchstat's table without duration[%], and its footer. torchstat also prints a "[MAdd]: Flatten is not
 * supported!" line per row and measure before the table; those are progress chatter, not part of the table, so
 * they are said once per kind in the notes instead (see `notSupportedNotes`).
 */
export function torchstatTable(ir: IrNetwork): string {
  const rows = torchstatRows(ir);
  const t = torchstatTotals(rows);
  const index = [...rows.map((_, i) => String(i)), 'total'];
  const float = (values: readonly number[], total: number): string[] => pandasFloatColumn([...values, total]);
  const text = (values: readonly string[], total: string): string[] => pandasObjectColumn([...values, total]);
  const table = pandasTable(index, [
    {
      header: 'module name',
      cells: text(
        rows.map((r) => r.path),
        ' ',
      ),
    },
    {
      header: 'input shape',
      cells: text(
        rows.map((r) => shapeCell(r.inputShape)),
        ' ',
      ),
    },
    {
      header: 'output shape',
      cells: text(
        rows.map((r) => shapeCell(r.outputShape)),
        ' ',
      ),
    },
    {
      header: 'params',
      numeric: true,
      cells: float(
        rows.map((r) => r.params),
        t.params,
      ),
    },
    {
      header: 'memory(MB)',
      cells: text(
        rows.map((r) => formatFixed(r.memoryMiB, 2)),
        formatFixed(t.memoryMiB, 2),
      ),
    },
    // After the total row is appended the columns are float64, hence `1,605,632.0`.
    {
      header: 'MAdd',
      cells: text(
        rows.map((r) => groupFloat(r.madd)),
        groupFloat(t.madd),
      ),
    },
    {
      header: 'Flops',
      cells: text(
        rows.map((r) => groupFloat(r.flops)),
        groupFloat(t.flops),
      ),
    },
    {
      header: 'MemRead(B)',
      numeric: true,
      cells: float(
        rows.map((r) => r.memReadBytes),
        t.totalRowMemReadBytes,
      ),
    },
    {
      header: 'MemWrite(B)',
      numeric: true,
      cells: float(
        rows.map((r) => r.memWriteBytes),
        t.totalRowMemWriteBytes,
      ),
    },
    {
      header: 'MemR+W(B)',
      numeric: true,
      cells: float(
        rows.map((r) => r.memReadBytes + r.memWriteBytes),
        t.memRWBytes,
      ),
    },
  ]);
  const width = table[0]?.length ?? 0;
  const lines = [
    ...table,
    '='.repeat(width),
    `Total params: ${groupThousands(t.params)}`,
    '-'.repeat(width),
    `Total memory: ${formatFixed(t.memoryMiB, 2)}MB`,
    `Total MAdd: ${torchstatRoundValue(t.madd)}MAdd`,
    `Total Flops: ${torchstatRoundValue(t.flops)}Flops`,
    `Total MemR+W: ${torchstatRoundValue(t.memRWBytes, true)}B`,
  ];
  return lines.join('\n') + '\n';
}

function torchstatText(ir: IrNetwork): string {
  const rows = torchstatRows(ir);
  const t = torchstatTotals(rows);
  const hidden = ir.nodes.filter((n) => !isHooked(n)).length;
  const notes = [
    'Notes (netspec):',
    '- The duration[%] column is left out: it is a timing measurement of one forward pass and cannot be derived',
    '  from the network.',
    '- torchstat\'s "Flops" column counts multiply-accumulates (MACs); its "MAdd" counts the multiplications and',
    '  the additions, about 2 x Flops. `netspec stat --format json` gives MACs and FLOPs (= 2 x MACs for conv,',
    '  linear and batchnorm).',
    '- "MB" is MiB (2^20 bytes); memory(MB) is the size of each layer\'s output; float32, batch size 1.',
    "- The total row's MemRead(B) and MemWrite(B) repeat the last row's values, a torchstat quirk kept for",
    `  compatibility. The true sums are MemRead ${groupThousands(t.memReadBytes)} B and MemWrite ${groupThousands(t.memWriteBytes)} B;`,
    '  MemR+W(B) and Total MemR+W are true sums.',
    ...notSupportedNotes(rows),
    ...(ir.nodes.some((n) => n.kind === 'linear' && (n.inputShapes[0]?.length ?? 0) !== 1)
      ? [
          "- torchstat's Linear formulas assert a 2-D input: on tokens [N, T, F] torchstat stops with an AssertionError;",
          '  this table records those Linear rows as not supported instead.',
        ]
      : []),
    "- Rows are netspec's layers in execution order, which is also the registration order of netspec's generated",
    "  PyTorch module, named by layer path. torchstat run on other code lists modules in that code's",
    '  registration order (the NNDL seed registers conv1, conv2, shortcut, bn1, bn2, bn3 in each block).',
    ...(hidden
      ? [
          `- ${hidden} layers applied with torch.nn.functional inside blocks (activations, merges) have no row: torchstat`,
          '  sees only modules.',
        ]
      : []),
  ];
  return `${torchstatTable(ir)}\n${notes.join('\n')}\n`;
}

/**
 * One note per torchstat class (the "not supported" in torchstat's words; the table holds 0 there) with measures torchstat does not support, in place of torchstat's own
 * "[MAdd]: Flatten is not supported!" lines (one per row and measure, printed before its table).
 */
function notSupportedNotes(rows: readonly TorchstatRow[]): string[] {
  const byClass = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.notSupported.length === 0) continue;
    const seen = byClass.get(r.torchClass) ?? new Set<string>();
    for (const m of r.notSupported) seen.add(m);
    byClass.set(r.torchClass, seen);
  }
  const notes: string[] = [];
  for (const [cls, measures] of byClass) {
    // torchstat's order: MAdd, Flops, Memory.
    const names = (['MAdd', 'Flops', 'Memory'] as const).filter((m) => measures.has(m));
    const list =
      names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
    notes.push(`- torchstat counts no ${list} for ${cls}; netspec shows 0 as torchstat does.`);
  }
  return notes;
}

/** What each number of the JSON report means. */
const CONVENTIONS = {
  batch: 'all counts are per sample (batch size 1); tensors are float32 (4 bytes)',
  shapes: 'per sample, without the batch dimension, in PyTorch order: [C, H, W] (NCHW without N) or [F]',
  params: 'trainable parameters (weights and biases); buffers are BatchNorm running statistics',
  macs: 'multiply-accumulates: conv (C_in/groups)*k_h*k_w per output element, linear in*out, batchnorm 1 per element (inference: scale and shift folded); 0 for every other layer',
  flops:
    'floating-point operations: 2 x MACs for conv, linear and batchnorm (bias adds not counted separately); element-wise activations 1 per element; maxpool k_h*k_w-1 comparisons and avgpool k_h*k_w operations per output element; global_avgpool 1 per input element; add (inputs-1) per element; flatten, dropout (inference) and identity 0',
  memory:
    'bytes: outputBytes is the output tensor; readBytes is the inputs plus all parameters and buffers; writeBytes is the output',
  torchstat:
    "torchstat 0.0.7's columns for the layers its hooks see (null for layers applied with torch.nn.functional): madd counts multiplications and additions, flops counts multiply-accumulates, memoryMiB is the output in MiB, memRead/memWrite in bytes; a measure torchstat does not support is 0 and listed in notSupported",
};

/**
 * The counts of the kinds for tokens, stated where a network has them (so other networks' reports keep their
 * conventions as they were).
 */
function tokenConventions(ir: IrNetwork): Record<string, string> {
  const kinds = new Set(ir.nodes.map((n) => n.kind));
  const tokens = ir.nodes.some((n) => n.kind === 'linear' && (n.inputShapes[0]?.length ?? 0) === 2);
  return {
    ...(tokens ? { linearOnTokens: 'linear on tokens [T, F]: T*in*out MACs, FLOPs 2 x MACs' } : {}),
    ...(kinds.has('attention')
      ? {
          attention:
            'attention on T tokens of E: MACs 4*T*E^2 (the q, k, v and output projections) + 2*T^2*E (the scores and their weighted sum of values, over all heads); FLOPs 2 x MACs; softmax, scaling and bias adds not counted',
        }
      : {}),
    ...(kinds.has('layernorm')
      ? { layernorm: "layernorm: 0 MACs, FLOPs 5 per element with affine, 4 without (fvcore's count)" }
      : {}),
  };
}

/** The JSON document of `stat(ir, 'json')`, with keys in a fixed order. */
export function statJson(ir: IrNetwork): unknown {
  const tsRows = torchstatRows(ir);
  const tsByPath = new Map(tsRows.map((r) => [r.path, r]));
  const layers = ir.nodes.map((node) => {
    const c = measuresOf(node).compute;
    const ts = tsByPath.get(node.path);
    const outputBytes = numel(node.outputShape) * FLOAT32;
    return {
      path: node.path,
      kind: node.kind,
      torchClass: torchClass(node) ?? null,
      functional: node.functional,
      inputShapes: node.inputShapes,
      outputShape: node.outputShape,
      params: trainable(node),
      buffers: allParams(node) - trainable(node),
      macs: c.macs,
      flops: c.flops,
      outputBytes,
      readBytes: (node.inputShapes.reduce((n, s) => n + numel(s), 0) + allParams(node)) * FLOAT32,
      writeBytes: outputBytes,
      torchstat: ts
        ? {
            params: ts.params,
            memoryMiB: ts.memoryMiB,
            madd: ts.madd,
            flops: ts.flops,
            memReadBytes: ts.memReadBytes,
            memWriteBytes: ts.memWriteBytes,
            memRWBytes: ts.memReadBytes + ts.memWriteBytes,
            notSupported: ts.notSupported,
          }
        : null,
    };
  });
  const sum = (f: (l: (typeof layers)[number]) => number): number => layers.reduce((n, l) => n + f(l), 0);
  const t = torchstatTotals(tsRows);
  return {
    network: ir.name,
    inputShape: ir.inputShape,
    conventions: { ...CONVENTIONS, ...tokenConventions(ir) },
    layers,
    totals: {
      params: sum((l) => l.params),
      buffers: sum((l) => l.buffers),
      macs: sum((l) => l.macs),
      flops: sum((l) => l.flops),
      outputBytes: sum((l) => l.outputBytes),
      readBytes: sum((l) => l.readBytes),
      writeBytes: sum((l) => l.writeBytes),
    },
    torchstat: {
      rows: tsRows.length,
      params: t.params,
      memoryMiB: t.memoryMiB,
      madd: t.madd,
      flops: t.flops,
      memReadBytes: t.memReadBytes,
      memWriteBytes: t.memWriteBytes,
      memRWBytes: t.memRWBytes,
      totalRowMemReadBytes: t.totalRowMemReadBytes,
      totalRowMemWriteBytes: t.totalRowMemWriteBytes,
    },
  };
}

/** The per-layer statistics of `ir` in the given format, as text ending in a newline. */
export function stat(ir: IrNetwork, format: StatFormat = 'torchstat'): string {
  switch (format) {
    case 'torchstat':
      return torchstatText(ir);
    case 'json':
      return stringifyJson(statJson(ir));
  }
}

/**
 * PyTorch target: the IR as a Python `nn.Module`. Modules become `nn.Sequential`s, each block instance an
 * instance of a generated block class (one class per distinct structure), registered in execution order, so
 * the state-dict names are netspec layer paths and hook-based tools see what netspec's reports show.
 */
import { loadTemplate, readPackageSource } from '../../../templates.js';
import type { IrGroup, IrNetwork, IrNode } from '../../ir.js';
import { opKindOf, type LayerKind, type MergeKind, type NodeOfOp } from '../../ops/index.js';

/** Python keywords and nn.Module attributes a layer name must not shadow as an attribute. */
const py = (s: string): string => JSON.stringify(s);

/** A Python number literal for a finite JS number. */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`internal: non-finite number ${value} in IR`);
  return String(value);
}

const pair = (p: readonly [number, number]): string => `(${num(p[0])}, ${num(p[1])})`;

const bool = (b: boolean): string => (b ? 'True' : 'False');

/** A Python tuple literal of ints: `(1, 8)`, `(8,)`. */
const tuple = (v: readonly number[]): string => `(${v.map(num).join(', ')}${v.length === 1 ? ',' : ''})`;

/** nn.LayerNorm normalizes the last axis; another axis needs a helper (torchvision's LayerNorm2d on channels). */
function layerNormHelper(n: NodeOfOp<'layernorm'>): 'LayerNorm2d' | 'LayerNormDim' | undefined {
  const rank = n.inputShapes[0]?.length ?? 0;
  if (n.dim === rank) return undefined;
  return rank === 3 && n.dim === 1 ? 'LayerNorm2d' : 'LayerNormDim';
}

/** A pooling's ceil_mode argument, written only when set (so other networks' code stays as it was). */
const ceil = (n: { readonly ceilMode?: true }): string => (n.ceilMode ? ', ceil_mode=True' : '');

/** How PyTorch spells a layer: its nn.Module constructor, and its call inside a block's forward when functional. */
interface TorchRow<N> {
  /** The `nn.*(...)` expression of the node as a submodule. */
  readonly module: (node: N) => string;
  /** The functional expression of the node on `args` (only for kinds that are functional inside blocks). */
  readonly functional?: (node: N, args: readonly string[]) => string;
  /** The Python the generated module defines for this kind (PyTorch has no such module), only where it is used. */
  readonly helper?: PythonHelper | ((node: N) => PythonHelper | undefined);
}

/**
 * Modules and functions PyTorch (without torchvision) lacks, as the generated file defines them: the class names
 * (what torchsummary and torchstat show) and their source in templates/helpers/.
 */
const HELPERS = {
  StochasticDepth: 'stochastic-depth.py',
  Chunk: 'chunk.py',
  Slice: 'slice.py',
  ChannelShuffle: 'channel-shuffle.py',
  LayerNorm2d: 'layer-norm-2d.py',
  LayerNormDim: 'layer-norm-dim.py',
  Parameter: 'parameter.py',
  Permute: 'permute.py',
  Reshape: 'reshape.py',
  Select: 'select.py',
  SelfAttention: 'self-attention.py',
} as const;

/** A helper class of the generated module. */
type PythonHelper = keyof typeof HELPERS;

/** How PyTorch spells a merge: an expression of its inputs, never a submodule. */
interface TorchMergeRow<N> {
  readonly functional: (node: N, args: readonly string[]) => string;
}

/** An activation that is the same in both forms: `nn.Name()` and `fn(x)`. */
const plainActivation = (module: string, fn: string): TorchRow<IrNode> => ({
  module: () => `nn.${module}()`,
  functional: (_n, [a = 'x']) => `${fn}(${a})`,
});

/** Every op kind in PyTorch; `tsc` names a kind missing here. */
const TORCH: { readonly [K in LayerKind]: TorchRow<NodeOfOp<K>> } & {
  readonly [K in MergeKind]: TorchMergeRow<NodeOfOp<K>>;
} = {
  conv: {
    module: (n) =>
      `nn.Conv2d(${n.inChannels}, ${n.outChannels}, kernel_size=${pair(n.kernel)}, stride=${pair(n.stride)}, ` +
      `padding=${pair(n.padding)}, dilation=${pair(n.dilation)}, groups=${n.groups}, bias=${bool(n.bias)})`,
  },
  batchnorm: {
    module: (n) =>
      `nn.BatchNorm${n.outputShape.length === 1 ? '1d' : '2d'}(${n.features}, eps=${num(n.eps)}, momentum=${num(n.momentum)}, affine=${bool(n.affine)})`,
  },
  relu: plainActivation('ReLU', 'F.relu'),
  relu6: plainActivation('ReLU6', 'F.relu6'),
  leaky_relu: {
    module: (n) => `nn.LeakyReLU(negative_slope=${num(n.alpha ?? 0.01)})`,
    functional: (n, [a = 'x']) => `F.leaky_relu(${a}, ${num(n.alpha ?? 0.01)})`,
  },
  elu: {
    module: (n) => `nn.ELU(alpha=${num(n.alpha ?? 1)})`,
    functional: (n, [a = 'x']) => `F.elu(${a}, ${num(n.alpha ?? 1)})`,
  },
  selu: plainActivation('SELU', 'F.selu'),
  gelu: plainActivation('GELU', 'F.gelu'),
  sigmoid: plainActivation('Sigmoid', 'torch.sigmoid'),
  tanh: plainActivation('Tanh', 'torch.tanh'),
  softplus: plainActivation('Softplus', 'F.softplus'),
  silu: plainActivation('SiLU', 'F.silu'),
  hardswish: plainActivation('Hardswish', 'F.hardswish'),
  hardsigmoid: plainActivation('Hardsigmoid', 'F.hardsigmoid'),
  maxpool: {
    module: (n) =>
      `nn.MaxPool2d(kernel_size=${pair(n.kernel)}, stride=${pair(n.stride)}, padding=${pair(n.padding)}${ceil(n)})`,
  },
  avgpool: {
    module: (n) =>
      `nn.AvgPool2d(kernel_size=${pair(n.kernel)}, stride=${pair(n.stride)}, padding=${pair(n.padding)}${ceil(n)})`,
  },
  global_avgpool: { module: () => 'nn.AdaptiveAvgPool2d(1)' },
  adaptive_avgpool: { module: (n) => `nn.AdaptiveAvgPool2d(${pair(n.out)})` },
  chunk: {
    module: (n) => `Chunk(${n.chunks}, ${n.index}, dim=${n.dim})`,
    functional: (n, [a = 'x']) => `torch.chunk(${a}, ${n.chunks}, dim=${n.dim})[${n.index}]`,
    helper: 'Chunk',
  },
  slice: {
    module: (n) => `Slice(${n.dim}, ${n.start}, ${n.end})`,
    functional: (n, [a = 'x']) => `torch.narrow(${a}, ${n.dim}, ${n.start}, ${n.end - n.start})`,
    helper: 'Slice',
  },
  channel_shuffle: {
    module: (n) => `ChannelShuffle(${n.groups})`,
    functional: (n, [a = 'x']) => `channel_shuffle(${a}, ${n.groups})`,
    helper: 'ChannelShuffle',
  },
  stochastic_depth: {
    module: (n) => `StochasticDepth(p=${num(n.p)}, mode="row")`,
    helper: 'StochasticDepth',
  },
  flatten: { module: () => 'nn.Flatten()' },
  linear: { module: (n) => `nn.Linear(${n.inFeatures}, ${n.outFeatures}, bias=${bool(n.bias)})` },
  dropout: { module: (n) => `nn.Dropout(p=${num(n.p)})` },
  layernorm: {
    module: (n) => {
      const options = `eps=${num(n.eps)}, elementwise_affine=${bool(n.affine)}`;
      const helper = layerNormHelper(n);
      if (helper === undefined) return `nn.LayerNorm(${n.features}, ${options})`;
      if (helper === 'LayerNorm2d') return `LayerNorm2d(${n.features}, ${options})`;
      return `LayerNormDim(${n.features}, ${n.dim}, ${options})`;
    },
    helper: (n) => layerNormHelper(n),
  },
  parameter: {
    module: (n) => {
      const init = n.params[0]?.init;
      const options =
        init?.kind === 'normal'
          ? `, init="normal", std=${num(init.std)}`
          : init?.kind === 'constant'
            ? `, init="constant", value=${num(init.value)}`
            : init?.kind === 'ones'
              ? ', init="ones"'
              : '';
      return `Parameter(${tuple(n.shape)}${options})`;
    },
    helper: 'Parameter',
  },
  permute: { module: (n) => `Permute(${tuple(n.dims)})`, helper: 'Permute' },
  reshape: { module: (n) => `Reshape(${n.outputShape.map(num).join(', ')})`, helper: 'Reshape' },
  select: { module: (n) => `Select(${n.dim}, ${n.index})`, helper: 'Select' },
  attention: {
    module: (n) => `SelfAttention(${n.embed}, ${n.heads}, dropout=${num(n.dropout)}, bias=${bool(n.bias)})`,
    helper: 'SelfAttention',
  },
  identity: { module: () => 'nn.Identity()', functional: (_n, [a = 'x']) => a },
  add: { functional: (_n, args) => args.join(' + ') },
  mul: { functional: (_n, args) => args.join(' * ') },
  concat: { functional: (n, args) => `torch.cat([${args.join(', ')}], dim=${n.dim})` },
};

/** The `nn.*(...)` constructor of a node that is a submodule (never a merge: the lowering makes those functional). */
export function torchConstructor(node: IrNode): string {
  const row = TORCH[opKindOf(node)] as Partial<TorchRow<IrNode>>;
  if (!row.module) throw new Error(`internal: ${opKindOf(node)} is not a submodule`);
  return row.module(node);
}

/** The functional expression of a node inside a block's forward (activations, identity, merges). */
function functionalCall(node: IrNode, args: readonly string[]): string {
  const row = TORCH[opKindOf(node)] as Partial<TorchRow<IrNode>>;
  if (!row.functional) throw new Error(`internal: ${opKindOf(node)} cannot be functional`);
  return row.functional(node, args);
}

interface BlockView {
  className: string;
  block: string;
  instances: string[];
  /** `owner.add_module(key, constructor)`: owner is `self`, or a container for a branch (`self._modules['b']`). */
  submodules: { owner: string; key: string; constructor: string }[];
  statements: string[];
  signature: string;
}

/** Python class name from a block or network name: `ResBlock`, `resnet18-plain` → `Resnet18Plain`. */
function className(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(joined) ? joined : `Net${joined}`;
}

/** The trainer the pytorch target writes beside model.py (a static file of the package). */
export const PYTORCH_TRAINER = 'compiler/targets/pytorch/train.py';

/**
 * Generates the PyTorch module for `ir` and its trainer: file name → contents. Deterministic, and linear in the size of the IR
 * (times the nesting depth of blocks, which the lowering bounds): every lookup goes through an index built once.
 */
export function generatePyTorch(ir: IrNetwork): Map<string, string> {
  const groupByPath = new Map(ir.groups.map((g) => [g.path, g]));
  const nodeByPath = new Map(ir.nodes.map((n) => [n.path, n]));
  // The member of a group (or module) through which `path` is reached: itself, or its outermost child group.
  const memberOf = (path: string, container: string | null): string => {
    const node = nodeByPath.get(path);
    let g = node ? node.group : (groupByPath.get(path)?.parent ?? null);
    let member = path;
    while (g !== null && g !== container) {
      member = g;
      g = groupByPath.get(g)?.parent ?? null;
    }
    return member;
  };
  // Each group's nodes (its own and those of the groups inside it), in IR order.
  const nodesInGroup = new Map<string, IrNode[]>();
  for (const node of ir.nodes) {
    for (let g = node.group; g !== null; g = groupByPath.get(g)?.parent ?? null) {
      const list = nodesInGroup.get(g);
      if (list) list.push(node);
      else nodesInGroup.set(g, [node]);
    }
  }
  const context: ViewContext = { memberOf, groupByPath, nodesInGroup };
  const classes = new Map<string, BlockView>();
  const classBySignature = new Map<string, BlockView>();
  const classOfGroup = new Map<string, string>();
  const helpers = helpersOf(ir);
  // Block classes must not take the name of a helper the file defines.
  const usedNames = new Set<string>(helpers.keys());
  // Groups are in completion order, so inner groups get their class before the groups that contain them.
  for (const group of ir.groups) {
    const view = blockView(group, context, classOfGroup);
    let existing = classBySignature.get(view.signature);
    if (!existing) {
      let name = className(group.block);
      for (let k = 2; usedNames.has(name); k++) name = `${className(group.block)}_${k}`;
      usedNames.add(name);
      existing = { ...view, className: name, instances: [group.path] };
      classes.set(name, existing);
      classBySignature.set(view.signature, existing);
    } else existing.instances.push(group.path);
    classOfGroup.set(group.path, existing.className);
  }
  const modules = ir.modules.map((m) => {
    const members: string[] = [];
    const seen = new Set<string>();
    for (const node of ir.nodes)
      if (node.module === m) {
        const member = memberOf(node.path, null);
        if (!seen.has(member)) {
          seen.add(member);
          members.push(member);
        }
      }
    const constructorOf = (member: string): string =>
      groupByPath.has(member)
        ? `${classOfGroup.get(member)}()`
        : torchConstructor(nodeAt(nodeByPath, member));
    return { key: py(m), children: sequentialChildren(members, `${m}.`, constructorOf) };
  });
  const firstParam = ir.nodes.find((n) => n.params.length > 0);
  const text = loadTemplate('compiler/targets/pytorch/templates/model.py.hbs')({
    // Everything interpolated into comments and docstrings is JSON-quoted or stripped to printable ASCII, so no
    // name can end a comment or a string early.
    header: `Generated by netspec from network ${JSON.stringify(ir.name).replace(/[^\x20-\x7e]/g, '?')}.`,
    specHint: `<spec of ${JSON.stringify(ir.name).replace(/[^\x20-\x7e]/g, '?')}>`,
    inputShape: ir.inputShape.join(', ') + (ir.inputShape.length === 1 ? ',' : ''),
    outputShape: ir.outputShape.join(', '),
    examplePath: firstParam ? `${firstParam.path}.${firstParam.params[0]?.name}` : 'none',
    className: className(ir.name),
    name: ir.name
      .replace(/[^\x20-\x7e]/g, '?')
      .replace(/"""/g, "'''")
      .replace(/\\/g, '/'),
    blocks: [...classes.values()].map((c) => ({
      ...c,
      block: c.block.replace(/[^\w-]/g, '?'),
      instances: c.instances.join(', '),
    })),
    modules,
    helpers: [...helpers.values()],
  });
  // The trainer is the same file for every network (its run's settings and data come from `netspec run --engine
  // torch`, which writes them beside it): see src/runtime/torch-engine/README.md.
  return new Map([
    ['model.py', text],
    ['train.py', readPackageSource(PYTORCH_TRAINER)],
  ]);
}

/** The helpers `ir` needs, by class name in HELPERS order, with their Python source. */
function helpersOf(ir: IrNetwork): Map<PythonHelper, string> {
  const used = new Set<PythonHelper>();
  for (const node of ir.nodes) {
    const row = (TORCH[opKindOf(node)] as Partial<TorchRow<IrNode>>).helper;
    const helper = typeof row === 'function' ? row(node) : row;
    if (helper) used.add(helper);
  }
  const helpers = new Map<PythonHelper, string>();
  for (const [name, file] of Object.entries(HELPERS) as [PythonHelper, string][])
    if (used.has(name))
      helpers.set(name, readPackageSource(`compiler/targets/pytorch/templates/helpers/${file}`).trimEnd());
  return helpers;
}

function nodeAt(nodeByPath: ReadonlyMap<string, IrNode>, path: string): IrNode {
  const node = nodeByPath.get(path);
  if (!node) throw new Error(`internal: no node ${path}`);
  return node;
}

/**
 * The children of a module's nn.Sequential: one per member, keyed by its path below `prefix`; members whose path
 * has more parts (a named repeat, `blocks.0`, `blocks.1`) are consecutive and go into a nested Sequential under
 * their first part, so every state-dict name is the layer path.
 */
function sequentialChildren(
  members: readonly string[],
  prefix: string,
  constructorOf: (member: string) => string,
): { key: string; constructor: string }[] {
  const children: { key: string; constructor: string }[] = [];
  for (let i = 0; i < members.length;) {
    const rel = (members[i] ?? '').slice(prefix.length);
    const dot = rel.indexOf('.');
    if (dot < 0) {
      children.push({ key: py(rel), constructor: constructorOf(members[i] ?? '') });
      i++;
      continue;
    }
    const head = `${prefix}${rel.slice(0, dot)}.`;
    let j = i;
    while (j < members.length && (members[j] ?? '').startsWith(head)) j++;
    const inner = sequentialChildren(members.slice(i, j), head, constructorOf);
    const items = inner.map((c) => `(${c.key}, ${c.constructor})`).join(', ');
    children.push({ key: py(rel.slice(0, dot)), constructor: `nn.Sequential(OrderedDict([${items}]))` });
    i = j;
  }
  return children;
}

/** The value a child group reads: the first input of its nodes that is computed outside it. */
function childInput(child: string, nodesInGroup: ReadonlyMap<string, readonly IrNode[]>): string | undefined {
  const inside = `${child}.`;
  for (const node of nodesInGroup.get(child) ?? [])
    for (const ref of node.inputs) if (!ref.startsWith(inside)) return ref;
  return undefined;
}

/** The indexes block views are built from (see generatePyTorch). */
interface ViewContext {
  readonly memberOf: (path: string, container: string | null) => string;
  readonly groupByPath: ReadonlyMap<string, IrGroup>;
  readonly nodesInGroup: ReadonlyMap<string, readonly IrNode[]>;
}

function blockView(
  group: IrGroup,
  { memberOf, groupByPath, nodesInGroup }: ViewContext,
  classOfGroup: ReadonlyMap<string, string>,
): BlockView {
  const submodules: BlockView['submodules'] = [];
  const statements: string[] = [];
  const variable = new Map<string, string>();
  const prefix = `${group.path}.`;
  // A member below a branch (`branch2.0`) lives in plain nn.Module containers, one per path part, so its
  // state-dict names are its layer path (torchvision's Inception names, `branch2.0.conv.weight`).
  const containers = new Set<string>();
  const attach = (member: string, constructor: string): string => {
    const parts = member.slice(prefix.length).split('.');
    let owner = 'self';
    for (const part of parts.slice(0, -1)) {
      const next = `${owner}._modules[${py(part)}]`;
      if (!containers.has(next)) {
        containers.add(next);
        submodules.push({ owner, key: py(part), constructor: 'nn.Module()' });
      }
      owner = next;
    }
    const key = py(parts[parts.length - 1] ?? '');
    submodules.push({ owner, key, constructor });
    return `${owner}._modules[${key}]`;
  };
  // What a node of this group reads: a value computed here, or the block input.
  const argOf = (ref: string): string => (ref === 'input' || !ref.startsWith(prefix) ? 'x' : valueOf(ref));
  const valueOf = (ref: string): string =>
    variable.get(memberOf(ref, group.path)) ?? variable.get(ref) ?? 'x';
  const seen = new Set<string>();
  let counter = 0;
  for (const node of nodesInGroup.get(group.path) ?? []) {
    const member = memberOf(node.path, group.path);
    if (seen.has(member)) {
      // A node inside a child group: the child's call already produced its value; track the last one.
      continue;
    }
    seen.add(member);
    const v = `v${counter++}`;
    const child = member !== node.path ? member : undefined;
    if (child) {
      const module = attach(member, `${classOfGroup.get(child)}()`);
      statements.push(`${v} = ${module}(${argOf(childInput(child, nodesInGroup) ?? 'input')})`);
      const childGroup = groupByPath.get(child);
      if (childGroup) variable.set(childGroup.output, v);
    } else if (node.functional) {
      statements.push(`${v} = ${functionalCall(node, node.inputs.map(argOf))}`);
    } else {
      const module = attach(member, torchConstructor(node));
      statements.push(`${v} = ${module}(${argOf(node.inputs[0] ?? 'input')})`);
    }
    variable.set(member, v);
  }
  statements.push(`return ${variable.get(memberOf(group.output, group.path)) ?? 'x'}`);
  // Two instances share a class when their generated code is identical.
  const signature = JSON.stringify([group.block, submodules, statements]);
  return { className: '', block: group.block, instances: [group.path], submodules, statements, signature };
}

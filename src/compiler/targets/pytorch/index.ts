/**
 * PyTorch target: the IR as a Python `nn.Module`. Modules become `nn.Sequential`s, each block instance an
 * instance of a generated block class (one class per distinct structure), registered in execution order, so
 * the state-dict names are netspec layer paths and hook-based tools see what netspec's reports show.
 */
import { loadTemplate } from '../../../templates.js';
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

/** How PyTorch spells a layer: its nn.Module constructor, and its call inside a block's forward when functional. */
interface TorchRow<N> {
  /** The `nn.*(...)` expression of the node as a submodule. */
  readonly module: (node: N) => string;
  /** The functional expression of the node on `args` (only for kinds that are functional inside blocks). */
  readonly functional?: (node: N, args: readonly string[]) => string;
}

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
      `nn.MaxPool2d(kernel_size=${pair(n.kernel)}, stride=${pair(n.stride)}, padding=${pair(n.padding)})`,
  },
  avgpool: {
    module: (n) =>
      `nn.AvgPool2d(kernel_size=${pair(n.kernel)}, stride=${pair(n.stride)}, padding=${pair(n.padding)})`,
  },
  global_avgpool: { module: () => 'nn.AdaptiveAvgPool2d(1)' },
  flatten: { module: () => 'nn.Flatten()' },
  linear: { module: (n) => `nn.Linear(${n.inFeatures}, ${n.outFeatures}, bias=${bool(n.bias)})` },
  dropout: { module: (n) => `nn.Dropout(p=${num(n.p)})` },
  identity: { module: () => 'nn.Identity()', functional: (_n, [a = 'x']) => a },
  add: { functional: (_n, args) => args.join(' + ') },
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

/** The last part of a path (its name within the parent). */
const local = (path: string): string => path.slice(path.lastIndexOf('.') + 1);

interface BlockView {
  className: string;
  block: string;
  instances: string[];
  submodules: { key: string; constructor: string }[];
  statements: string[];
  signature: string;
}

/** Python class name from a block or network name: `ResBlock`, `resnet18-plain` → `Resnet18Plain`. */
function className(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(joined) ? joined : `Net${joined}`;
}

/**
 * Generates the PyTorch module for `ir`: file name → contents. Deterministic, and linear in the size of the IR
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
  const usedNames = new Set<string>();
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
    return {
      key: py(m),
      children: members.map((member) => ({
        key: py(local(member)),
        constructor: groupByPath.has(member)
          ? `${classOfGroup.get(member)}()`
          : torchConstructor(nodeAt(nodeByPath, member)),
      })),
    };
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
  });
  return new Map([['model.py', text]]);
}

function nodeAt(nodeByPath: ReadonlyMap<string, IrNode>, path: string): IrNode {
  const node = nodeByPath.get(path);
  if (!node) throw new Error(`internal: no node ${path}`);
  return node;
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
  const submodules: { key: string; constructor: string }[] = [];
  const statements: string[] = [];
  const variable = new Map<string, string>();
  const prefix = `${group.path}.`;
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
    const key = py(local(member));
    if (child) {
      submodules.push({ key, constructor: `${classOfGroup.get(child)}()` });
      statements.push(`${v} = self._modules[${key}](${valueOf(node.inputs[0] ?? 'input')})`);
      const childGroup = groupByPath.get(child);
      if (childGroup) variable.set(childGroup.output, v);
    } else if (node.functional) {
      statements.push(
        `${v} = ${functionalCall(
          node,
          node.inputs.map((i) => (i === 'input' || !i.startsWith(prefix) ? 'x' : valueOf(i))),
        )}`,
      );
    } else {
      submodules.push({ key, constructor: torchConstructor(node) });
      const arg = node.inputs[0] ?? 'input';
      statements.push(
        `${v} = self._modules[${key}](${arg === 'input' || !arg.startsWith(prefix) ? 'x' : valueOf(arg)})`,
      );
    }
    variable.set(member, v);
  }
  statements.push(`return ${variable.get(memberOf(group.output, group.path)) ?? 'x'}`);
  // Two instances share a class when their generated code is identical.
  const signature = JSON.stringify([group.block, submodules, statements]);
  return { className: '', block: group.block, instances: [group.path], submodules, statements, signature };
}

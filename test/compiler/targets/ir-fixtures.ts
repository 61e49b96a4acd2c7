/**
 * Hand-built IRs for the target tests, shaped as the lowering builds them (PyTorch's parameter shapes, default
 * inits, output shapes by PyTorch's formulas). Tests switch to `compile` of specs/*.yaml once the lowering lands.
 */
import type { ActivationKind, IrNetwork, IrNode, IrParam, Shape } from '../../../src/compiler/ir.js';

type Pair = readonly [number, number];
const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/** An IR node without the fields the builder fills in (distributes over the node kinds). */
type NodeSpec = IrNode extends infer N
  ? N extends IrNode
    ? Omit<N, 'module' | 'group' | 'functional' | 'inputShapes'>
    : never
  : never;

interface Place {
  readonly group?: string | null;
  readonly functional?: boolean;
}

/** Builds an IR node by node, computing output shapes and PyTorch's default parameters. */
export class IrBuilder {
  private readonly nodes: IrNode[] = [];
  private readonly shapes = new Map<string, Shape>();

  constructor(
    readonly name: string,
    readonly inputShape: Shape,
  ) {
    this.shapes.set('input', inputShape);
  }

  /** The output shape of a node (or of `input`). */
  shape(path: string): Shape {
    const s = this.shapes.get(path);
    if (!s) throw new Error(`fixture: unknown node ${path}`);
    return s;
  }

  private add(node: NodeSpec, place: Place): string {
    const full = {
      ...node,
      inputShapes: node.inputs.map((p) => this.shape(p)),
      module: node.path.split('.')[0] ?? node.path,
      group: place.group ?? null,
      functional: place.functional ?? false,
    } as IrNode;
    if (this.shapes.has(node.path)) throw new Error(`fixture: duplicate path ${node.path}`);
    this.nodes.push(full);
    this.shapes.set(node.path, node.outputShape);
    return node.path;
  }

  conv(
    path: string,
    input: string,
    o: {
      out: number;
      kernel: number | Pair;
      stride?: number | Pair;
      padding?: number | Pair;
      dilation?: number | Pair;
      groups?: number;
      bias?: boolean;
    },
    place: Place = {},
  ): string {
    const [c, h, w] = this.shape(input) as [number, number, number];
    const kernel = pair(o.kernel);
    const stride = pair(o.stride ?? 1);
    const padding = pair(o.padding ?? 0);
    const dilation = pair(o.dilation ?? 1);
    const groups = o.groups ?? 1;
    const bias = o.bias ?? true;
    const fanIn = (c / groups) * kernel[0] * kernel[1];
    const len = (n: number, i: 0 | 1): number =>
      Math.floor((n + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i]) + 1;
    const params: IrParam[] = [
      {
        name: 'weight',
        shape: [o.out, c / groups, kernel[0], kernel[1]],
        trainable: true,
        init: { kind: 'kaiming_uniform_a_sqrt5', fanIn },
      },
    ];
    if (bias)
      params.push({ name: 'bias', shape: [o.out], trainable: true, init: { kind: 'bias_uniform', fanIn } });
    return this.add(
      {
        kind: 'conv',
        path,
        inputs: [input],
        outputShape: [o.out, len(h, 0), len(w, 1)],
        params,
        inChannels: c,
        outChannels: o.out,
        kernel,
        stride,
        padding,
        dilation,
        groups,
        bias,
      },
      place,
    );
  }

  bn(path: string, input: string, place: Place = {}, affine = true): string {
    const s = this.shape(input);
    const c = s[0] ?? 0;
    const params: IrParam[] = [];
    if (affine)
      params.push(
        { name: 'weight', shape: [c], trainable: true, init: { kind: 'ones' } },
        { name: 'bias', shape: [c], trainable: true, init: { kind: 'zeros' } },
      );
    params.push(
      { name: 'running_mean', shape: [c], trainable: false, init: { kind: 'zeros' } },
      { name: 'running_var', shape: [c], trainable: false, init: { kind: 'ones' } },
    );
    return this.add(
      {
        kind: 'batchnorm',
        path,
        inputs: [input],
        outputShape: s,
        params,
        features: c,
        eps: 1e-5,
        momentum: 0.1,
        affine,
      },
      place,
    );
  }

  act(path: string, input: string, fn: ActivationKind, place: Place = {}, alpha?: number): string {
    return this.add(
      {
        kind: 'activation',
        path,
        inputs: [input],
        outputShape: this.shape(input),
        params: [],
        fn,
        ...(alpha !== undefined ? { alpha } : {}),
      },
      place,
    );
  }

  pool(
    kind: 'maxpool' | 'avgpool',
    path: string,
    input: string,
    o: { kernel: number | Pair; stride?: number | Pair; padding?: number | Pair },
    place: Place = {},
  ): string {
    const [c, h, w] = this.shape(input) as [number, number, number];
    const kernel = pair(o.kernel);
    const stride = pair(o.stride ?? o.kernel);
    const padding = pair(o.padding ?? 0);
    const len = (n: number, i: 0 | 1): number => Math.floor((n + 2 * padding[i] - kernel[i]) / stride[i]) + 1;
    return this.add(
      {
        kind,
        path,
        inputs: [input],
        outputShape: [c, len(h, 0), len(w, 1)],
        params: [],
        kernel,
        stride,
        padding,
      },
      place,
    );
  }

  globalAvgPool(path: string, input: string): string {
    const [c] = this.shape(input) as [number];
    return this.add(
      { kind: 'global_avgpool', path, inputs: [input], outputShape: [c, 1, 1], params: [] },
      {},
    );
  }

  flatten(path: string, input: string): string {
    const n = this.shape(input).reduce((a, b) => a * b, 1);
    return this.add({ kind: 'flatten', path, inputs: [input], outputShape: [n], params: [] }, {});
  }

  linear(path: string, input: string, out: number, bias = true): string {
    const [f] = this.shape(input) as [number];
    const params: IrParam[] = [
      {
        name: 'weight',
        shape: [out, f],
        trainable: true,
        init: { kind: 'kaiming_uniform_a_sqrt5', fanIn: f },
      },
    ];
    if (bias)
      params.push({ name: 'bias', shape: [out], trainable: true, init: { kind: 'bias_uniform', fanIn: f } });
    return this.add(
      {
        kind: 'linear',
        path,
        inputs: [input],
        outputShape: [out],
        params,
        inFeatures: f,
        outFeatures: out,
        bias,
      },
      {},
    );
  }

  dropout(path: string, input: string, p: number): string {
    return this.add(
      { kind: 'dropout', path, inputs: [input], outputShape: this.shape(input), params: [], p },
      {},
    );
  }

  identity(path: string, input: string): string {
    return this.add(
      { kind: 'identity', path, inputs: [input], outputShape: this.shape(input), params: [] },
      {},
    );
  }

  sum(path: string, inputs: readonly string[], place: Place = {}): string {
    const first = inputs[0];
    if (first === undefined) throw new Error('fixture: add needs inputs');
    return this.add({ kind: 'add', path, inputs, outputShape: this.shape(first), params: [] }, place);
  }

  /** The finished network; `output` defaults to the last node. */
  build(output?: string): IrNetwork {
    const last = output ?? this.nodes[this.nodes.length - 1]?.path;
    if (last === undefined) throw new Error('fixture: empty network');
    const modules: string[] = [];
    for (const n of this.nodes) if (!modules.includes(n.module)) modules.push(n.module);
    return {
      irVersion: 1,
      name: this.name,
      params: {},
      inputShape: this.inputShape,
      modules,
      nodes: this.nodes,
      groups: [],
      output: last,
      outputShape: this.shape(last),
    };
  }
}

/**
 * A tiny ResNet: conv/bn/relu/maxpool stem with padding, one block with a strided 1x1-conv shortcut and add,
 * global average pooling, flatten, linear. Input [3, 16, 16], 10 classes.
 */
export function tinyResNet(): IrNetwork {
  const b = new IrBuilder('tiny-resnet', [3, 16, 16]);
  b.conv('stem.0', 'input', { out: 8, kernel: 3, stride: 1, padding: 1 });
  b.bn('stem.1', 'stem.0');
  b.act('stem.2', 'stem.1', 'relu');
  b.pool('maxpool', 'stem.3', 'stem.2', { kernel: 3, stride: 2, padding: 1 });
  const g = { group: 'stage2.0' };
  b.conv('stage2.0.conv1', 'stem.3', { out: 16, kernel: 3, stride: 2, padding: 1, bias: false }, g);
  b.bn('stage2.0.bn1', 'stage2.0.conv1', g);
  b.act('stage2.0.relu1', 'stage2.0.bn1', 'relu', { ...g, functional: true });
  b.conv('stage2.0.conv2', 'stage2.0.relu1', { out: 16, kernel: 3, padding: 1, bias: false }, g);
  b.bn('stage2.0.bn2', 'stage2.0.conv2', g);
  b.conv('stage2.0.shortcut', 'stem.3', { out: 16, kernel: 1, stride: 2, bias: false }, g);
  b.bn('stage2.0.bn3', 'stage2.0.shortcut', g);
  b.sum('stage2.0.add', ['stage2.0.bn2', 'stage2.0.bn3'], { ...g, functional: true });
  b.act('stage2.0.relu2', 'stage2.0.add', 'relu', { ...g, functional: true });
  b.globalAvgPool('head.0', 'stage2.0.relu2');
  b.flatten('head.1', 'head.0');
  b.linear('head.2', 'head.1', 10);
  const ir = b.build();
  return {
    ...ir,
    groups: [
      {
        path: 'stage2.0',
        block: 'ResBlock',
        module: 'stage2',
        parent: null,
        inputShape: b.shape('stem.3'),
        output: 'stage2.0.relu2',
        outputShape: b.shape('stage2.0.relu2'),
      },
    ],
  };
}

/** A LeNet-like net: conv, tanh, avgpool, conv, avgpool, flatten of a [16, 5, 5] map, linear. Input [1, 28, 28]. */
export function leNet(): IrNetwork {
  const b = new IrBuilder('lenet', [1, 28, 28]);
  b.conv('features.0', 'input', { out: 6, kernel: 5, padding: 2 });
  b.act('features.1', 'features.0', 'tanh');
  b.pool('avgpool', 'features.2', 'features.1', { kernel: 2, stride: 2 });
  b.conv('features.3', 'features.2', { out: 16, kernel: 5 });
  b.act('features.4', 'features.3', 'sigmoid');
  b.pool('avgpool', 'features.5', 'features.4', { kernel: 2, stride: 2 });
  b.flatten('classifier.0', 'features.5');
  b.linear('classifier.1', 'classifier.0', 120);
  b.act('classifier.2', 'classifier.1', 'relu');
  b.linear('classifier.3', 'classifier.2', 10);
  return b.build();
}

/**
 * Every layer form the tfjs target plans, in one small net: padded avgpool, grouped, depthwise and dilated
 * convs (with stride), every activation, BN on flat features, dropout, identity. Input [4, 9, 9].
 */
export function zoo(): IrNetwork {
  const b = new IrBuilder('zoo', [4, 9, 9]);
  b.conv('a.grouped', 'input', { out: 6, kernel: 3, padding: 1, groups: 2 });
  b.act('a.gelu', 'a.grouped', 'gelu');
  b.conv('a.depthwise', 'a.gelu', { out: 12, kernel: [3, 2], stride: [2, 1], padding: [1, 0], groups: 6 });
  b.act('a.elu', 'a.depthwise', 'elu', {}, 0.5);
  b.conv('a.dilated', 'a.elu', { out: 5, kernel: 3, stride: 2, padding: 2, dilation: 2 });
  b.act('a.leaky', 'a.dilated', 'leaky_relu', {}, 0.2);
  b.conv('a.dwdilated', 'a.leaky', { out: 5, kernel: 2, padding: 1, dilation: [2, 1], groups: 5 });
  b.act('a.selu', 'a.dwdilated', 'selu');
  b.pool('avgpool', 'a.avg', 'a.selu', { kernel: 3, stride: 1, padding: 1 });
  b.pool('maxpool', 'a.max', 'a.avg', { kernel: 2, stride: 1, padding: 1 });
  b.act('a.silu', 'a.max', 'silu');
  b.act('a.softplus', 'a.silu', 'softplus');
  b.act('a.relu6', 'a.softplus', 'relu6');
  b.act('a.elu1', 'a.relu6', 'elu');
  b.identity('a.id', 'a.elu1');
  b.flatten('b.flat', 'a.id');
  b.bn('b.bn', 'b.flat');
  b.dropout('b.drop', 'b.bn', 0.25);
  b.linear('b.fc', 'b.drop', 3, false);
  return b.build();
}

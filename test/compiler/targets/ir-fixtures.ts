/**
 * Hand-built IRs for the target tests: networks the spec files do not contain, node by node. Every node is made by
 * the real layer definitions (test/support/ir-nodes.ts), so shapes, parameters and initializers are the lowering's.
 */
import type { ActivationKind, IrNetwork, IrNode, Shape } from '../../../src/compiler/ir.js';
import type { LayerKind } from '../../../src/compiler/ops/index.js';
import { layerNode, mergeNode, type TestArg } from '../../support/ir-nodes.js';

type Pair = readonly [number, number];

interface Place {
  readonly group?: string | null;
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

  private add(node: IrNode): string {
    if (this.shapes.has(node.path)) throw new Error(`fixture: duplicate path ${node.path}`);
    this.nodes.push(node);
    this.shapes.set(node.path, node.outputShape);
    return node.path;
  }

  private where(path: string, inputs: readonly string[], place: Place) {
    return {
      path,
      inputs,
      inputShapes: inputs.map((p) => this.shape(p)),
      module: path.split('.')[0] ?? path,
      group: place.group ?? null,
    };
  }

  /** A layer of `kind` reading `input`, with `args` (the others default). */
  layer(
    kind: LayerKind,
    path: string,
    input: string,
    args: Readonly<Record<string, TestArg>> = {},
    place: Place = {},
  ): string {
    return this.add(layerNode(kind, this.where(path, [input], place), args));
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
    return this.layer('conv', path, input, o, place);
  }

  bn(path: string, input: string, place: Place = {}, affine = true): string {
    return this.layer('batchnorm', path, input, { affine }, place);
  }

  act(path: string, input: string, fn: ActivationKind, place: Place = {}, alpha?: number): string {
    const alphaArg = fn === 'leaky_relu' ? 'slope' : fn === 'elu' ? 'alpha' : undefined;
    return this.layer(fn, path, input, alphaArg && alpha !== undefined ? { [alphaArg]: alpha } : {}, place);
  }

  pool(
    kind: 'maxpool' | 'avgpool',
    path: string,
    input: string,
    o: { kernel: number | Pair; stride?: number | Pair; padding?: number | Pair },
    place: Place = {},
  ): string {
    return this.layer(kind, path, input, o, place);
  }

  globalAvgPool(path: string, input: string): string {
    return this.layer('global_avgpool', path, input);
  }

  flatten(path: string, input: string): string {
    return this.layer('flatten', path, input);
  }

  linear(path: string, input: string, out: number, bias = true): string {
    return this.layer('linear', path, input, { out, bias });
  }

  dropout(path: string, input: string, p: number): string {
    return this.layer('dropout', path, input, { p });
  }

  identity(path: string, input: string): string {
    return this.layer('identity', path, input);
  }

  sum(path: string, inputs: readonly string[], place: Place = {}): string {
    return this.add(mergeNode('add', this.where(path, inputs, place)));
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
  b.act('stage2.0.relu1', 'stage2.0.bn1', 'relu', g);
  b.conv('stage2.0.conv2', 'stage2.0.relu1', { out: 16, kernel: 3, padding: 1, bias: false }, g);
  b.bn('stage2.0.bn2', 'stage2.0.conv2', g);
  b.conv('stage2.0.shortcut', 'stem.3', { out: 16, kernel: 1, stride: 2, bias: false }, g);
  b.bn('stage2.0.bn3', 'stage2.0.shortcut', g);
  b.sum('stage2.0.add', ['stage2.0.bn2', 'stage2.0.bn3'], g);
  b.act('stage2.0.relu2', 'stage2.0.add', 'relu', g);
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

/**
 * A hand-built IR for report tests: a small builder that emits nodes the way src/compiler/lower.ts does
 * (paths, functional flags inside blocks, groups in completion order), so reports can be tested on networks
 * the spec files do not contain, and on ResNet18 without going through the parser.
 */
import type { ActivationKind, IrGroup, IrNetwork, IrNode, IrParam, Shape } from '../../src/compiler/ir.js';

type Pair = readonly [number, number];
const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);
const out = (size: number, k: number, s: number, p: number): number => Math.floor((size + 2 * p - k) / s) + 1;

/** Builds an IR network layer by layer; `block` opens a group whose layers are placed inside it. */
export class IrBuilder {
  readonly nodes: IrNode[] = [];
  readonly groups: IrGroup[] = [];
  private ref = 'input';
  private shape: Shape;
  private module = '';
  private group: string | null = null;

  constructor(
    private readonly name: string,
    private readonly inputShape: Shape,
  ) {
    this.shape = inputShape;
  }

  /** The current end of the chain. */
  get cursor(): { ref: string; shape: Shape } {
    return { ref: this.ref, shape: this.shape };
  }

  /** Moves the chain end (to build a shortcut from a block's input). */
  at(cursor: { ref: string; shape: Shape }): this {
    this.ref = cursor.ref;
    this.shape = cursor.shape;
    return this;
  }

  /** Starts a module: later layers get its name as their first path part. */
  startModule(name: string): this {
    this.module = name;
    return this;
  }

  private push(node: IrNode): this {
    this.nodes.push(node);
    this.ref = node.path;
    this.shape = node.outputShape;
    return this;
  }

  private base(path: string): {
    path: string;
    inputs: string[];
    inputShapes: Shape[];
    module: string;
    group: string | null;
  } {
    return { path, inputs: [this.ref], inputShapes: [this.shape], module: this.module, group: this.group };
  }

  conv(
    path: string,
    o: {
      out: number;
      kernel: number | Pair;
      stride?: number | Pair;
      padding?: number | Pair;
      groups?: number;
      bias?: boolean;
    },
  ): this {
    const [c = 0, h = 0, w = 0] = this.shape;
    const kernel = pair(o.kernel);
    const stride = pair(o.stride ?? 1);
    const padding = pair(o.padding ?? 0);
    const groups = o.groups ?? 1;
    const bias = o.bias ?? true;
    const fanIn = (c / groups) * kernel[0] * kernel[1];
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
    return this.push({
      kind: 'conv',
      ...this.base(path),
      outputShape: [
        o.out,
        out(h, kernel[0], stride[0], padding[0]),
        out(w, kernel[1], stride[1], padding[1]),
      ],
      params,
      functional: false,
      inChannels: c,
      outChannels: o.out,
      kernel,
      stride,
      padding,
      dilation: [1, 1],
      groups,
      bias,
    });
  }

  batchnorm(path: string, affine = true): this {
    const c = this.shape[0] ?? 0;
    const params: IrParam[] = affine
      ? [
          { name: 'weight', shape: [c], trainable: true, init: { kind: 'ones' } },
          { name: 'bias', shape: [c], trainable: true, init: { kind: 'zeros' } },
        ]
      : [];
    params.push(
      { name: 'running_mean', shape: [c], trainable: false, init: { kind: 'zeros' } },
      { name: 'running_var', shape: [c], trainable: false, init: { kind: 'ones' } },
    );
    return this.push({
      kind: 'batchnorm',
      ...this.base(path),
      outputShape: this.shape,
      params,
      functional: false,
      features: c,
      eps: 1e-5,
      momentum: 0.1,
      affine,
    });
  }

  act(path: string, fn: ActivationKind = 'relu'): this {
    return this.push({
      kind: 'activation',
      ...this.base(path),
      outputShape: this.shape,
      params: [],
      functional: this.group !== null,
      fn,
    });
  }

  pool(path: string, kind: 'maxpool' | 'avgpool', kernel: number, stride = kernel, padding = 0): this {
    const [c = 0, h = 0, w = 0] = this.shape;
    return this.push({
      kind,
      ...this.base(path),
      outputShape: [c, out(h, kernel, stride, padding), out(w, kernel, stride, padding)],
      params: [],
      functional: false,
      kernel: [kernel, kernel],
      stride: [stride, stride],
      padding: [padding, padding],
    });
  }

  globalAvgPool(path: string): this {
    return this.push({
      kind: 'global_avgpool',
      ...this.base(path),
      outputShape: [this.shape[0] ?? 0, 1, 1],
      params: [],
      functional: false,
    });
  }

  flatten(path: string): this {
    return this.push({
      kind: 'flatten',
      ...this.base(path),
      outputShape: [this.shape.reduce((a, b) => a * b, 1)],
      params: [],
      functional: false,
    });
  }

  linear(path: string, outFeatures: number, bias = true): this {
    const inFeatures = this.shape[0] ?? 0;
    const params: IrParam[] = [
      {
        name: 'weight',
        shape: [outFeatures, inFeatures],
        trainable: true,
        init: { kind: 'kaiming_uniform_a_sqrt5', fanIn: inFeatures },
      },
    ];
    if (bias)
      params.push({
        name: 'bias',
        shape: [outFeatures],
        trainable: true,
        init: { kind: 'bias_uniform', fanIn: inFeatures },
      });
    return this.push({
      kind: 'linear',
      ...this.base(path),
      outputShape: [outFeatures],
      params,
      functional: false,
      inFeatures,
      outFeatures,
      bias,
    });
  }

  dropout(path: string, p = 0.5): this {
    return this.push({
      kind: 'dropout',
      ...this.base(path),
      outputShape: this.shape,
      params: [],
      functional: false,
      p,
    });
  }

  identity(path: string): this {
    return this.push({
      kind: 'identity',
      ...this.base(path),
      outputShape: this.shape,
      params: [],
      functional: this.group !== null,
    });
  }

  add(path: string, other: { ref: string; shape: Shape }): this {
    return this.push({
      kind: 'add',
      path,
      inputs: [this.ref, other.ref],
      inputShapes: [this.shape, other.shape],
      outputShape: this.shape,
      params: [],
      module: this.module,
      group: this.group,
      functional: true,
    });
  }

  /** Places the layers `body` adds inside a block instance at `path`, then records the group. */
  block(
    path: string,
    blockName: string,
    body: (b: this, input: { ref: string; shape: Shape }) => void,
  ): this {
    const outer = this.group;
    const input = this.cursor;
    this.group = path;
    body(this, input);
    this.group = outer;
    this.groups.push({
      path,
      block: blockName,
      module: this.module,
      parent: outer,
      inputShape: input.shape,
      output: this.ref,
      outputShape: this.shape,
    });
    return this;
  }

  build(params: Record<string, number | boolean | string> = {}): IrNetwork {
    const modules = [...new Set(this.nodes.map((n) => n.module))];
    return {
      irVersion: 1,
      name: this.name,
      params,
      inputShape: this.inputShape,
      modules,
      nodes: this.nodes,
      groups: this.groups,
      output: this.ref,
      outputShape: this.shape,
    };
  }
}

/** The seed's ResNet18 as netspec lowers specs/resnet18.yaml (or the plain variant with `residual` false). */
export function resnet18Ir(residual = true, inChannels = 1, numClasses = 10): IrNetwork {
  const b = new IrBuilder(residual ? 'resnet18' : 'resnet18-plain', [inChannels, 32, 32]);
  b.startModule('stem')
    .conv('stem.0', { out: 64, kernel: 7, stride: 2, padding: 3 })
    .batchnorm('stem.1')
    .act('stem.2')
    .pool('stem.3', 'maxpool', 3, 2, 1);
  const stage = (name: string, channels: number, stride: number): void => {
    b.startModule(name);
    for (let i = 0; i < 2; i++) {
      const p = `${name}.${i}`;
      const s = i === 0 ? stride : 1;
      b.block(p, 'ResBlock', (blk, input) => {
        blk
          .conv(`${p}.conv1`, { out: channels, kernel: 3, stride: s, padding: 1, bias: false })
          .batchnorm(`${p}.bn1`)
          .act(`${p}.relu_1`);
        blk.conv(`${p}.conv2`, { out: channels, kernel: 3, padding: 1, bias: false }).batchnorm(`${p}.bn2`);
        if (residual) {
          const body = blk.cursor;
          let shortcut = input;
          if (input.shape[0] !== channels || s !== 1) {
            blk
              .at(input)
              .conv(`${p}.shortcut`, { out: channels, kernel: 1, stride: s, bias: false })
              .batchnorm(`${p}.bn3`);
            shortcut = blk.cursor;
          }
          blk.at(body).add(`${p}.add`, shortcut);
        }
        blk.act(`${p}.relu_2`);
      });
    }
  };
  stage('stage2', 64, 1);
  stage('stage3', 128, 2);
  stage('stage4', 256, 2);
  stage('stage5', 512, 2);
  b.startModule('head').globalAvgPool('head.0').flatten('head.1').linear('head.2', numClasses);
  return b.build({ in_channels: inChannels, num_classes: numClasses, residual });
}

/**
 * A hand-built IR for report tests: a small builder that emits nodes the way src/compiler/lower.ts does (paths,
 * groups in completion order; every node made by the real layer definitions, test/support/ir-nodes.ts), so reports
 * can be tested on networks the spec files do not contain, and on ResNet18 without going through the parser.
 */
import type { ActivationKind, IrGroup, IrNetwork, IrNode, Shape } from '../../src/compiler/ir.js';
import type { LayerKind } from '../../src/compiler/ops/index.js';
import { layerNode, mergeNode, type TestArg } from '../support/ir-nodes.js';

type Pair = readonly [number, number];

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

  /** A layer of `kind` at the end of the chain, with `args` (the others default). */
  layer(kind: LayerKind, path: string, args: Readonly<Record<string, TestArg>> = {}): this {
    return this.push(
      layerNode(
        kind,
        { path, inputs: [this.ref], inputShapes: [this.shape], module: this.module, group: this.group },
        args,
      ),
    );
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
    return this.layer('conv', path, o);
  }

  batchnorm(path: string, affine = true): this {
    return this.layer('batchnorm', path, { affine });
  }

  act(path: string, fn: ActivationKind = 'relu'): this {
    return this.layer(fn, path);
  }

  pool(path: string, kind: 'maxpool' | 'avgpool', kernel: number, stride = kernel, padding = 0): this {
    return this.layer(kind, path, { kernel, stride, padding });
  }

  globalAvgPool(path: string): this {
    return this.layer('global_avgpool', path);
  }

  flatten(path: string): this {
    return this.layer('flatten', path);
  }

  linear(path: string, outFeatures: number, bias = true): this {
    return this.layer('linear', path, { out: outFeatures, bias });
  }

  dropout(path: string, p = 0.5): this {
    return this.layer('dropout', path, { p });
  }

  identity(path: string): this {
    return this.layer('identity', path);
  }

  add(path: string, other: { ref: string; shape: Shape }): this {
    return this.push(
      mergeNode('add', {
        path,
        inputs: [this.ref, other.ref],
        inputShapes: [this.shape, other.shape],
        module: this.module,
        group: this.group,
      }),
    );
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

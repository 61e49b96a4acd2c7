/**
 * zoo-layers.ts, the runtime module beside torch-layers.ts: which plans use it, that its ceil-mode max pooling
 * computes PyTorch's numbers (torch-layers.ts's TorchMaxPool2d keeps the cases without ceil mode), that its normal
 * init draws the stream torch-layers.ts's seed derivation picks, and that models of its layers load from JSON.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../../../src/compiler/ir.js';
import {
  buildModel,
  planModel,
  setStateDict,
  type LayerPlan,
} from '../../../../src/compiler/targets/tfjs/index.js';
import {
  LAYER_MODULES,
  layerModulesOf,
  runtimeModulesOf,
} from '../../../../src/compiler/targets/tfjs/runtime-modules.js';
import * as torchActivations from '../../../../src/compiler/targets/tfjs/torch-activations.js';
import * as torchLayers from '../../../../src/compiler/targets/tfjs/torch-layers.js';
import * as zooLayers from '../../../../src/compiler/targets/tfjs/zoo-layers.js';
import { compileIr } from '../../../support/compile.js';
import { randomStateDict, rng, uniform } from '../helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A one-layer map network in the DSL: `layer` applied to a [1, 5, 5] input. */
function oneLayer(layer: string): IrNetwork {
  return compileIr('one.net', {
    'one.net': `network "one" {\n  input [1, 5, 5]\n  module m { ${layer} }\n}\n`,
  });
}

function predict(ir: IrNetwork, x: number[]): number[] {
  const model = buildModel(ir, { seed: 0 });
  const y = tf.tidy(() =>
    Array.from((model.predict(tf.tensor(x, [1, ...ir.inputShape])) as tf.Tensor).dataSync()),
  );
  model.dispose();
  return y;
}

/** A [1, 1, 5, 5] input of negative values, x[i][j] = -(5i + j) - 1 (so zero padding would win). */
const RAMP = Array.from({ length: 25 }, (_, i) => -i - 1);

describe('max pooling', () => {
  it('uses TorchCeilMaxPool2d only with ceil mode, TorchMaxPool2d for padding alone, tfjs otherwise', () => {
    const ops = (layer: string) => planModel(oneLayer(layer)).steps.map((s) => s.op);
    expect(ops('maxpool(kernel = 2, stride = 2, ceil_mode = true)')).toContain('torchCeilMaxPool2d');
    expect(ops('maxpool(kernel = 3, stride = 2, padding = 1)')).toContain('torchMaxPool2d');
    expect(ops('maxpool(kernel = 3, stride = 2, padding = 1)')).not.toContain('torchCeilMaxPool2d');
    expect(ops('maxpool(kernel = 2, stride = 2)')).toContain('maxPooling2d');
  });

  it("ceil mode gives PyTorch's last windows, the overhang and the padding never winning", () => {
    // 5 wide, kernel 2, stride 2: ceil(3/2) + 1 = 3 windows, the last covering column 4 alone.
    const ir = oneLayer('maxpool(kernel = 2, stride = 2, ceil_mode = true)');
    expect(ir.outputShape).toEqual([1, 3, 3]);
    // Each window's maximum is its top-left cell.
    expect(predict(ir, RAMP)).toEqual([-1, -3, -5, -11, -13, -15, -21, -23, -25]);
    // Padding 1: ceil mode would add a fourth window, but it would start in the right padding, so PyTorch drops it.
    const padded = oneLayer('maxpool(kernel = 2, stride = 2, padding = 1, ceil_mode = true)');
    expect(padded.outputShape).toEqual([1, 3, 3]);
    expect(predict(padded, RAMP)).toEqual(
      predict(oneLayer('maxpool(kernel = 2, stride = 2, padding = 1)'), RAMP),
    );
  });
});

describe('the runtime modules a plan uses', () => {
  it('are torch-layers alone for the seed specs, and zoo-layers for its kinds and normal init', () => {
    expect([...runtimeModulesOf(planModel(compileIr('specs/resnet18.yaml')))]).toEqual(['torch-layers']);
    const every = planModel(compileIr('test/fixtures/kinds/every-kind.yaml'));
    expect([...layerModulesOf(every)].sort()).toEqual(['torch-activations', 'torch-layers', 'zoo-layers']);
    // A plan whose only layer is tfjs's own, initialized by torchNormal: the code needs zoo-layers, a saved model not.
    const normal: LayerPlan = {
      modelName: 'normal',
      inputName: 'input',
      inputShape: [4],
      steps: [
        { op: 'input', name: 'input', path: null, inputs: [], config: { shape: [4] } },
        {
          op: 'dense',
          name: 'fc',
          path: 'fc',
          inputs: ['input'],
          config: {
            units: 2,
            useBias: false,
            kernelInitializer: { init: 'normal', std: 0.5, key: 'fc.weight' },
          },
        },
      ],
      output: 'fc',
    };
    expect([...layerModulesOf(normal)]).toEqual([]);
    expect([...runtimeModulesOf(normal)]).toEqual(['zoo-layers']);
  });

  it("name each module's classes as that module defines them, under unique serialization names", () => {
    const modules = {
      'torch-layers': torchLayers,
      'zoo-layers': zooLayers,
      'torch-activations': torchActivations,
    } as const;
    const classes = Object.values(modules).flatMap((m) =>
      Object.values(m).filter(
        (v): v is typeof tf.layers.Layer & { className: string } =>
          typeof v === 'function' && v.prototype instanceof tf.layers.Layer,
      ),
    );
    const names = classes.map((c) => c.className);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.startsWith('Netspec'))).toBe(true);
    for (const [op, module] of Object.entries(LAYER_MODULES)) {
      if (module === null) continue;
      const className = `T${op.slice(1)}`;
      expect(Object.keys(modules[module]), op).toContain(className);
    }
  });
});

describe('torchNormal', () => {
  it('draws the stream of torch-layers.ts deriveSeed(seed, key), as torchUniform does', () => {
    const got = zooLayers.torchNormal(0.5, 7, 'pos.weight').apply([64]);
    const want = tf.initializers
      .randomNormal({ mean: 0, stddev: 0.5, seed: torchLayers.deriveSeed(7, 'pos.weight') })
      .apply([64]);
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([got, want]);
  });
});

describe('serialization', () => {
  it.each(['every-kind', 'every-kind-tokens'])(
    'a model of %s round-trips through JSON with the registered classes and computes the same',
    async (name) => {
      const ir = compileIr(`test/fixtures/kinds/${name}.yaml`);
      const model = buildModel(ir, { seed: 1 });
      expect(setStateDict(model, ir, randomStateDict(ir, 4))).toEqual([]);
      const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
      const copy = await tf.models.modelFromJSON({ modelTopology: topology });
      expect(copy.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      copy.setWeights(model.getWeights());
      const shape = [2, ...ir.inputShape];
      const x = tf.tensor(
        uniform(
          shape.reduce((a, b) => a * b, 1),
          rng(5),
        ),
        shape,
      );
      const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      const b = tf.tidy(() => (copy.predict(x) as tf.Tensor).dataSync());
      expect(Array.from(b)).toEqual(Array.from(a));
      x.dispose();
      copy.dispose();
      model.dispose();
    },
  );
});

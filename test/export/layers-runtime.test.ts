/**
 * The JavaScript twins of netspec's tfjs runtime that exported LayersModels ship in layers.js
 * (src/compiler/targets/tfjs/export/runtime/) are exactly what scripts/layers-runtime.ts makes from the TypeScript
 * sources now: a change to torch-layers.ts, zoo-layers.ts or torch-activations.ts fails here until
 * `npm run generate` is run.
 * Their behaviour (loading, predicting and fine-tuning like netspec's own classes) is tested in export.test.ts.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layersModule } from '../../src/compiler/targets/tfjs/export/index.js';
import { LAYERS_RUNTIME, layersRuntimeTwins } from '../../scripts/layers-runtime.js';
import { compileIr } from '../support/compile.js';

describe('the layers.js runtime', () => {
  it('the committed twins are the TypeScript sources transpiled (run `npm run generate` after changing them)', async () => {
    const twins = await layersRuntimeTwins();
    expect([...twins.keys()]).toEqual(LAYERS_RUNTIME.map((r) => r.twin));
    for (const [file, text] of twins) expect(fs.readFileSync(file, 'utf8'), file).toBe(text);
  });

  it('holds the zoo and activation runtimes only for models that use them, and imports nothing', () => {
    const lenet = layersModule(compileIr('specs/lenet5.yaml'));
    const every = layersModule(compileIr('test/fixtures/kinds/every-kind.yaml'));
    const tokens = layersModule(compileIr('test/fixtures/kinds/every-kind-tokens.yaml'));
    expect(lenet).toContain('class TorchBatchNorm extends tf.layers.Layer');
    expect(lenet).not.toContain('TorchActivation');
    expect(lenet).not.toContain('registerZooLayers');
    expect(lenet).toContain('return { ...registerTorchLayers(tf) };');
    expect(every).toContain('class TorchActivation extends tf.layers.Layer');
    expect(every).toContain('class TorchCeilMaxPool2d extends tf.layers.Layer');
    expect(every).toContain(
      'return { ...registerTorchLayers(tf), ...registerZooLayers(tf), ...registerTorchActivations(tf) };',
    );
    expect(tokens).toContain('class TorchAttention extends tf.layers.Layer');
    for (const text of [lenet, every, tokens]) expect(text).not.toMatch(/^\s*import\b|\brequire\(/m);
  });
});

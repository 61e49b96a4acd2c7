/**
 * The tfjs-graph format's pieces without running a model: the kernel layout changes against plain index loops,
 * shards that join back into the bytes, a model.json whose every op is one tfjs-converter executes, names that
 * point at existing nodes and weights, and identical bytes for identical input.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { tfjsGraphModel, type GraphModelJson } from '../../src/compiler/targets/tfjs/export/index.js';
import {
  convKernelHwio,
  dilateHwio,
  shardBytes,
  shardTensors,
  splitHwioOutputs,
  transposeTensor,
} from '../../src/compiler/targets/tfjs/export/weights.js';
import { buildModel, setStateDict, type StateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { compileIr } from '../support/compile.js';
import { IrBuilder } from '../compiler/targets/ir-fixtures.js';
import { values } from '../support/values.js';

/** Deterministic weights of the IR's shapes (no model needed). */
function weightsOf(ir: IrNetwork): StateDict {
  const dict: StateDict = new Map();
  let seed = 1;
  for (const node of ir.nodes)
    for (const p of node.params)
      dict.set(`${node.path}.${p.name}`, {
        shape: p.shape,
        data: values(
          p.shape.reduce((a, b) => a * b, 1),
          seed++,
        ),
      });
  return dict;
}

/** Every TensorFlow op tfjs-converter 4.22 maps to tfjs (its op lists, as its operation mapper reads them). */
async function converterOps(): Promise<Set<string>> {
  const dir = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-converter/package.json')),
    'dist/operations/op_list',
  );
  const ops = new Set<string>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const { json } = (await import(path.join(dir, file))) as { json: { tfOpName: string }[] };
    for (const op of json) ops.add(op.tfOpName);
  }
  return ops;
}

describe('tfjs-graph export', () => {
  it('converts kernels like index loops: OIHW to HWIO, dilation, groups, transposes', () => {
    const [o, i, kh, kw] = [6, 2, 3, 2];
    const w = { shape: [o, i, kh, kw], data: values(o * i * kh * kw, 3) };
    const hwio = convKernelHwio(w);
    expect(hwio.shape).toEqual([kh, kw, i, o]);
    for (let a = 0; a < o; a++)
      for (let b = 0; b < i; b++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            expect(hwio.data[((y * kw + x) * i + b) * o + a]).toBe(w.data[((a * i + b) * kh + y) * kw + x]);

    const dilated = dilateHwio(hwio, [2, 3]);
    expect(dilated.shape).toEqual([5, 4, i, o]);
    for (let y = 0; y < 5; y++)
      for (let x = 0; x < 4; x++)
        for (let c = 0; c < i * o; c++) {
          const tap = y % 2 === 0 && x % 3 === 0;
          const want = tap ? hwio.data[((y / 2) * kw + x / 3) * i * o + c] : 0;
          expect(dilated.data[(y * 4 + x) * i * o + c]).toBe(want);
        }
    expect(dilateHwio(hwio, [1, 1])).toBe(hwio);

    const groups = splitHwioOutputs(hwio, 3);
    groups.forEach((g, n) => {
      expect(g.shape).toEqual([kh, kw, i, 2]);
      for (let r = 0; r < kh * kw * i; r++)
        for (let c = 0; c < 2; c++) expect(g.data[r * 2 + c]).toBe(hwio.data[r * o + n * 2 + c]);
    });

    const m = { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) };
    expect(transposeTensor(m, [1, 0])).toEqual({ shape: [3, 2], data: Float32Array.of(1, 4, 2, 5, 3, 6) });
  });

  it('cuts weights into shards that join back into the tensors in manifest order', () => {
    const tensors = [
      { name: 'a', shape: [3], dtype: 'float32' as const, data: Float32Array.of(1, 2, 3) },
      { name: 'b', shape: [2], dtype: 'int32' as const, data: Int32Array.of(-1, 7) },
    ];
    const { files, group } = shardTensors(tensors, 8);
    expect(group.paths).toEqual(['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);
    expect(group.weights).toEqual([
      { name: 'a', shape: [3], dtype: 'float32' },
      { name: 'b', shape: [2], dtype: 'int32' },
    ]);
    const joined = Buffer.concat(group.paths.map((p) => files.get(p) ?? new Uint8Array()));
    expect(new Float32Array(joined.buffer, joined.byteOffset, 3)).toEqual(Float32Array.of(1, 2, 3));
    expect(new Int32Array(joined.buffer.slice(joined.byteOffset + 12, joined.byteOffset + 20))).toEqual(
      Int32Array.of(-1, 7),
    );
    expect(shardBytes(new Uint8Array(), []).group.paths).toEqual(['group1-shard1of1.bin']);
  });

  it.each([
    'specs/resnet18.yaml',
    'test/fixtures/kinds/every-kind.yaml',
    'test/fixtures/kinds/every-kind-tokens.yaml',
    'test/fixtures/export/conv-variants.yaml',
  ])(
    '%s: a GraphDef of converter ops whose inputs and weights exist, the same bytes every time',
    async (spec) => {
      const ir = compileIr(spec);
      const weights = weightsOf(ir);
      const files = tfjsGraphModel(ir, weights);
      const again = tfjsGraphModel(ir, weights);
      expect([...again.keys()]).toEqual([...files.keys()]);
      for (const [name, data] of files)
        expect(Buffer.from(again.get(name) ?? '').equals(Buffer.from(data)), name).toBe(true);

      const model = JSON.parse(String(files.get('model.json'))) as GraphModelJson;
      expect(model.format).toBe('graph-model');
      const supported = await converterOps();
      const nodes = model.modelTopology.node;
      const names = new Set(nodes.map((n) => n.name));
      expect(names.size).toBe(nodes.length);
      for (const n of nodes) {
        expect(supported, `op ${n.op} of ${n.name}`).toContain(n.op);
        for (const input of n.input ?? [])
          expect(names, `input ${input} of ${n.name}`).toContain(input.split(':')[0]);
      }
      const consts = nodes.filter((n) => n.op === 'Const').map((n) => n.name);
      const manifest = model.weightsManifest.flatMap((g) => g.weights.map((w) => w.name));
      expect(manifest).toEqual(consts);
      expect(nodes.filter((n) => n.op === 'Placeholder').map((n) => n.name)).toEqual(['input']);
      expect(model.signature.inputs['input']?.name).toBe('input:0');
      expect(model.signature.outputs['logits']?.name).toBe('logits:0');
      // Every parameter of the IR is in the weights (BatchNorm's running statistics included); no training ops.
      const params = ir.nodes.reduce((n, node) => n + node.params.length, 0);
      expect(
        consts.filter((c) =>
          /\/(kernel\d*|depthwise_kernel|weight|bias|running_mean|running_var|(in|out)_proj_(weight|bias))$/.test(
            c,
          ),
        ).length,
      ).toBeGreaterThanOrEqual(params);
      expect(nodes.some((n) => /Dropout|Random/.test(n.op))).toBe(false);
      const batchNorms = nodes.filter((n) => n.op === 'FusedBatchNormV3');
      expect(batchNorms.length).toBe(ir.nodes.filter((n) => n.kind === 'batchnorm').length);
      for (const n of batchNorms) expect(n.attr?.['is_training']).toEqual({ b: false });
    },
  );

  it('sums three inputs left to right and names the output logits_1 when a layer is called logits', async () => {
    const b = new IrBuilder('sum3', [4]);
    for (const p of ['a', 'b', 'c']) b.linear(p, 'input', 3);
    b.sum('logits', ['a', 'b', 'c']);
    const ir = b.build();
    const files = tfjsGraphModel(ir, weightsOf(ir));
    const model = JSON.parse(String(files.get('model.json'))) as GraphModelJson;
    expect(model.signature.outputs['logits']?.name).toBe('logits_1:0');
    const adds = model.modelTopology.node.filter((n) => n.op === 'AddV2');
    expect(adds.map((n) => [n.name, n.input])).toEqual([
      ['logits/sum1', ['a', 'b']],
      ['logits', ['logits/sum1', 'c']],
    ]);
    // And it runs: tfjs's own loader, against netspec's model with the same weights.
    const tf = await import('@tensorflow/tfjs');
    await selectBackend('cpu');
    const net = buildModel(ir, { seed: 0 });
    expect(setStateDict(net, ir, weightsOf(ir))).toEqual([]);
    const shard = files.get('group1-shard1of1.bin') as Uint8Array;
    const graph = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: model.modelTopology,
        weightSpecs: model.weightsManifest.flatMap((g) =>
          g.weights.map((w) => ({ ...w, shape: [...w.shape] })),
        ),
        weightData: shard.slice().buffer,
        format: model.format,
      }),
    );
    const x = tf.tensor(values(8, 2), [2, 4]);
    const want = await (net.predict(x) as Tf.Tensor).data();
    const got = await (graph.predict(x) as Tf.Tensor).data();
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});

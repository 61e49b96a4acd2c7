/**
 * Issue 13 part C's kinds (layernorm, parameter, permute, reshape, select, attention, linear on tokens): the shape
 * rules against their definitions over grids, the IR they lower to (PyTorch's dims, parameters and initializers),
 * their initial weights in tfjs, and the errors for bad arguments with their positions.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderDiagnostics } from '../../../src/cli/render.js';
import type { IrNode } from '../../../src/compiler/ir.js';
import {
  attentionShape,
  layerNormShape,
  linearShape,
  permuteShape,
  reshapeShape,
  sampleDim,
  selectShape,
} from '../../../src/compiler/shapes.js';
import { generateTarget } from '../../../src/compiler/targets/index.js';
import { tfjsGraphModel, type GraphModelJson } from '../../../src/compiler/targets/tfjs/export/graph.js';
import { buildModel, getStateDict, setStateDict } from '../../../src/compiler/targets/tfjs/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { exportStateDict } from '../../../src/runtime/weights/state-dict-io.js';
import { compile, compileIr } from '../../support/compile.js';
import { PYTHON, pythonHas } from '../../support/torch.js';
import { maxAbsDiff, randomStateDict, rng, uniform } from '../targets/helpers.js';
import { referenceForward } from '../targets/reference-forward.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every permutation of 0..n-1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

describe('shape rules', () => {
  it("sampleDim: PyTorch's dims of a sample with its batch, negative from the end, the batch refused", () => {
    for (let rank = 1; rank <= 3; rank++)
      for (let dim = -rank - 2; dim <= rank + 1; dim++) {
        const r = sampleDim(dim, rank, 'x');
        const expected = dim < 0 ? dim + rank + 1 : dim;
        if (expected >= 1 && expected <= rank) expect(r).toEqual({ ok: true, dim: expected });
        else expect(r.ok, `${dim} of ${rank}`).toBe(false);
      }
    expect(sampleDim(0, 2, 'layernorm')).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(layerNormShape([8, 4, 4], 1)).toEqual({ ok: true, shape: [8, 4, 4] });
    expect(layerNormShape([16, 8], -1)).toEqual({ ok: true, shape: [16, 8] });
  });

  it('permute: every ordering of a sample of rank 1 to 3 keeps the batch first and moves sizes as x.permute', () => {
    let checked = 0;
    for (const input of [[5], [5, 7], [5, 7, 9]]) {
      for (const dims of permutations(input.length + 1)) {
        const r = permuteShape(input, dims);
        if (dims[0] !== 0) {
          expect(r.ok).toBe(false);
          continue;
        }
        // With a batch of 3: the permuted shape of [3, ...input], its batch dropped.
        const full = [3, ...input];
        expect(r).toEqual({ ok: true, shape: dims.map((d) => full[d]).slice(1) });
        checked++;
      }
    }
    expect(checked).toBe(1 + 2 + 6);
    expect(permuteShape([5, 7], [0, 1])).toMatchObject({ ok: false, code: 'SHAPE_MISMATCH' });
    expect(permuteShape([5, 7], [0, 1, 1])).toMatchObject({ ok: false, code: 'BAD_VALUE' });
  });

  it('reshape: the element count kept, one -1 inferred, both counts named when they differ', () => {
    for (const [input, shape, out] of [
      [
        [768, 14, 14],
        [768, 196],
        [768, 196],
      ],
      [
        [768, 14, 14],
        [768, -1],
        [768, 196],
      ],
      [[8, 16], [-1], [128]],
      [[128], [2, -1, 4], [2, 16, 4]],
      [[12, 1, 1], [12], [12]],
    ] as const)
      expect(reshapeShape(input, shape)).toEqual({ ok: true, shape: out });
    expect(reshapeShape([8, 4, 4], [8, 15])).toEqual({
      ok: false,
      code: 'SHAPE_MISMATCH',
      message: 'reshape of [8, 4, 4] (128 elements) to [8, 15] (120 elements): the counts differ',
    });
    expect(reshapeShape([8, 4, 4], [-1, 3])).toMatchObject({ ok: false, code: 'SHAPE_MISMATCH' });
    expect(reshapeShape([8, 4, 4], [-1, -1])).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(reshapeShape([8, 4, 4], [0, 128])).toMatchObject({ ok: false, code: 'BAD_VALUE' });
  });

  it("select: x.select(dim, index)'s shape for every dim and index, out of range refused", () => {
    const input = [3, 4, 5];
    for (let dim = 1; dim <= 3; dim++) {
      const size = input[dim - 1] ?? 0;
      for (let index = -size - 1; index <= size; index++) {
        const r = selectShape(input, dim, index);
        if (index < -size || index >= size) expect(r).toMatchObject({ ok: false, code: 'BAD_VALUE' });
        else expect(r).toEqual({ ok: true, shape: input.filter((_, k) => k !== dim - 1) });
      }
    }
    expect(selectShape([7], 1, 0)).toMatchObject({ ok: false, code: 'SHAPE_MISMATCH' });
  });

  it('attention wants tokens whose embedding divides into the heads; linear acts on the last axis of tokens', () => {
    expect(attentionShape([197, 768], 12)).toEqual({ ok: true, shape: [197, 768] });
    expect(attentionShape([197, 768], 5)).toMatchObject({ ok: false, code: 'BAD_VALUE' });
    expect(attentionShape([768], 12)).toMatchObject({ ok: false, code: 'SHAPE_MISMATCH' });
    expect(linearShape([197, 768], 3072)).toEqual({ ok: true, shape: [197, 3072] });
    expect(linearShape([768], 10)).toEqual({ ok: true, shape: [10] });
    expect(linearShape([768, 14, 14], 10)).toEqual({
      ok: false,
      code: 'NOT_FLAT',
      message: 'linear expects flat features [F], got [768, 14, 14]',
    });
  });
});

const spec = (layers: string, input = '[8, 4, 4]'): string =>
  ['netspec: 1', 'name: t', `input: ${input}`, 'modules:', `  - m: ${layers}`, ''].join('\n');

/** Tokens [16, 8] (or [16, 12]) come from a reshape: a network's input is [C, H, W] or [F]. */
const TOKENS = '[reshape: {shape: [16, 8]}, ';
const TOKENS_12 = '[reshape: {shape: [16, 12]}, ';

/** The node of the last layer in `layers`. */
const node = (layers: string, input?: string): IrNode => {
  const nodes = compileIr('a.yaml', { 'a.yaml': spec(layers, input) }).nodes;
  const n = nodes[nodes.length - 1];
  if (!n) throw new Error('no node');
  return n;
};

describe('lowering', () => {
  it("keeps PyTorch's dims without negatives and each kind's PyTorch parameters and initializers", () => {
    expect(node('[layernorm: {dim: 1}]')).toMatchObject({
      kind: 'layernorm',
      dim: 1,
      features: 8,
      eps: 1e-5,
    });
    expect(node(`${TOKENS_12}layernorm]`, '[192]')).toMatchObject({ dim: 2, features: 12, affine: true });
    expect(node(`${TOKENS_12}layernorm]`, '[192]').params.map((p) => [p.name, p.shape, p.init.kind])).toEqual(
      [
        ['weight', [12], 'ones'],
        ['bias', [12], 'zeros'],
      ],
    );
    expect(node(`${TOKENS_12}layernorm: {dim: -2, affine: false}]`, '[192]')).toMatchObject({
      dim: 1,
      params: [],
    });
    expect(node(`${TOKENS_12}select: {dim: -1, index: -1}]`, '[192]')).toMatchObject({
      dim: 2,
      index: 11,
      outputShape: [16],
    });
    expect(node('[permute: {dims: [0, 2, 3, 1]}]')).toMatchObject({
      dims: [0, 2, 3, 1],
      outputShape: [4, 4, 8],
    });
    expect(node('[reshape: {shape: [8, -1]}]').outputShape).toEqual([8, 16]);
    const attention = node(`${TOKENS}attention: {heads: 2}]`, '[128]');
    expect(attention).toMatchObject({ kind: 'attention', embed: 8, heads: 2, dropout: 0, bias: true });
    expect(attention.params.map((p) => [p.name, p.shape, p.init])).toEqual([
      ['in_proj_weight', [24, 8], { kind: 'xavier_uniform', fanIn: 8, fanOut: 24 }],
      ['in_proj_bias', [24], { kind: 'zeros' }],
      ['out_proj.weight', [8, 8], { kind: 'kaiming_uniform_a_sqrt5', fanIn: 8 }],
      ['out_proj.bias', [8], { kind: 'zeros' }],
    ]);
    expect(node(`${TOKENS}attention: {heads: 2, bias: false}]`, '[128]').params.map((p) => p.name)).toEqual([
      'in_proj_weight',
      'out_proj.weight',
    ]);
    expect(node(`${TOKENS}linear: {out: 5}]`, '[128]')).toMatchObject({
      inFeatures: 8,
      outFeatures: 5,
      outputShape: [16, 5],
    });
    for (const [args, init] of [
      ['{shape: [1, 8]}', { kind: 'zeros' }],
      ['{shape: [1, 8], init: ones}', { kind: 'ones' }],
      ['{shape: [1, 8], init: normal, std: 0.02}', { kind: 'normal', std: 0.02 }],
      ['{shape: [8, 1, 1], init: constant, value: 0.000001}', { kind: 'constant', value: 1e-6 }],
    ] as const)
      expect(node(`${TOKENS}parameter: ${args}]`, '[128]').params[0]?.init).toEqual(init);
    expect(node('[parameter: {shape: [8, 1, 1]}]')).toMatchObject({
      shape: [8, 1, 1],
      outputShape: [8, 1, 1],
    });
  });

  it('PyTorch spells each as its module: nn.LayerNorm on the last axis, LayerNorm2d on channels, the helpers', () => {
    const py = (layers: string, input?: string): string =>
      generateTarget(compileIr('a.yaml', { 'a.yaml': spec(layers, input) }), 'pytorch').get('model.py') ?? '';
    const map = py(
      '[layernorm: {dim: 1}, reshape: {shape: [8, 16]}, permute: {dims: [0, 2, 1]}, layernorm, attention: {heads: 2}, select: {dim: 1, index: 0}]',
    );
    for (const text of [
      'LayerNorm2d(8, eps=0.00001, elementwise_affine=True)',
      'Reshape(8, 16)',
      'Permute((0, 2, 1))',
      'nn.LayerNorm(8, eps=0.00001, elementwise_affine=True)',
      'SelfAttention(8, 2, dropout=0, bias=True)',
      'Select(1, 0)',
      'class LayerNorm2d(nn.LayerNorm):',
      'class SelfAttention(nn.MultiheadAttention):',
    ])
      expect(map).toContain(text);
    expect(map).not.toContain('class LayerNormDim');
    expect(py(`${TOKENS}layernorm: {dim: 1}]`, '[128]')).toContain('LayerNormDim(16, 1, eps=0.00001');
    expect(py('[parameter: {shape: [8, 1, 1], init: constant, value: 0.000001}]')).toContain(
      'Parameter((8, 1, 1), init="constant", value=0.000001)',
    );
    expect(py('[parameter: {shape: [8], init: normal, std: 0.02}]')).toContain(
      'Parameter((8,), init="normal", std=0.02)',
    );
    // A network without them has none of the helpers.
    expect(py('[flatten, linear: {out: 2}]')).not.toMatch(
      /class (LayerNorm|Parameter|Permute|Reshape|Select|Self)/,
    );
  });
});

describe('initial weights in tfjs', () => {
  it('draws normal(0, std), fills constants and bounds xavier_uniform by sqrt(6 / (fanIn + fanOut))', () => {
    const ir = compileIr('a.yaml', {
      'a.yaml': spec(
        '[parameter: {shape: [64, 64], init: normal, std: 0.5}, attention: {heads: 4}, permute: {dims: [0, 2, 1]}, reshape: {shape: [4, 4, 256]}, parameter: {shape: [4, 4, 256], init: constant, value: 0.25}]',
        '[128]',
      ),
    });
    const model = buildModel(ir, { seed: 5 });
    const dict = getStateDict(model, ir);
    const normal = Array.from(dict.get('m.0.weight')?.data ?? []);
    const mean = normal.reduce((a, v) => a + v, 0) / normal.length;
    const std = Math.sqrt(normal.reduce((a, v) => a + (v - mean) ** 2, 0) / normal.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.03);
    const inProj = Array.from(dict.get('m.1.in_proj_weight')?.data ?? []);
    const bound = Math.sqrt(6 / (64 + 192));
    expect(Math.max(...inProj.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...inProj)).toBeGreaterThan(0.9 * bound);
    expect(new Set(dict.get('m.1.in_proj_bias')?.data)).toEqual(new Set([0]));
    expect(new Set(dict.get('m.4.weight')?.data)).toEqual(new Set([0.25]));
    model.dispose();
  });
});

describe('attention dropout', () => {
  it('drops attention weights at random while training only', () => {
    const layers = (p: number) => `${TOKENS}attention: {heads: 2, dropout: ${p}}]`;
    const ir = compileIr('a.yaml', { 'a.yaml': spec(layers(0.5), '[128]') });
    const plain = compileIr('b.yaml', { 'b.yaml': spec(layers(0), '[128]') });
    const model = buildModel(ir, { seed: 2 });
    const reference = buildModel(plain, { seed: 2 });
    const x = tf.tensor(uniform(2 * 128, rng(1), -1, 1), [2, 128]);
    const run = (m: tf.LayersModel, training: boolean): Float32Array =>
      tf.tidy(() => (m.apply(x, { training }) as tf.Tensor).dataSync() as Float32Array);
    expect(maxAbsDiff(run(model, false), run(reference, false))).toBe(0);
    const a = run(model, true);
    expect(maxAbsDiff(a, run(reference, false))).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(a, run(model, true))).toBeGreaterThan(1e-3);
    tf.dispose([x]);
    model.dispose();
    reference.dispose();
  });
});

/** Layout corners the fixture leaves out: 1x1 maps, identity permutes, a parameter of a 1x1 map and of flat features. */
const EDGES = [
  'netspec: 1',
  'name: edges',
  'input: [8, 4, 4]',
  'blocks:',
  '  Bias:',
  '    params: {shape: ints}',
  '    body: [parameter: {shape: $shape, init: normal, std: 0.3}]',
  '    shortcut: {when: always, layers: [identity]}',
  '    merge: add',
  'modules:',
  '  - maps: [layernorm: {dim: 2}, permute: {dims: [0, 1, 2, 3]}, permute: {dims: [0, 3, 2, 1]}]',
  '  - one: [reshape: {shape: [128, 1, 1]}, Bias: {shape: [128, 1, 1]}, reshape: {shape: [2, 64]}]',
  '  - back: [layernorm: {dim: 1}, reshape: {shape: [4, 4, 8]}, select: {dim: 2, index: 1}, flatten]',
  '  - flat: [Bias: {shape: [32]}, layernorm, linear: {out: 5}]',
  '',
].join('\n');

describe('layouts', () => {
  it('corner cases: the tfjs model computes the float64 reference, and its GraphModel export the same', async () => {
    const ir = compileIr('edges.yaml', { 'edges.yaml': EDGES });
    expect(ir.nodes.map((n) => n.outputShape)).toContainEqual([128, 1, 1]);
    const model = buildModel(ir, { seed: 1 });
    const weights = randomStateDict(ir, 4);
    expect(setStateDict(model, ir, weights)).toEqual([]);
    const shape = [3, ...ir.inputShape];
    const x = uniform(
      shape.reduce((a, b) => a * b, 1),
      rng(6),
      -2,
      2,
    );
    const ours = tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    const reference = referenceForward(ir, weights, { shape, data: Float64Array.from(x) });
    expect(maxAbsDiff(ours, reference.data)).toBeLessThan(1e-5);
    const files = tfjsGraphModel(ir, weights);
    const json = JSON.parse(String(files.get('model.json'))) as GraphModelJson;
    const graph = await tf.loadGraphModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) =>
          g.weights.map((w) => ({ ...w, shape: [...w.shape] })),
        ),
        weightData: (files.get('group1-shard1of1.bin') as Uint8Array).slice().buffer,
        format: json.format,
      }),
    );
    const exported = tf.tidy(() => (graph.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync());
    expect(maxAbsDiff(exported, ours)).toBeLessThan(1e-6);
    model.dispose();
    if (!pythonHas('token-kind corner cases in PyTorch')) return;
    // The generated PyTorch (LayerNormDim on a map's height, a [128, 1, 1] and a flat parameter) gives them too.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-edges-'));
    fs.writeFileSync(path.join(work, 'model.py'), generateTarget(ir, 'pytorch').get('model.py') ?? '');
    fs.writeFileSync(
      path.join(work, 'weights.safetensors'),
      encodeSafetensors(exportStateDict(weights, ir, 0)),
    );
    fs.writeFileSync(
      path.join(work, 'input.safetensors'),
      encodeSafetensors(new Map([['input', { dtype: 'F32', shape, data: Float32Array.from(x) }]])),
    );
    const args = ['test/parity/reference.py', 'generated', path.join(work, 'model.py'), work];
    expect(execFileSync(PYTHON, args, { encoding: 'utf8' }).trim()).toBe('OK');
    const expected = decodeSafetensors(fs.readFileSync(path.join(work, 'expected.safetensors')), 'expected');
    const torch = expected.tensors.get('output')?.data as Float32Array;
    expect(maxAbsDiff(ours, torch)).toBeLessThan(1e-5);
    fs.rmSync(work, { recursive: true, force: true });
  });
});

/** What `netspec check` prints first for `text` as `file`. */
function rendered(text: string, file = 'spec.yaml'): string {
  const r = compile(file, { [file]: text });
  expect(r.ir).toBeUndefined();
  return renderDiagnostics(r.diagnostics, r.sources).split('\n')[0] ?? '';
}

describe('errors, with positions', () => {
  it.each([
    [
      '[linear: {out: 4}]',
      '[8, 4, 4]',
      'spec.yaml:5:9: error NOT_FLAT: m.0: linear expects flat features [F], got [8, 4, 4]',
    ],
    [
      '[reshape: {shape: [8, 15]}]',
      '[8, 4, 4]',
      'spec.yaml:5:9: error SHAPE_MISMATCH: m.0: reshape of [8, 4, 4] (128 elements) to [8, 15] (120 elements): the counts differ',
    ],
    [
      `${TOKENS}attention: {heads: 3}]`,
      '[128]',
      'spec.yaml:5:36: error BAD_VALUE: m.1: attention embedding 8 does not divide into 3 heads',
    ],
    [
      '[attention: {heads: 2}]',
      '[8, 4, 4]',
      'spec.yaml:5:9: error SHAPE_MISMATCH: m.0: attention expects tokens [T, E], got [8, 4, 4]',
    ],
    [
      `${TOKENS}permute: {dims: [1, 0, 2]}]`,
      '[128]',
      'spec.yaml:5:36: error BAD_VALUE: m.1: permute dims [1, 0, 2] must keep the batch axis first (dims[0] = 0)',
    ],
    [
      `${TOKENS}select: {dim: 0, index: 0}]`,
      '[128]',
      'spec.yaml:5:36: error BAD_VALUE: m.1: select dim 0 is the batch axis; a layer acts on each sample (dims 1 to 2, or -1 to -2)',
    ],
    [
      '[layernorm: {dim: 4}]',
      '[8, 4, 4]',
      'spec.yaml:5:9: error BAD_VALUE: m.0: layernorm dim 4 is out of range for an input of 3 dimensions and the batch (dims 1 to 3, or -1 to -3)',
    ],
    [
      '[parameter: {shape: [1, 2, 3, 4]}]',
      '[8]',
      "spec.yaml:5:28: error WRONG_TYPE: parameter argument 'shape' expects a list of 1 to 3 integers, found list [1, 2, 3, 4]",
    ],
    [
      '[parameter: {shape: [4], init: uniform}]',
      '[8]',
      "spec.yaml:5:39: error BAD_VALUE: parameter argument 'init' expects one of 'zeros', 'ones', 'normal', 'constant', found string \"uniform\"",
    ],
  ])('%s on %s', (layers, input, message) => {
    expect(rendered(spec(layers, input))).toBe(message);
  });

  it('in the DSL too', () => {
    const dsl = [
      'network "t" {',
      '  input [128]',
      '  module m { reshape([16, 8]); attention(heads = 3) }',
      '}',
      '',
    ].join('\n');
    expect(rendered(dsl, 'spec.net')).toBe(
      'spec.net:3:32: error BAD_VALUE: m.1: attention embedding 8 does not divide into 3 heads',
    );
  });
});

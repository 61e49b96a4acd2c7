/**
 * `netspec export --format onnx`: every canonical spec, the every-kind, tokens, graph and conv-variants fixtures
 * (every op kind among them, at opsets 17 and 13) and every zoo spec at a small input, with random weights and
 * random BatchNorm statistics, run in onnxruntime-node and give `netspec predict`'s logits within 1e-5 relative
 * (native backend where the addon is built, as in CI, else wasm). Every file passes onnx.checker with full
 * checking, and ONNX's strict shape inference gives each layer's node the IR's shape, in one Debian Python
 * process. The command: formats, --opset, metadata, the write policy.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Ort from 'onnxruntime-node';
import { numel, type IrNetwork } from '../../src/compiler/ir.js';
import { OP_KINDS, opKindOf } from '../../src/compiler/ops/index.js';
import {
  ONNX_INPUT,
  ONNX_OUTPUT,
  decodeOnnxModel,
  onnxModel,
} from '../../src/compiler/targets/onnx/index.js';
import { buildModel, getStateDict, type StateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { loadNativeAddon } from '../../src/runtime/backends/native-backend.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { predict } from '../../src/runtime/session/predict.js';
import { decodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { DEFAULT_TRAIN_CONFIG, type RunConfig } from '../../src/runtime/train/index.js';
import { cli } from '../support/cli.js';
import { compileIr } from '../support/compile.js';
import { PYTHON, pythonHas } from '../support/torch.js';
import { randomizedWeights, relativeError, values } from '../support/values.js';
import { readFacts, ZOO_NETS } from '../support/zoo.js';

const TOLERANCE = 1e-5;
const backend = typeof loadNativeAddon() === 'string' ? 'wasm' : 'native';
const run = promisify(execFile);

/** A network to export: its spec with `--set`s, the opset, and the batch. */
interface Case {
  readonly name: string;
  readonly spec: string;
  readonly set?: readonly string[];
  readonly opset: number;
  readonly batch: number;
}

const canonical = fs
  .readdirSync('specs')
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f): Case => ({ name: path.basename(f, '.yaml'), spec: `specs/${f}`, opset: 17, batch: 2 }));
const FIXTURES = [
  { name: 'every-kind', spec: 'test/fixtures/kinds/every-kind.yaml' },
  { name: 'every-kind-tokens', spec: 'test/fixtures/kinds/every-kind-tokens.yaml' },
  { name: 'repeats', spec: 'test/fixtures/graphs/repeats.net' },
  { name: 'conv-variants', spec: 'test/fixtures/export/conv-variants.yaml' },
];
// Below opset 17 LayerNormalization is written as its parts and below 14 HardSwish as x * HardSigmoid(x).
const fixtures = [17, 13].flatMap((opset) =>
  FIXTURES.map((f): Case => ({ ...f, name: `${f.name}-opset${opset}`, opset, batch: 3 })),
);
/**
 * The zoo at its smallest input (nets taking any size at 33x33, where adaptive pools have uneven, overlapping
 * bins), batch 2.
 */
const zoo = ZOO_NETS.map((name): Case => {
  const smallest = readFacts(name).smallestInput;
  return {
    name,
    spec: `specs/zoo/${name}.net`,
    set: [`size=${smallest === 1 ? 33 : smallest}`],
    opset: 17,
    batch: 2,
  };
});
const CASES: readonly Case[] = [...canonical, ...fixtures, ...zoo];

let tmp: string;
let ort: typeof Ort;
/** Per case: its IR and the file written (checked by onnx.checker at the end). */
const exported = new Map<string, { readonly ir: IrNetwork; readonly file: string }>();

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-onnx-'));
  ort = await import('onnxruntime-node');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Random weights and BN statistics for `ir`, from netspec's own initialisation (so activations stay finite). */
async function weightsOf(ir: IrNetwork): Promise<StateDict> {
  await selectBackend(backend);
  const model = buildModel(ir, { seed: 1 });
  try {
    return randomizedWeights(getStateDict(model, ir), 7, { biases: true });
  } finally {
    model.dispose();
  }
}

/** onnxruntime's output for `input` of the model `bytes`. */
async function runOnnx(bytes: Uint8Array, shape: number[], data: Float32Array): Promise<Ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    expect(session.inputNames).toEqual([ONNX_INPUT]);
    expect(session.outputNames).toEqual([ONNX_OUTPUT]);
    const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', data, shape) });
    const logits = out[ONNX_OUTPUT];
    if (!logits) throw new Error('no output');
    return logits;
  } finally {
    await session.release();
  }
}

describe(`ONNX export runs in onnxruntime-node and equals netspec predict on ${backend}`, () => {
  for (const c of CASES)
    it(`${c.name} (opset ${c.opset}, batch ${c.batch})`, async () => {
      const start = performance.now();
      const ir = compileIr(c.spec, {}, { set: [...(c.set ?? [])] });
      const weights = await weightsOf(ir);
      const bytes = await onnxModel(ir, weights, {
        opset: c.opset,
        netspecVersion: '0.0.0-test',
        spec: c.spec,
        weights: 'random test weights',
      });
      const shape = [c.batch, ...ir.inputShape];
      const data = values(numel(shape), 5).map((v) => 3 * v);
      const want = await predict(ir, weights, { shape, data }, backend);
      if ('diagnostics' in want) throw new Error(JSON.stringify(want.diagnostics));
      const got = await runOnnx(bytes, shape, data);
      expect(got.dims).toEqual([c.batch, ...ir.outputShape]);
      const error = relativeError(got.data as Float32Array, want.data);
      console.log(
        `onnx ${c.name}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, max |difference| from predict ` +
          `${error.toExponential(2)} relative (${((performance.now() - start) / 1000).toFixed(1)} s)`,
      );
      expect(error).toBeLessThanOrEqual(TOLERANCE);
      const file = path.join(tmp, `${c.name}.onnx`);
      fs.writeFileSync(file, bytes);
      exported.set(c.name, { ir, file });
    }, 180_000);

  it('the cases cover every op kind', () => {
    const kinds = new Set([...exported.values()].flatMap(({ ir }) => ir.nodes.map(opKindOf)));
    expect([...kinds].sort()).toEqual([...OP_KINDS].sort());
  });
});

/** What check.py prints per file: the inferred shape of every tensor (null for a symbolic dimension). */
type Inferred = Record<string, Record<string, (number | string)[]>>;

const CHECK_PY = `
import json, sys
import onnx
out = {}
for f in sys.argv[1:]:
    m = onnx.load(f)
    onnx.checker.check_model(m, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True, data_prop=True)
    shapes = {}
    for v in list(inferred.graph.value_info) + list(inferred.graph.output):
        dims = v.type.tensor_type.shape.dim
        shapes[v.name] = [d.dim_param if d.HasField('dim_param') else d.dim_value for d in dims]
    out[f] = shapes
    try:
        import onnxruntime
    except ImportError:
        continue
    onnxruntime.InferenceSession(f, providers=['CPUExecutionProvider'])
print(json.dumps(out))
`;

describe.skipIf(!pythonHas('onnx.checker on the exported files', ['onnx']))('onnx.checker', () => {
  it("passes with full checking, and strict shape inference gives every layer the IR's shape", async () => {
    expect(exported.size).toBe(CASES.length);
    const script = path.join(tmp, 'check.py');
    fs.writeFileSync(script, CHECK_PY);
    const files = [...exported.values()].map((e) => e.file);
    const { stdout } = await run(PYTHON, [script, ...files], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
    const inferred = JSON.parse(stdout) as Inferred;
    const mismatches: string[] = [];
    for (const [name, { ir, file }] of exported) {
      const shapes = inferred[file];
      if (!shapes) throw new Error(`no shapes for ${name}`);
      for (const tensor of [ONNX_OUTPUT, ...ir.nodes.map((n) => n.path)]) {
        const node = ir.nodes.find((n) => n.path === tensor);
        const want = JSON.stringify(['batch', ...(node ? node.outputShape : ir.outputShape)]);
        const got = JSON.stringify(shapes[tensor]);
        if (got !== want) mismatches.push(`${name} ${tensor}: ${got}, not ${want}`);
      }
    }
    expect(mismatches).toEqual([]);
  }, 300_000);
});

const runConfig: RunConfig = {
  training: DEFAULT_TRAIN_CONFIG,
  data: { source: 'synthetic', train: 0, dev: 0, test: 0 },
};

describe('netspec export --format onnx', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-onnx-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes a checkpoint's weights with the model's provenance, and the same file for --format safetensors as export-weights", async () => {
    const ir = compileIr('specs/lenet5.yaml');
    const weights = await weightsOf(ir);
    const checkpoint = path.join(dir, 'checkpoint');
    saveCheckpoint(checkpoint, { kind: 'best', ir, config: runConfig, backend: 'cpu', weights });
    const file = path.join(dir, 'lenet5.onnx');
    const r = await cli(
      'export',
      'specs/lenet5.yaml',
      '--checkpoint',
      checkpoint,
      '--format',
      'onnx',
      '-o',
      file,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^wrote ${file}: 'lenet5' as ONNX \\(opset 17\\), checkpoint ${checkpoint} \\(\\d+\\.\\d MiB, `,
      ),
    );
    const model = await decodeOnnxModel(fs.readFileSync(file));
    expect(model.producerName).toBe('netspec');
    expect(model.graph?.name).toBe('lenet5');
    expect(model.docString).toContain(
      `the network 'lenet5' of specs/lenet5.yaml with checkpoint ${checkpoint}`,
    );
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta).toMatchObject({
      network: 'lenet5',
      spec: 'specs/lenet5.yaml',
      weights: `checkpoint ${checkpoint}`,
    });
    expect(meta['netspec']).toMatch(/^\d+\.\d+\.\d+/);
    // Initializers are the state dict under its keys, untransposed (constants are `<path>/<role>`); node names are
    // layer paths.
    const graph = model.graph ?? {};
    const init = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
    expect([...init.keys()].filter((k) => !k.includes('/')).sort()).toEqual(
      ir.nodes.flatMap((n) => n.params.map((p) => `${n.path}.${p.name}`)).sort(),
    );
    const first = ir.nodes.find((n) => n.params.some((p) => p.name === 'weight'));
    const want = first && weights.get(`${first.path}.weight`);
    const stored = first && init.get(`${first.path}.weight`);
    if (!want || !stored) throw new Error('no first weight');
    expect((stored.dims ?? []).map(Number)).toEqual([...want.shape]);
    expect(new Float32Array(new Uint8Array(stored.rawData ?? []).buffer)).toEqual(want.data);
    const names = new Set((graph.node ?? []).map((n) => n.name));
    for (const node of ir.nodes) expect(names.has(node.path)).toBe(true);

    const viaExport = path.join(dir, 'export.safetensors');
    const viaOld = path.join(dir, 'export-weights.safetensors');
    const e = await cli(
      'export',
      'specs/lenet5.yaml',
      '--checkpoint',
      checkpoint,
      '--format',
      'safetensors',
      '-o',
      viaExport,
    );
    const w = await cli('export-weights', 'specs/lenet5.yaml', '--checkpoint', checkpoint, '-o', viaOld);
    expect([e.code, e.stderr, w.code, w.stderr]).toEqual([0, '', 0, '']);
    expect(fs.readFileSync(viaExport).equals(fs.readFileSync(viaOld))).toBe(true);
    const tensors = decodeSafetensors(fs.readFileSync(viaOld), viaOld).tensors.size;
    expect(w.stdout).toBe(`wrote ${viaOld}: ${tensors} tensors of 'lenet5' (PyTorch layout and names)\n`);
  });

  it('--opset 13 writes opset 13; an opset outside 13..17, or --opset with another format, writes nothing', async () => {
    const file = path.join(dir, 'opset13.onnx');
    const ok = await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '--opset', '13', '-o', file);
    expect(ok.code).toBe(0);
    const model = await decodeOnnxModel(fs.readFileSync(file));
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(Number(model.irVersion)).toBe(7);
    const bad = path.join(dir, 'opset12.onnx');
    const r = await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '--opset', '12', '-o', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: --opset 12: opset 12 is not one netspec writes: give an ONNX opset from 13 to 17/,
    );
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const other = await cli(
      'export',
      'specs/lenet5.yaml',
      '--format',
      'tfjs-graph',
      '--opset',
      '13',
      '-o',
      bad,
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--opset is an ONNX option: it needs --format onnx/);
    expect(fs.existsSync(bad)).toBe(false);
  });

  it("never replaces a file netspec did not write; --force replaces netspec's own ONNX file", async () => {
    const file = path.join(dir, 'user.onnx');
    fs.writeFileSync(file, 'my notes');
    const refused = await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '-o', file, '--force');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*user\.onnx/);
    expect(fs.readFileSync(file, 'utf8')).toBe('my notes');
    // A real ONNX model of another producer is not netspec's either.
    const foreign = await decodeOnnxModel(fs.readFileSync(path.join(dir, 'lenet5.onnx')));
    foreign.producerName = 'pytorch';
    const { encodeOnnxModel } = await import('../../src/compiler/targets/onnx/index.js');
    const theirs = path.join(dir, 'theirs.onnx');
    fs.writeFileSync(theirs, await encodeOnnxModel(foreign));
    const before = fs.readFileSync(theirs);
    const again = await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '-o', theirs, '--force');
    expect(again.code).toBe(1);
    expect(fs.readFileSync(theirs).equals(before)).toBe(true);

    const own = path.join(dir, 'own.onnx');
    expect((await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '-o', own)).code).toBe(0);
    const exists = await cli('export', 'specs/lenet5.yaml', '--format', 'onnx', '-o', own, '--seed', '3');
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/--force/);
    const forced = await cli(
      'export',
      'specs/lenet5.yaml',
      '--format',
      'onnx',
      '-o',
      own,
      '--seed',
      '3',
      '--force',
    );
    expect(forced.code).toBe(0);
    const meta = (await decodeOnnxModel(fs.readFileSync(own))).metadataProps;
    expect(meta.find((p) => p.key === 'weights')?.value).toBe('initial weights, seed 3');
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a spec with an error prints its diagnostic and writes nothing', async () => {
    const spec = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      spec,
      'netspec: 1\nname: bad\ninput: [1, 8, 8]\nmodules:\n  - body: [conv: {out: 4, kernal: 3}]\n',
    );
    const file = path.join(dir, 'bad.onnx');
    const r = await cli('export', spec, '--format', 'onnx', '-o', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:5:\d+: error UNKNOWN_ARGUMENT/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

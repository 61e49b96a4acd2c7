/**
 * `netspec export`: every format loads in plain TensorFlow.js, in a child process that imports nothing of netspec
 * (test/export/plain-tfjs.mjs), and gives `netspec predict`'s logits (src/runtime/session predict) within 1e-5,
 * on cpu and wasm, and on webgpu where SwiftShader runs it. The networks are the seed specs, the every-kind
 * fixture (every op kind) and the conv-variants fixture (the convolution, pooling and BatchNorm variants
 * every-kind leaves out), exported from checkpoints with random weights and random BN statistics.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { OP_KINDS, opKindOf } from '../../src/compiler/ops/index.js';
import type * as Tf from '@tensorflow/tfjs';
import {
  buildModel,
  getStateDict,
  setStateDict,
  type StateDict,
} from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { SWIFTSHADER_ICD } from '../../src/runtime/backends/webgpu.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../src/runtime/export/formats.js';
import { predict } from '../../src/runtime/session/predict.js';
import { DEFAULT_TRAIN_CONFIG, type RunConfig } from '../../src/runtime/train/index.js';
import { cli } from '../support/cli.js';
import { compileIr } from '../support/compile.js';
import { values, randomizedWeights } from '../support/values.js';
import { swiftShaderMissing } from '../support/webgpu.js';

/** A network to export: its spec (with `--set`s), the batch, and what else is done with it. */
interface Case {
  readonly name: string;
  readonly spec: string;
  readonly set?: readonly string[];
  readonly batch: number;
  /** Fine-tuned for one step as an exported LayersModel (no dropout: its mask is random in each process). */
  readonly fineTune: boolean;
  /**
   * The formats loaded on webgpu: SwiftShader takes seconds per ResNet18 forward, so the GraphModel (what a GPU
   * app deploys) of the seed ResNet18 and both formats of the small networks, every op kind among them.
   */
  readonly webgpu: readonly ExportFormat[];
}

const BOTH = EXPORT_FORMATS;
const CASES: readonly Case[] = [
  { name: 'lenet5', spec: 'specs/lenet5.yaml', batch: 4, fineTune: true, webgpu: BOTH },
  { name: 'resnet18', spec: 'specs/resnet18.yaml', batch: 2, fineTune: false, webgpu: ['tfjs-graph'] },
  { name: 'resnet18-plain', spec: 'specs/resnet18-plain.yaml', batch: 2, fineTune: false, webgpu: [] },
  { name: 'vgg-small', spec: 'specs/vgg-small.yaml', batch: 2, fineTune: false, webgpu: [] },
  {
    name: 'every-kind',
    spec: 'test/fixtures/kinds/every-kind.yaml',
    batch: 4,
    fineTune: false,
    webgpu: BOTH,
  },
  {
    name: 'every-kind-p0',
    spec: 'test/fixtures/kinds/every-kind.yaml',
    set: ['drop=0'],
    batch: 4,
    fineTune: true,
    webgpu: [],
  },
  {
    name: 'every-kind-tokens',
    spec: 'test/fixtures/kinds/every-kind-tokens.yaml',
    set: ['drop=0'],
    batch: 3,
    fineTune: true,
    webgpu: [],
  },
  // The graph language: merges, named repeats, from, a one-branch merge.
  { name: 'repeats', spec: 'test/fixtures/graphs/repeats.net', batch: 2, fineTune: true, webgpu: [] },
  {
    name: 'conv-variants',
    spec: 'test/fixtures/export/conv-variants.yaml',
    batch: 3,
    fineTune: true,
    webgpu: BOTH,
  },
];
const TOLERANCE = 1e-5;
const RUNNER = 'test/export/plain-tfjs.mjs';
const run = promisify(execFile);

const runConfig: RunConfig = {
  training: DEFAULT_TRAIN_CONFIG,
  data: { source: 'synthetic', train: 0, dev: 0, test: 0 },
};

interface Prepared extends Case {
  readonly ir: IrNetwork;
  readonly weights: StateDict;
  readonly shape: number[];
  readonly input: string;
  readonly dirs: Readonly<Record<ExportFormat, string>>;
  /** `netspec predict`'s logits by backend. */
  readonly expected: ReadonlyMap<string, Float32Array>;
}

let tmp: string;
const prepared: Prepared[] = [];
/** Why SwiftShader cannot run webgpu here, or undefined. */
const webgpuMissing = swiftShaderMissing();

/**
 * Runs the plain-tfjs loader on `backend` over the `formats` of each case (fine-tuned with `fineTune`), in a child
 * process without blocking this one; returns the logits by `case/format` (and `/loss`, `/after` when fine-tuned).
 */
async function loadPlain(
  backend: string,
  formats: (p: Prepared) => readonly ExportFormat[],
  fineTune = false,
): Promise<Map<string, Float32Array>> {
  const cases = prepared.flatMap((p) =>
    formats(p).map((format) => ({
      key: `${p.name}/${format}`,
      dir: p.dirs[format],
      format,
      input: p.input,
      shape: p.shape,
      output: path.join(tmp, `${p.name}-${format}-${backend}${fineTune ? '-tuned' : ''}.f32`),
      fineTune,
    })),
  );
  const job = path.join(tmp, `job-${backend}${fineTune ? '-tuned' : ''}.json`);
  fs.writeFileSync(job, JSON.stringify({ backend, cases }));
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? tmp,
  };
  const { stdout } = await run(process.execPath, [RUNNER, job], { encoding: 'utf8', env });
  expect(stdout).toContain(`OK ${backend}`);
  const results = new Map<string, Float32Array>();
  for (const c of cases) {
    results.set(c.key, readFloats(c.output));
    if (!fineTune) continue;
    results.set(`${c.key}/loss`, readFloats(`${c.output}.loss`));
    results.set(`${c.key}/after`, readFloats(`${c.output}.after`));
  }
  return results;
}

function readFloats(file: string): Float32Array {
  const bytes = fs.readFileSync(file);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return d;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-export-'));
  for (const c of CASES) {
    await selectBackend('cpu');
    const set = [...(c.set ?? [])];
    const ir = compileIr(c.spec, {}, { set });
    const model = buildModel(ir, { seed: 1 });
    const weights = randomizedWeights(getStateDict(model, ir), 7, { biases: true });
    model.dispose();
    const checkpoint = path.join(tmp, c.name, 'checkpoint');
    saveCheckpoint(checkpoint, { kind: 'best', ir, config: runConfig, backend: 'cpu', weights });
    const dirs = {} as Record<ExportFormat, string>;
    for (const format of EXPORT_FORMATS) {
      dirs[format] = path.join(tmp, c.name, format);
      const run = await cli(
        'export',
        c.spec,
        ...set.flatMap((s) => ['--set', s]),
        '--checkpoint',
        checkpoint,
        '--format',
        format,
        '-o',
        dirs[format],
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    const shape = [c.batch, ...ir.inputShape];
    const data = values(
      shape.reduce((a, b) => a * b, 1),
      5,
    ).map((v) => 3 * v);
    const input = path.join(tmp, `${c.name}-input.f32`);
    fs.writeFileSync(input, Buffer.from(data.buffer));
    const expected = new Map<string, Float32Array>();
    const backends =
      webgpuMissing === undefined && c.webgpu.length
        ? (['cpu', 'wasm', 'webgpu'] as const)
        : (['cpu', 'wasm'] as const);
    for (const backend of backends) {
      const p = await predict(ir, weights, { shape, data }, backend);
      if ('diagnostics' in p) throw new Error(JSON.stringify(p.diagnostics));
      expected.set(backend, p.data);
    }
    prepared.push({ ...c, ir, weights, shape, input, dirs, expected });
  }
}, 300_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('netspec export loads in plain tfjs and equals netspec predict', () => {
  it('the fixtures cover every op kind', () => {
    const kinds = new Set(prepared.flatMap((p) => p.ir.nodes.map(opKindOf)));
    expect([...kinds].sort()).toEqual([...OP_KINDS].sort());
  });

  it.each(['cpu', 'wasm'])('on %s', async (backend) => {
    const got = await loadPlain(backend, () => EXPORT_FORMATS);
    for (const p of prepared) {
      const want = p.expected.get(backend);
      if (!want) throw new Error(`no ${backend} prediction`);
      for (const format of EXPORT_FORMATS) {
        const diff = maxDiff(got.get(`${p.name}/${format}`) ?? new Float32Array(), want);
        console.log(
          `export ${format} ${p.name} on ${backend}: max |difference| from predict ${diff.toExponential(2)}`,
        );
        expect(diff).toBeLessThanOrEqual(TOLERANCE);
      }
    }
  });

  it("a LayersModel fine-tunes in plain tfjs as netspec's own model trains (one SGD step on cpu)", async () => {
    const got = await loadPlain('cpu', (p) => (p.fineTune ? ['tfjs-layers'] : []), true);
    const tf = await import('@tensorflow/tfjs');
    await selectBackend('cpu');
    for (const p of prepared.filter((q) => q.fineTune)) {
      const model = buildModel(p.ir, { seed: 1 });
      expect(setStateDict(model, p.ir, p.weights)).toEqual([]);
      const x = tf.tensor(readFloats(p.input), p.shape);
      const y = model.predict(x) as Tf.Tensor;
      model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
      const history = await model.fit(x, tf.zerosLike(y), {
        epochs: 1,
        batchSize: p.shape[0] ?? 1,
        shuffle: false,
      });
      const after = new Float32Array(await (model.predict(x) as Tf.Tensor).data());
      const loss = Number(history.history['loss']?.[0]);
      const theirs = got.get(`${p.name}/tfjs-layers/after`) ?? new Float32Array();
      const theirLoss = got.get(`${p.name}/tfjs-layers/loss`)?.[0] ?? NaN;
      const before = got.get(`${p.name}/tfjs-layers`) ?? new Float32Array();
      console.log(
        `export tfjs-layers ${p.name} fine-tuned in plain tfjs: loss ${theirLoss} (netspec ${loss}), logits after ` +
          `the step within ${maxDiff(theirs, after).toExponential(2)} of netspec's`,
      );
      expect(Math.abs(theirLoss - loss)).toBeLessThanOrEqual(TOLERANCE);
      expect(maxDiff(theirs, before)).toBeGreaterThan(0);
      expect(maxDiff(theirs, after)).toBeLessThanOrEqual(TOLERANCE);
      tf.dispose([x, y]);
      model.dispose();
    }
  });

  it.skipIf(webgpuMissing !== undefined)(
    'on webgpu (SwiftShader)',
    async () => {
      const got = await loadPlain('webgpu', (p) => p.webgpu);
      for (const p of prepared) {
        const onGpu = p.expected.get('webgpu');
        const cpu = p.expected.get('cpu');
        if (!p.webgpu.length) continue;
        if (!cpu) throw new Error('no cpu prediction');
        for (const format of p.webgpu) {
          const logits = got.get(`${p.name}/${format}`) ?? new Float32Array();
          const diff = maxDiff(logits, cpu);
          if (!onGpu) throw new Error('no webgpu prediction');
          const onGpuDiff = maxDiff(logits, onGpu);
          console.log(
            `export ${format} ${p.name} on webgpu: max |difference| from predict on cpu ${diff.toExponential(2)}, ` +
              `from predict on webgpu ${onGpuDiff.toExponential(2)}`,
          );
          expect(diff).toBeLessThanOrEqual(TOLERANCE);
          expect(onGpuDiff).toBeLessThanOrEqual(TOLERANCE);
        }
      }
    },
    300_000,
  );
  if (webgpuMissing !== undefined) console.warn(`export on webgpu skipped: ${webgpuMissing}`);
});

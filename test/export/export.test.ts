/**
 * `netspec export`: every format loads in plain TensorFlow.js, in a child process that imports nothing of netspec
 * (test/export/plain-tfjs.mjs), and gives `netspec predict`'s logits (src/runtime/session predict) within 1e-5,
 * on cpu and wasm, and on webgpu where SwiftShader runs it. The networks are the seed specs, the every-kind
 * fixture (every op kind) and the conv-variants fixture (the convolution, pooling and BatchNorm variants
 * every-kind leaves out), exported from checkpoints with random weights and random BN statistics.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { OP_KINDS, opKindOf } from '../../src/compiler/ops/index.js';
import { buildModel, getStateDict, type StateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../src/runtime/export/formats.js';
import { predict } from '../../src/runtime/session/predict.js';
import { DEFAULT_TRAIN_CONFIG, type RunConfig } from '../../src/runtime/train/index.js';
import { cli } from '../support/cli.js';
import { compileIr } from '../support/compile.js';
import { values } from '../support/values.js';

/** The networks, each at a small batch (ResNet18 at 2: SwiftShader is slow). */
const CASES = [
  { name: 'lenet5', spec: 'specs/lenet5.yaml', batch: 4 },
  { name: 'resnet18', spec: 'specs/resnet18.yaml', batch: 2 },
  { name: 'resnet18-plain', spec: 'specs/resnet18-plain.yaml', batch: 2 },
  { name: 'vgg-small', spec: 'specs/vgg-small.yaml', batch: 2 },
  { name: 'every-kind', spec: 'test/fixtures/kinds/every-kind.yaml', batch: 4 },
  { name: 'conv-variants', spec: 'test/fixtures/export/conv-variants.yaml', batch: 3 },
] as const;
const TOLERANCE = 1e-5;
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const RUNNER = 'test/export/plain-tfjs.mjs';

const runConfig: RunConfig = {
  training: DEFAULT_TRAIN_CONFIG,
  data: { source: 'synthetic', train: 0, dev: 0, test: 0 },
};

/** The model's initial weights with non-trivial BN parameters and statistics, so a wrong mapping cannot pass. */
function randomized(dict: StateDict, seed: number): StateDict {
  const out: StateDict = new Map();
  let s = seed;
  for (const [name, t] of dict) {
    const v = values(t.data.length, s++);
    const data = name.endsWith('running_var')
      ? v.map((x) => 1 + 0.75 * x)
      : name.endsWith('running_mean')
        ? v.map((x) => 0.2 * x)
        : t.shape.length === 1 && name.endsWith('weight')
          ? v.map((x) => 1 + 0.5 * x)
          : name.endsWith('bias')
            ? v.map((x) => 0.1 * x)
            : t.data;
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/** Why webgpu cannot run here (the `webgpu` package, the Vulkan loader, SwiftShader's driver), or undefined. */
function webgpuMissing(): string | undefined {
  try {
    execFileSync(process.execPath, [
      '-e',
      "import('webgpu').then(() => process.exit(0), () => process.exit(1))",
    ]);
  } catch {
    return 'the optional package webgpu (Dawn for Node) does not load';
  }
  if (!existsSync(SWIFTSHADER_ICD))
    return `SwiftShader's Vulkan driver ${SWIFTSHADER_ICD} is missing (apt-get install chromium)`;
  return undefined;
}

interface Prepared {
  readonly name: string;
  readonly ir: IrNetwork;
  readonly shape: number[];
  readonly input: string;
  readonly dirs: Readonly<Record<ExportFormat, string>>;
  /** `netspec predict`'s logits by backend. */
  readonly expected: ReadonlyMap<string, Float32Array>;
}

let tmp: string;
const prepared: Prepared[] = [];

/** Runs the plain-tfjs loader on `backend` over every case and format; returns the logits by case and format. */
function loadPlain(backend: string): Map<string, Float32Array> {
  const cases = prepared.flatMap((p) =>
    EXPORT_FORMATS.map((format) => ({
      key: `${p.name}/${format}`,
      dir: p.dirs[format],
      format,
      input: p.input,
      shape: p.shape,
      output: path.join(tmp, `${p.name}-${format}-${backend}.f32`),
    })),
  );
  const job = path.join(tmp, `job-${backend}.json`);
  fs.writeFileSync(job, JSON.stringify({ backend, cases }));
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    XDG_RUNTIME_DIR: process.env['XDG_RUNTIME_DIR'] ?? tmp,
  };
  const out = execFileSync(process.execPath, [RUNNER, job], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toContain(`OK ${backend}`);
  return new Map(cases.map((c) => [c.key, readFloats(c.output)]));
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
    const ir = compileIr(c.spec);
    const model = buildModel(ir, { seed: 1 });
    const weights = randomized(getStateDict(model, ir), 7);
    model.dispose();
    const checkpoint = path.join(tmp, c.name, 'checkpoint');
    saveCheckpoint(checkpoint, { kind: 'best', ir, config: runConfig, backend: 'cpu', weights });
    const dirs = {} as Record<ExportFormat, string>;
    for (const format of EXPORT_FORMATS) {
      dirs[format] = path.join(tmp, c.name, format);
      const run = await cli(
        'export',
        c.spec,
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
    for (const backend of ['cpu', 'wasm'] as const) {
      const p = await predict(ir, weights, { shape, data }, backend);
      if ('diagnostics' in p) throw new Error(JSON.stringify(p.diagnostics));
      expected.set(backend, p.data);
    }
    prepared.push({ name: c.name, ir, shape, input, dirs, expected });
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('netspec export loads in plain tfjs and equals netspec predict', () => {
  it('the fixtures cover every op kind', () => {
    const kinds = new Set(prepared.flatMap((p) => p.ir.nodes.map(opKindOf)));
    expect([...kinds].sort()).toEqual([...OP_KINDS].sort());
  });

  it.each(['cpu', 'wasm'])('on %s', (backend) => {
    const got = loadPlain(backend);
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

  const missing = webgpuMissing();
  it.skipIf(missing !== undefined)('on webgpu (SwiftShader), against predict on cpu', () => {
    const got = loadPlain('webgpu');
    for (const p of prepared) {
      const want = p.expected.get('cpu');
      if (!want) throw new Error('no cpu prediction');
      for (const format of EXPORT_FORMATS) {
        const diff = maxDiff(got.get(`${p.name}/${format}`) ?? new Float32Array(), want);
        console.log(
          `export ${format} ${p.name} on webgpu: max |difference| from predict (cpu) ${diff.toExponential(2)}`,
        );
        expect(diff).toBeLessThanOrEqual(TOLERANCE);
      }
    }
  });
  if (missing !== undefined) console.warn(`export on webgpu skipped: ${missing}`);
});

/**
 * Issue 10's runtime crash items through the CLI: each hostile input is exit 1 with a message naming the place
 * (file, tensor, field, program), no stack trace, and nothing changed on disk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFolderVerified, writeFolderAtomic } from '../../src/runtime/checkpoint/index.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorInput,
} from '../../src/runtime/weights/safetensors.js';
import { cli, predictOnCpu, type CliRun } from '../support/cli.js';
import { SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;
let out: string;
let best: string;

/** A spec file in the temporary folder. */
function specFile(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** A safetensors file in the temporary folder. */
function tensorsFile(name: string, tensors: Map<string, TensorInput>): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, encodeSafetensors(tensors));
  return file;
}

/** Every file under `dir` with its bytes, to show that a refused command changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.set(path.relative(dir, file), fs.readFileSync(file).toString('base64'));
    }
  return files;
}

/** A user error: exit 1, one `error: ...` message, no stack trace. */
function expectUserError(run: CliRun): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/^error: /m);
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.stderr).not.toContain('internal error');
}

/** A copy of the trained best checkpoint with its files rewritten by `edit` (the manifest made consistent again). */
function editedCopy(name: string, from: string, edit: (files: Map<string, Uint8Array>) => void): string {
  const dir = path.join(tmp, name);
  const files = readFolderVerified(from);
  edit(files);
  writeFolderAtomic(dir, files);
  return dir;
}

const NO_PARAMS = `netspec: 1
name: no-params
input: [1, 8, 8]
modules:
  - head: [relu, flatten]
`;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-round2-'));
  spec = specFile('tiny8.yaml', TINY_SPEC);
  out = path.join(tmp, 'run');
  const run = await cli('run', spec, ...SMALL_RUN, '--epochs', '1', '--out', out);
  expect(run.code, run.stderr).toBe(0);
  best = path.join(out, 'checkpoints', 'best');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('6: a network without trainable parameters', () => {
  it('run refuses it before creating the run folder', async () => {
    const zero = specFile('no-params.yaml', NO_PARAMS);
    const dir = path.join(tmp, 'no-params-run');
    const run = await cli('run', zero, ...SMALL_RUN, '--epochs', '1', '--out', dir);
    expectUserError(run);
    expect(run.stderr).toContain(`'no-params' has no trainable parameters (its layers: relu, flatten)`);
    expect(run.stderr).toContain(zero);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('compare refuses it before training any spec', async () => {
    const zero = specFile('no-params-2.yaml', NO_PARAMS);
    const dir = path.join(tmp, 'compare');
    const run = await cli('compare', spec, zero, '--seeds', '1', '--out', dir, ...SMALL_RUN, '--epochs', '1');
    expectUserError(run);
    expect(run.stderr).toContain(`'no-params' has no trainable parameters`);
    expect(run.stderr).toContain(zero);
    expect(run.stdout).not.toContain('== compare');
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('bench refuses it before timing anything', async () => {
    const zero = specFile('no-params-3.yaml', NO_PARAMS);
    const run = await cli(
      'bench',
      zero,
      '--backend',
      'cpu',
      '--no-pytorch',
      '--repeats',
      '1',
      '--warmup',
      '0',
    );
    expectUserError(run);
    expect(run.stderr).toContain(
      "error: bench times a training step, but 'no-params' has no trainable parameters",
    );
  });
});

describe('8, 25: export-weights checks the checkpoint against the spec first', () => {
  it('--set num_classes=5: the differences evaluate lists, and no file', async () => {
    const file = path.join(tmp, 'five.safetensors');
    const exported = await cli(
      'export-weights',
      spec,
      '--set',
      'num_classes=5',
      '--checkpoint',
      best,
      '-o',
      file,
    );
    expectUserError(exported);
    expect(exported.stderr).toBe(
      `error: ${spec} does not describe the network in ${best}:\n` +
        '  parameter num_classes: 10 → 5\n' +
        '  layer head.2: outputShape: [10] → [5]; params.weight.shape: [10, 4] → [5, 4]; params.bias.shape: [10] → [5]; ... and 1 more\n',
    );
    const evaluated = await cli(
      'evaluate',
      spec,
      '--set',
      'num_classes=5',
      '--checkpoint',
      best,
      '--backend',
      'cpu',
    );
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr).toBe(exported.stderr);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a checkpoint of another network: its changes, and no file', async () => {
    const other = specFile('wider.yaml', TINY_SPEC.replace('out: 4', 'out: 6'));
    const file = path.join(tmp, 'wider.safetensors');
    const exported = await cli('export-weights', other, '--checkpoint', best, '-o', file);
    expectUserError(exported);
    expect(exported.stderr).toContain(`error: ${other} does not describe the network in ${best}:\n`);
    expect(exported.stderr).toMatch(/\n  layer body\.0: .*outChannels: 4 → 6\n/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a tensor of another shape (same values, consistent manifest): refused by name, like evaluate, no file', async () => {
    const copy = editedCopy('reshaped', best, (files) => {
      const weights = decodeSafetensors(files.get('weights.safetensors') ?? new Uint8Array(), 'weights');
      const tensors = new Map<string, TensorInput>();
      for (const [name, t] of weights.tensors)
        tensors.set(name, { ...t, shape: name === 'head.2.weight' ? [4, 10] : t.shape } as TensorInput);
      files.set('weights.safetensors', encodeSafetensors(tensors, weights.metadata));
    });
    const file = path.join(tmp, 'reshaped.safetensors');
    const exported = await cli('export-weights', spec, '--checkpoint', copy, '-o', file);
    expectUserError(exported);
    expect(exported.stderr).toBe(
      `error: ${copy}: weights.safetensors does not fit ir.json: tensor 'head.2.weight' has shape [4, 10], ` +
        'the network needs [10, 4]\n',
    );
    const evaluated = await cli('evaluate', spec, '--checkpoint', copy, '--backend', 'cpu');
    expect(evaluated.stderr).toBe(exported.stderr);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('11: predict with an empty batch', () => {
  it('is refused naming the file and the shape, and writes nothing', async () => {
    const weights = path.join(tmp, 'tiny8.safetensors');
    expect((await cli('export-weights', spec, '--checkpoint', best, '-o', weights)).code).toBe(0);
    const input = tensorsFile(
      'empty.safetensors',
      new Map([['input', { dtype: 'F32', shape: [0, 1, 8, 8], data: new Float32Array(0) }]]),
    );
    const file = path.join(tmp, 'empty-out.safetensors');
    const run = await predictOnCpu(spec, weights, input, '--output', file);
    expectUserError(run);
    expect(run.stderr).toBe(
      `error: ${input}: tensor 'input' has shape [0, 1, 8, 8]: the batch N must be at least 1\n`,
    );
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('7: predict checks activation sizes at the batch its input holds', () => {
  it('a network that fits at batch 1 but not at batch 3 is refused for 3, naming the layer, before any tensor exists', async () => {
    const wide = path.join(tmp, 'wide-padding.yaml');
    fs.writeFileSync(
      wide,
      [
        'netspec: 1',
        'name: wide',
        'input: [1, 32, 32]',
        'modules:',
        '  - body: [conv: {out: 256, kernel: 1, padding: 700}]',
        '  - head: [global_avgpool, flatten, linear: {out: 2}]',
        '',
      ].join('\n'),
    );
    // check assumes the training batch (64) and refuses it; predict checks at its input's batch.
    const check = await cli('check', wide);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('at batch 64');
    const weights = tensorsFile(
      'wide-weights.safetensors',
      new Map<string, TensorInput>([
        ['body.0.weight', { dtype: 'F32', shape: [256, 1, 1, 1], data: new Float32Array(256) }],
        ['body.0.bias', { dtype: 'F32', shape: [256], data: new Float32Array(256) }],
        ['head.2.weight', { dtype: 'F32', shape: [2, 256], data: new Float32Array(512) }],
        ['head.2.bias', { dtype: 'F32', shape: [2], data: new Float32Array(2) }],
      ]),
    );
    const input = tensorsFile(
      'wide-input.safetensors',
      new Map([['input', { dtype: 'F32', shape: [3, 1, 32, 32], data: new Float32Array(3 * 1024) }]]),
    );
    const run = await predictOnCpu(wide, weights, input);
    expectUserError(run);
    expect(run.stderr).toBe(
      `error: ${input}: a batch of 3 is too large for 'wide': body.0: output [256, 1432, 1432] has more than 2^30 ` +
        'elements at batch 3 (1,574,879,232 elements, 5.9 GiB as float32; the layer has 512 parameters, 2.0 KiB as float32)\n',
    );
  });
});

describe('13: --resume with a malformed history (consistent manifest)', () => {
  it.each<[string, (history: { steps: unknown[]; logged: unknown[] }) => void, string]>([
    [
      'a step loss that is a string',
      (h) => ((h.steps[3] as { loss: unknown }).loss = 'x'),
      'history.steps[3].loss is "x", expected a number',
    ],
    ['a step that is null', (h) => (h.steps[2] = null), 'history.steps[2] is null, expected an object'],
    [
      'a logged step that is a string',
      (h) => (h.logged[0] = '0'),
      'history.logged[0] is "0", expected an integer',
    ],
  ])('%s: the file and the field named, the run folder unchanged', async (_, edit, problem) => {
    const dir = path.join(tmp, `resume-${problem.length}`);
    fs.cpSync(out, dir, { recursive: true });
    const last = path.join(dir, 'checkpoints', 'last');
    const files = readFolderVerified(last);
    const meta = JSON.parse(new TextDecoder().decode(files.get('checkpoint.json'))) as {
      history: { steps: unknown[]; logged: unknown[] };
    };
    edit(meta.history);
    files.set('checkpoint.json', new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n'));
    writeFolderAtomic(last, files);
    const before = snapshot(dir);
    const run = await cli('run', spec, '--resume', '--out', dir, '--backend', 'cpu');
    expectUserError(run);
    expect(run.stderr).toBe(`error: ${last}: checkpoint.json: ${problem}\n`);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('14: bench --python with a program that prints no JSON', () => {
  it('names the program and what it printed', async () => {
    const program = path.join(tmp, 'not-python');
    fs.writeFileSync(program, '#!/bin/sh\necho "Python 9.9 (fake)"\n', { mode: 0o755 });
    const run = await cli(
      'bench',
      spec,
      '--backend',
      'cpu',
      '--repeats',
      '1',
      '--warmup',
      '0',
      '--python',
      program,
    );
    expectUserError(run);
    expect(run.stderr).toContain(
      `error: PyTorch benchmark: ${program} torch-bench.py printed "Python 9.9 (fake)\\n"; its last line is not JSON`,
    );
  });
});

describe('18: a map rule that backtracks catastrophically', () => {
  it('^(a+)+b$ against a 34-character tensor name: predict answers at once', async () => {
    const weights = path.join(tmp, 'tiny8.safetensors');
    if (!fs.existsSync(weights))
      expect((await cli('export-weights', spec, '--checkpoint', best, '-o', weights)).code).toBe(0);
    const decoded = decodeSafetensors(fs.readFileSync(weights), weights);
    const tensors = new Map(decoded.tensors as Map<string, TensorInput>);
    const name = 'a'.repeat(34);
    tensors.set(name, { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    const foreign = tensorsFile('foreign.safetensors', tensors);
    const map = specFile('evil.yaml', "rename:\n  - {from: '^(a+)+b$', to: 'x'}\n");
    const input = tensorsFile(
      'one.safetensors',
      new Map([['input', { dtype: 'F32', shape: [1, 1, 8, 8], data: new Float32Array(64) }]]),
    );
    const started = performance.now();
    const run = await cli(
      'predict',
      spec,
      '--weights',
      foreign,
      '--map',
      map,
      '--input',
      input,
      '--backend',
      'cpu',
    );
    expect(performance.now() - started).toBeLessThan(3000);
    expectUserError(run);
    expect(run.stderr).toContain(`error UNKNOWN_KEY: ${foreign}: tensor '${name}' is not used by 'tiny8'`);
  });

  it('a backreference is an error at its position in the map file', async () => {
    const map = specFile('backref.yaml', "rename:\n  - {from: '(a)\\1', to: 'x'}\n");
    const input = path.join(tmp, 'one.safetensors');
    const run = await cli(
      'predict',
      spec,
      '--weights',
      input,
      '--map',
      map,
      '--input',
      input,
      '--backend',
      'cpu',
    );
    expectUserError(run);
    expect(run.stderr).toContain(
      `${map}:2:12: error BAD_VALUE: invalid regular expression: error parsing regexp: invalid escape sequence`,
    );
    expect(run.stderr).toContain('hint: patterns run on RE2 (linear-time matching)');
  });
});

describe('36: predict with NaN and infinite logits', () => {
  const LINEAR = `netspec: 1
name: lin
input: [1, 1, 2]
modules:
  - head: [flatten, linear: {out: 3}]
`;
  let lin: string;
  let weights: string;
  let input: string;
  beforeAll(() => {
    lin = specFile('lin.yaml', LINEAR);
    weights = tensorsFile(
      'lin.safetensors',
      new Map<string, TensorInput>([
        [
          'head.1.weight',
          { dtype: 'F32', shape: [3, 2], data: Float32Array.of(1e30, 1e30, -1e30, -1e30, 1, 0) },
        ],
        ['head.1.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }],
      ]),
    );
    // Sample 0 overflows to +-Infinity in classes 0 and 1, sample 1 is NaN, sample 2 is finite.
    input = tensorsFile(
      'lin-in.safetensors',
      new Map([
        ['input', { dtype: 'F32', shape: [3, 1, 1, 2], data: Float32Array.of(1e30, 1e30, NaN, 0, 1, 2) }],
      ]),
    );
  });

  it('the JSON gives them as the strings "NaN", "Infinity", "-Infinity", with a warning naming the first', async () => {
    const run = await predictOnCpu(lin, weights, input, '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(
      'warning: 5 of 9 logits are not finite (NaN or infinite), the first Infinity at [0, 0]; ' +
        'the JSON gives them as strings\n',
    );
    const w = Math.fround(1e30);
    expect(JSON.parse(run.stdout)).toMatchObject({
      shape: [3, 3],
      output: [
        'Infinity',
        '-Infinity',
        Math.fround(1e30),
        'NaN',
        'NaN',
        'NaN',
        Math.fround(w * 3),
        -Math.fround(w * 3),
        1,
      ],
    });
  });

  it('--output keeps them as IEEE values, with the warning', async () => {
    const file = path.join(tmp, 'lin-out.safetensors');
    const run = await predictOnCpu(lin, weights, input, '--output', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`the first Infinity at [0, 0]; ${file} holds them as they are\n`);
    const output = decodeSafetensors(fs.readFileSync(file), file).tensors.get('output');
    expect(output?.dtype).toBe('F32');
    expect(Array.from(output?.data as Float32Array).slice(0, 4)).toEqual([
      Infinity,
      -Infinity,
      Math.fround(1e30),
      NaN,
    ]);
  });
});

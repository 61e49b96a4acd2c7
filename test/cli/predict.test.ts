/**
 * `netspec predict` for people: a checkpoint or run folder, images (a file, a folder), .npy, IDX and safetensors
 * input preprocessed as training data is, the top classes as aligned lines or JSON, class names from a folder
 * run, the weight-mismatch report cut short; and `export-weights` with a run folder and its overwrite rule.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luma, normalizationTable } from '../../src/runtime/data/preprocess.js';
import { resizeBilinear } from '../../src/runtime/data/resize.js';
import { encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli, SMALL_RUN, TINY8_SPEC } from '../support/cli.js';

const SPEC = TINY8_SPEC;
const table = normalizationTable(0.5, 0.5);

let tmp: string;
let spec: string;
let run: string;
let images: string;
/** A 12x12 grey "digit" (bytes) and a 12x10 RGB image (planes), the inputs of most cases. */
let grey: Uint8Array;
let rgb: Uint8Array;

/** A PNG of `planes` (1 or 3 planes of `height`x`width`). */
function png(planes: Uint8Array, channels: number, height: number, width: number): Buffer {
  const image = new PNG({ width, height });
  const plane = height * width;
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++)
      image.data[4 * i + c] = planes[(channels === 3 ? c * plane : 0) + i] as number;
  for (let i = 0; i < plane; i++) image.data[4 * i + 3] = 255;
  return PNG.sync.write(image);
}

/** What the data pipeline makes of a grey image: Pillow's resize to 8x8, then ToTensor and Normalize. */
function preprocessed(pixels: Uint8Array, height: number, width: number): Float32Array {
  return Float32Array.from(resizeBilinear(pixels, 1, height, width, 8, 8), (v) => table[v] as number);
}

const predict = (...args: string[]) => cli('predict', spec, '--backend', 'cpu', ...args);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-predict-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, SPEC);
  run = path.join(tmp, 'run');
  await cli('run', spec, '--epochs', '1', '--out', run, ...SMALL_RUN);
  expect(fs.existsSync(path.join(run, 'checkpoints', 'best', 'manifest.json'))).toBe(true);
  grey = Uint8Array.from({ length: 144 }, (_, i) =>
    (i % 12 > 3 && i % 12 < 8) || i === 70 ? 250 : (i * 7) % 40,
  );
  rgb = Uint8Array.from({ length: 360 }, (_, i) => (i * 37) % 256);
  images = path.join(tmp, 'images');
  fs.mkdirSync(images);
  fs.writeFileSync(path.join(images, 'digit7.png'), png(grey, 1, 12, 12));
  fs.writeFileSync(path.join(images, 'colour.png'), png(rgb, 3, 12, 10));
  fs.writeFileSync(path.join(images, 'readme.txt'), 'not an image: not read');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Json {
  network: string;
  shape: number[];
  output: number[];
  classes: string[];
  predictions: { input: string; top: { class: number; name: string; probability: number }[] }[];
}

async function json(...args: string[]): Promise<Json> {
  const r = await predict(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Json;
}

describe('predict --input', () => {
  it('gives an image exactly the input training data gets: grey, resized, normalized (same logits)', async () => {
    const tensors = path.join(tmp, 'x.safetensors');
    const lumaPlane = Uint8Array.from({ length: 120 }, (_, i) =>
      luma(rgb[i] as number, rgb[120 + i] as number, rgb[240 + i] as number),
    );
    const data = new Float32Array(128);
    data.set(preprocessed(lumaPlane, 12, 10), 0);
    data.set(preprocessed(grey, 12, 12), 64);
    fs.writeFileSync(
      tensors,
      encodeSafetensors(new Map([['input', { dtype: 'F32', shape: [2, 1, 8, 8], data }]])),
    );
    const fromTensors = await json('--checkpoint', run, '--input', tensors);
    const fromFolder = await json('--checkpoint', run, '--input', images);
    // Sorted by name: colour.png, then digit7.png; readme.txt is not an image.
    expect(fromFolder.predictions.map((p) => p.input)).toEqual(['colour.png', 'digit7.png']);
    expect(fromTensors.predictions.map((p) => p.input)).toEqual(['x.safetensors[0]', 'x.safetensors[1]']);
    expect(fromFolder.output).toEqual(fromTensors.output);
    expect(fromFolder.shape).toEqual([2, 10]);
    const single = await json('--checkpoint', run, '--input', path.join(images, 'digit7.png'));
    expect(single.output).toEqual(fromTensors.output.slice(10));
  });

  it('reads uint8 .npy ([N, H, W], [H, W]) and IDX (plain and gzipped) the same way', async () => {
    const header = (shape: string): Buffer => {
      let h = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape}), }`;
      h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
      const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
      head.writeUInt16LE(h.length, 8);
      return Buffer.concat([head, Buffer.from(h, 'latin1')]);
    };
    const reference = (await json('--checkpoint', run, '--input', path.join(images, 'digit7.png'))).output;
    const npy = path.join(tmp, 'digits.npy');
    fs.writeFileSync(npy, Buffer.concat([header('2, 12, 12'), grey, grey]));
    const fromNpy = await json('--checkpoint', run, '--input', npy);
    expect(fromNpy.predictions.map((p) => p.input)).toEqual(['digits.npy[0]', 'digits.npy[1]']);
    expect(fromNpy.output).toEqual([...reference, ...reference]);
    const one = path.join(tmp, 'one.npy');
    fs.writeFileSync(one, Buffer.concat([header('12, 12'), grey]));
    expect((await json('--checkpoint', run, '--input', one)).output).toEqual(reference);
    const idx = Buffer.concat([Buffer.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 12, 0, 0, 0, 12]), grey]);
    fs.writeFileSync(path.join(tmp, 'images-idx3-ubyte'), idx);
    fs.writeFileSync(path.join(tmp, 'images-idx3-ubyte.gz'), gzipSync(idx));
    for (const name of ['images-idx3-ubyte', 'images-idx3-ubyte.gz'])
      expect((await json('--checkpoint', run, '--input', path.join(tmp, name))).output).toEqual(reference);
  });

  it('names a file it cannot read', async () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'a.png'), png(grey, 1, 12, 12));
    fs.writeFileSync(path.join(bad, 'b.jpg'), 'GIF89a...');
    const r = await predict('--checkpoint', run, '--input', bad);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toBe(
      `error: ${path.join(bad, 'b.jpg')}: not a PNG or JPEG image (it starts with the bytes 47 49 46 38 39 61 2e 2e)\n`,
    );
    const text = await predict('--checkpoint', run, '--input', spec);
    expect(text.stderr).toMatch(
      new RegExp(
        `^error: ${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a PNG or JPEG image, a \\.npy, an IDX images file or a safetensors file \\(it starts with the bytes 6e 65 74 73`,
      ),
    );
    const empty = path.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect((await predict('--checkpoint', run, '--input', empty)).stderr).toBe(
      `error: ${empty}: no PNG or JPEG images in this folder (.png, .jpg, .jpeg)\n`,
    );
  });
});

describe('predict output', () => {
  it('prints one aligned line per input: name, then the top-k classes with softmax probabilities', async () => {
    const r = await predict('--checkpoint', run, '--input', images, '--top-k', '3');
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const doc = await json('--checkpoint', run, '--input', images, '--top-k', '3');
    lines.forEach((line, i) => {
      const name = ['colour.png', 'digit7.png'][i] as string;
      const logits = doc.output.slice(10 * i, 10 * i + 10);
      const max = Math.max(...logits);
      const exps = logits.map((v) => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const order = exps.map((e, k) => [k, e / sum] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const want = order.slice(0, 3).map(([k, p]) => `${k} (${p.toFixed(3)})`);
      expect(line).toBe([name.padEnd(10), ...want].join('  '));
      expect(doc.predictions[i]?.top.map((t) => t.class)).toEqual(order.slice(0, 3).map(([k]) => k));
    });
    expect(doc.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect((await predict('--checkpoint', run, '--input', images)).stdout.split('\n')[0]).toMatch(
      /^colour\.png {2}\d \(\d\.\d{3}\)$/,
    );
  });

  it('--weights (what export-weights wrote from the run folder) predicts what --checkpoint does', async () => {
    const weights = path.join(tmp, 'w.safetensors');
    const exported = await cli('export-weights', spec, '--checkpoint', run, '-o', weights);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect((await json('--weights', weights, '--input', images)).output).toEqual(
      (await json('--checkpoint', path.join(run, 'checkpoints', 'best'), '--input', images)).output,
    );
  });

  it('with --output writes the logits as before, and nothing else on stdout', async () => {
    const out = path.join(tmp, 'y.safetensors');
    const r = await predict('--checkpoint', run, '--input', images, '--output', out);
    expect(r).toEqual({ code: 0, stderr: '', stdout: `wrote ${out}: output [2, 10] (logits, float32)\n` });
    expect((await predict('--checkpoint', run, '--input', images, '--output', out)).stderr).toBe(
      `error: ${out} exists (a predictions file netspec wrote); pass --force to replace it\n`,
    );
  });

  it('needs one of --checkpoint and --weights', async () => {
    expect((await predict('--input', images)).stderr).toBe(
      'error: predict needs the weights: --checkpoint DIR (a checkpoint or run folder) or --weights FILE.safetensors\n',
    );
    expect((await predict('--input', images, '--checkpoint', run, '--weights', spec)).stderr).toBe(
      'error: give --checkpoint or --weights, not both\n',
    );
  });
});

describe('class names', () => {
  it('are the class folders of a folder: run', async () => {
    const data = path.join(tmp, 'shapes');
    const names = ['bar', 'dot', 'ring'];
    names.forEach((name, c) => {
      fs.mkdirSync(path.join(data, name), { recursive: true });
      for (let i = 0; i < 4; i++)
        fs.writeFileSync(
          path.join(data, name, `${i}.png`),
          png(
            Uint8Array.from({ length: 64 }, (_, k) => ((k * (c + 1) + i) % 5 === 0 ? 255 : 10)),
            1,
            8,
            8,
          ),
        );
    });
    const out = path.join(tmp, 'shapes-run');
    const three = ['--set', 'num_classes=3'];
    await cli(
      'run',
      spec,
      ...three,
      '--data',
      `folder:${data}`,
      '--out',
      out,
      '--epochs',
      '1',
      '--train',
      '6',
      '--dev',
      '3',
      '--test',
      '3',
      '--batch-size',
      '3',
      '--backend',
      'cpu',
    );
    const r = await predict(...three, '--checkpoint', out, '--input', path.join(data, 'dot'), '--top-k', '3');
    expect(r.stderr).toBe('');
    for (const line of r.stdout.trimEnd().split('\n'))
      expect(line).toMatch(
        /^\d\.png {2}(bar|dot|ring) \(\d\.\d{3}\) +(bar|dot|ring) \(\d\.\d{3}\) +(bar|dot|ring) \(\d\.\d{3}\)$/,
      );
    expect((await json(...three, '--checkpoint', out, '--input', path.join(data, 'dot'))).classes).toEqual(
      names,
    );
  });
});

describe('weights of another network', () => {
  const WIDER = SPEC.replace('out: 4', 'out: 6');
  it('--weights: the first 8 problems, then how many more', async () => {
    const weights = path.join(tmp, 'w8.safetensors');
    await cli('export-weights', spec, '--checkpoint', run, '-o', weights, '--force');
    const many = path.join(tmp, 'many.safetensors');
    // Two renamed copies of each of the 8 tensors: 16 the network does not use, and the 7 it misses (all but
    // num_batches_tracked, which PyTorch's loader does not need either).
    const { decodeSafetensors } = await import('../../src/runtime/weights/safetensors.js');
    const decoded = decodeSafetensors(fs.readFileSync(weights), weights);
    const renamed = new Map(
      [...decoded.tensors].flatMap(
        ([name, t]) =>
          [
            [`a.${name}`, t],
            [`b.${name}`, t],
          ] as const,
      ),
    );
    fs.writeFileSync(many, encodeSafetensors(new Map(renamed as never)));
    const r = await cli('predict', spec, '--weights', many, '--input', images, '--backend', 'cpu');
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(
      lines.filter((l) => l.startsWith('error UNKNOWN_KEY') || l.startsWith('error MISSING_KEY')),
    ).toHaveLength(8);
    // Each kind of problem is shown: the unused and the missing tensors in turn.
    expect(lines.filter((l) => l.startsWith('error MISSING_KEY'))).toHaveLength(4);
    expect(lines).toContain(
      '... and 15 more problems (23 in all); do the spec and the weights describe the same network?',
    );
    expect(lines.at(-1)).toBe('error: 23 error(s); nothing was written');
  });

  it('--checkpoint: what differs, as evaluate says it', async () => {
    const wider = path.join(tmp, 'wider6.yaml');
    fs.writeFileSync(wider, WIDER);
    const r = await cli('predict', wider, '--checkpoint', run, '--input', images, '--backend', 'cpu');
    const evaluated = await cli('evaluate', wider, '--checkpoint', run, '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error: ${wider} does not describe the network in ${path.join(run, 'checkpoints', 'best')}:\n`,
    );
    expect(r.stderr).toBe(evaluated.stderr);
  });
});

describe('export-weights --checkpoint', () => {
  it('takes a run folder, says what a run folder without checkpoints lacks, and replaces only with --force', async () => {
    const file = path.join(tmp, 'export', 'w.safetensors');
    expect((await cli('export-weights', spec, '--checkpoint', run, '-o', file)).stdout).toBe(
      `wrote ${file}: 8 tensors of 'tiny8' (PyTorch layout and names)\n`,
    );
    const again = await cli('export-weights', spec, '--checkpoint', run, '-o', file);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${file} exists (a weights file netspec wrote); pass --force to replace it\n`,
    });
    expect((await cli('export-weights', spec, '--checkpoint', run, '-o', file, '--force')).code).toBe(0);
    const unsaved = path.join(tmp, 'unsaved-run');
    fs.mkdirSync(path.join(unsaved, 'checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(unsaved, 'train.log'), '');
    expect(
      (await cli('export-weights', spec, '--checkpoint', unsaved, '-o', path.join(tmp, 'u.safetensors')))
        .stderr,
    ).toBe(
      `error: ${unsaved} is a run folder without a saved checkpoint (no checkpoints/best or checkpoints/last): a run ` +
        'saves checkpoints/last at the end of each epoch and checkpoints/best when dev accuracy improves\n',
    );
    expect(
      (await cli('export-weights', spec, '--checkpoint', images, '-o', path.join(tmp, 'u.safetensors')))
        .stderr,
    ).toBe(
      `error: ${images} is neither a checkpoint folder (it has no manifest.json) nor a run folder (it has no ` +
        'checkpoints/best or checkpoints/last)\n',
    );
  });
});

/**
 * Bad data files through the whole `netspec run` command: exit 1 with the loader's message (file, byte offset or
 * line:col, expected vs found), no stack trace, and no run folder created, so the corrected command can use it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-data-rel-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function images(count: number, rows = 8, cols = 8): Uint8Array {
  return Uint8Array.from([
    0,
    0,
    8,
    3,
    ...u32(count),
    ...u32(rows),
    ...u32(cols),
    ...new Array<number>(count * rows * cols).fill(7),
  ]);
}

function labels(values: number[]): Uint8Array {
  return Uint8Array.from([0, 0, 8, 1, ...u32(values.length), ...values]);
}

const TRAIN_IMAGES = 'train-images-idx3-ubyte';
const TRAIN_LABELS = 'train-labels-idx1-ubyte';
const good = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 10);

/** Runs `netspec run` on an IDX folder holding `files`; the message is what the run must print (with `D` for the folder). */
async function expectRefused(
  name: string,
  files: Record<string, Uint8Array>,
  message: (dir: string) => string,
) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), bytes);
  const out = path.join(tmp, `run-${name}`);
  const run = await cli('run', spec, '--data', `idx:${dir}`, '--out', out, ...SMALL_RUN);
  expect(run.stderr).toBe(`error: ${message(dir)}\n`);
  expect(run.code).toBe(1);
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.stdout).not.toContain('[Train]');
  expect(fs.existsSync(out)).toBe(false);
}

describe('netspec run --data idx:DIR with a bad folder', () => {
  it('wrong magic number', () =>
    expectRefused(
      'magic',
      { [TRAIN_IMAGES]: Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), [TRAIN_LABELS]: labels(good(4)) },
      (d) =>
        `${d}/${TRAIN_IMAGES}: byte 0: wrong magic number: expected 0x00000803 (IDX unsigned-byte images, 3 dimensions), found 0x504b0304; not an IDX file`,
    ));

  it('wrong type byte (int32 labels)', () =>
    expectRefused(
      'type',
      { [TRAIN_IMAGES]: images(4), [TRAIN_LABELS]: Uint8Array.from([0, 0, 0x0c, 1, ...u32(1), 0, 0, 0, 1]) },
      (d) =>
        `${d}/${TRAIN_LABELS}: byte 2: wrong element type: expected 0x08 (unsigned byte), found 0x0c (int32)`,
    ));

  it('truncated header and truncated body (gzipped)', async () => {
    await expectRefused(
      'header',
      { [TRAIN_IMAGES]: Uint8Array.from([0, 0, 8, 3, ...u32(4), 0, 0]), [TRAIN_LABELS]: labels(good(4)) },
      (d) => `${d}/${TRAIN_IMAGES}: byte 10: truncated header: expected 16 bytes, found 10 bytes`,
    );
    await expectRefused(
      'body',
      { [`${TRAIN_IMAGES}.gz`]: gzipSync(images(4).subarray(0, 16 + 200)), [TRAIN_LABELS]: labels(good(4)) },
      (d) =>
        `${d}/${TRAIN_IMAGES}.gz: byte 216 of the decompressed data: truncated data: the header promises 4 images of 8x8 (256 bytes after the 16-byte header), found 200 bytes`,
    );
  });

  it('image and label counts that differ', () =>
    expectRefused(
      'count',
      { [TRAIN_IMAGES]: images(5), [TRAIN_LABELS]: labels(good(4)) },
      (d) => `${d}/${TRAIN_IMAGES} holds 5 images but ${d}/${TRAIN_LABELS} holds 4 labels; they must match`,
    ));

  it('a label out of range for the network (10 classes)', () =>
    expectRefused(
      'label',
      { [TRAIN_IMAGES]: images(4), [TRAIN_LABELS]: labels([1, 2, 10, 3]) },
      (d) => `${d}/${TRAIN_LABELS}: byte 10: label 10 of item 2 is out of range: expected 0..9`,
    ));

  it('absurd dimensions, refused from the header before anything is allocated', () =>
    expectRefused(
      'absurd',
      {
        [TRAIN_IMAGES]: Uint8Array.from([0, 0, 8, 3, ...u32(0xffffffff), ...u32(4096), ...u32(4096)]),
        [TRAIN_LABELS]: labels(good(4)),
      },
      (d) =>
        `${d}/${TRAIN_IMAGES}: byte 16: truncated data: the header promises 4294967295 images of 4096x4096 (72057594021150720 bytes after the 16-byte header), found 0 bytes`,
    ));

  it('a folder that does not exist', async () => {
    const out = path.join(tmp, 'run-missing');
    const run = await cli('run', spec, '--data', `idx:${path.join(tmp, 'nope')}`, '--out', out, ...SMALL_RUN);
    expect(run).toMatchObject({
      code: 1,
      stderr: `error: ${path.join(tmp, 'nope')}: no such directory (idx:DIR needs a directory of IDX files)\n`,
    });
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('netspec run --data nndl-json:FILE with a bad file', () => {
  it('malformed JSON at file:line:col; NaN by its sample', async () => {
    const file = path.join(tmp, 'bad.json');
    fs.writeFileSync(file, '[\n  [[[1, 2,\n    3]], [0]],\n  [[], []] }');
    const out = path.join(tmp, 'run-json');
    const run = await cli('run', spec, '--data', `nndl-json:${file}`, '--out', out, ...SMALL_RUN);
    expect(run.stderr).toBe(
      `error: ${file}:4:12: invalid JSON: expected ',' or ']' after an array element, found '}' (in [1])\n`,
    );
    expect(run.code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);

    const image = (v: number | string): string => `[${[v, ...new Array<number>(783).fill(0)].join(',')}]`;
    const part = (n: number, first: number | string = 0): string =>
      `[[${Array.from({ length: n }, (_, i) => image(i === 5 ? first : 0)).join(',')}],[${good(n).join(',')}]]`;
    fs.writeFileSync(file, `[${part(70, 'NaN')},${part(40)},${part(40)}]`);
    const nan = await cli('run', spec, '--data', `nndl-json:${file}`, '--out', out, ...SMALL_RUN);
    expect(nan.stderr).toMatch(
      new RegExp(
        `^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:\\d+: train sample 5 \\(\\[0\\]\\[0\\]\\[5\\]\\[0\\]\\) is NaN, expected a pixel value 0\\.\\.255\\n$`,
      ),
    );
    expect(nan.code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
  });
});

/**
 * Checkpoints are never lost or half-written: a failure or a kill at any moment of a write leaves the previous
 * checkpoint loadable at its path (or no folder at all), leftovers are cleaned at the next start, and a damaged
 * or hostile checkpoint is refused with the file and the mismatch named, through the library and the CLI.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StateDict } from '../../src/compiler/targets/tfjs/index.js';
import {
  loadCheckpoint,
  MANIFEST,
  readFolderVerified,
  recoverFolders,
  saveCheckpoint,
  sha256,
  type CheckpointContents,
} from '../../src/runtime/checkpoint/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/runtime/train/config.js';
import { cli } from '../support/cli.js';
import { compileIr } from '../support/compile.js';
import { injectFault, leftovers, SMALL_RUN, STACK_LINE, TINY_SPEC, type FaultPoint } from './support.js';

let tmp: string;
let spec: string;
let restore: (() => number) | undefined;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-ckpt-rel-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
});
afterEach(() => {
  restore?.();
  restore = undefined;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const ir = compileIr('specs/lenet5.yaml');

/** A checkpoint whose weights are `fill` everywhere (so two versions are told apart by their bytes). */
function contents(fill: number): CheckpointContents {
  const weights: StateDict = new Map();
  for (const node of ir.nodes)
    for (const p of node.params) {
      const size = p.shape.reduce((a, b) => a * b, 1);
      weights.set(`${node.path}.${p.name}`, { shape: p.shape, data: new Float32Array(size).fill(fill) });
    }
  return {
    kind: 'best',
    ir,
    config: {
      training: DEFAULT_TRAIN_CONFIG,
      data: { source: 'mnist-sample', train: 10, dev: 10, test: 10 },
    },
    backend: 'cpu',
    weights,
    best: { step: fill, epoch: 0, score: fill / 10, loss: 1 },
  };
}

/** The fill value of a loaded checkpoint, checking every weight holds it. */
function fillOf(dir: string): number {
  const loaded = loadCheckpoint(dir);
  const values = new Set([...loaded.weights.values()].flatMap((t) => [...new Set(t.data)]));
  expect(values.size).toBe(1);
  return [...values][0] ?? NaN;
}

describe('a failure in the middle of writing a checkpoint', () => {
  const points: [string, FaultPoint, string, (f: string) => boolean][] = [
    ['creating the temporary folder', 'mkdir', 'EACCES', (f) => f.includes('.tmp-')],
    ['half-way through the weights', 'write', 'ENOSPC', (f) => f.endsWith('weights.safetensors')],
    ['half-way through the manifest', 'write', 'ENOSPC', (f) => f.endsWith(MANIFEST)],
    ['setting the old folder aside', 'rename', 'EACCES', (f) => f.includes('.old-')],
    ['renaming the new folder into place', 'rename', 'EACCES', (f) => path.basename(f) === 'ckpt'],
  ];

  it.each(points)(
    '%s: the previous checkpoint is intact at its path and loads',
    (_what, point, code, matches) => {
      const parent = path.join(tmp, `fault-${point}-${code}-${Math.random().toString(16).slice(2)}`);
      const dir = path.join(parent, 'ckpt');
      saveCheckpoint(dir, contents(1));
      const manifestBefore = fs.readFileSync(path.join(dir, MANIFEST));
      restore = injectFault({ point, code, matches, once: true });
      expect(() => saveCheckpoint(dir, contents(2))).toThrow(code);
      expect(restore()).toBe(1);
      restore = undefined;
      expect(fs.readdirSync(parent)).toEqual(['ckpt']);
      expect(fs.readFileSync(path.join(dir, MANIFEST))).toEqual(manifestBefore);
      expect(fillOf(dir)).toBe(1);
      // And the next save goes through.
      saveCheckpoint(dir, contents(3));
      expect(fillOf(dir)).toBe(3);
      expect(fs.readdirSync(parent)).toEqual(['ckpt']);
    },
  );

  it('the first save of a checkpoint: no folder at the final path, no leftovers', () => {
    const parent = path.join(tmp, 'first-save');
    const dir = path.join(parent, 'ckpt');
    restore = injectFault({ point: 'write', code: 'ENOSPC', matches: (f) => f.endsWith('ir.json') });
    expect(() => saveCheckpoint(dir, contents(1))).toThrow('ENOSPC');
    restore();
    restore = undefined;
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});

describe('a process killed while writing checkpoints', () => {
  it('leaves, after recovery, a complete checkpoint at the path: the last one reported or a newer one', async () => {
    // Three writers killed at different moments, side by side (each takes a second to start).
    const rounds = [
      [0, 1, 0],
      [1, 2, 7],
      [2, 3, 15],
    ] as const;
    await Promise.all(
      rounds.map(([round, afterVersions, delayMs]) => killedWriter(round, afterVersions, delayMs)),
    );
  });
});

/** Starts a checkpoint writer, kills it `delayMs` after it reported `afterVersions` writes, then checks the folder. */
async function killedWriter(round: number, afterVersions: number, delayMs: number): Promise<void> {
  const parent = path.join(tmp, `killed-${round}`);
  const dir = path.join(parent, 'ckpt');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/reliability/checkpoint-writer.ts', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
      if (out.split('\n').length > afterVersions) setTimeout(resolve, delayMs);
    });
    child.on('exit', () => resolve());
  });
  child.kill('SIGKILL');
  expect(await exited, err).toBe('SIGKILL');
  const reported = Math.max(...out.trim().split('\n').map(Number));
  expect(reported).toBeGreaterThanOrEqual(afterVersions);
  recoverFolders(parent);
  expect(fs.readdirSync(parent)).toEqual(['ckpt']);
  const files = readFolderVerified(dir);
  const version = Number(new TextDecoder().decode(files.get('version.txt')));
  expect(version).toBeGreaterThanOrEqual(reported);
  expect(version).toBeLessThanOrEqual(reported + 1);
  const weights = files.get('weights.bin') ?? new Uint8Array();
  expect(weights.length).toBe(4 << 20);
  expect(weights.every((b) => b === (version & 255))).toBe(true);
}

describe('damaged and hostile checkpoints', () => {
  function rewriteManifest(
    dir: string,
    edit: (files: { path: string; size: number; sha256: string }[]) => void,
  ): void {
    const file = path.join(dir, MANIFEST);
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      files: { path: string; size: number; sha256: string }[];
    };
    edit(m.files);
    fs.writeFileSync(file, JSON.stringify(m));
  }

  it('a manifest path through a symlinked folder is refused, even when size and hash match', () => {
    const dir = path.join(tmp, 'symlinked-folder');
    saveCheckpoint(dir, contents(1));
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    fs.copyFileSync(path.join(dir, 'ir.json'), path.join(outside, 'ir.json'));
    fs.symlinkSync(outside, path.join(dir, 'sub'));
    rewriteManifest(dir, (files) => {
      const entry = files.find((f) => f.path === 'ir.json');
      if (entry) entry.path = 'sub/ir.json';
    });
    expect(() => readFolderVerified(dir)).toThrow(
      `${dir}: file 'sub/ir.json': 'sub' is a symbolic link; refusing it`,
    );
  });

  it('a manifest that lists a file twice, or gives it a negative size, is refused', () => {
    const dir = path.join(tmp, 'manifest-lies');
    saveCheckpoint(dir, contents(1));
    rewriteManifest(dir, (files) => {
      const first = files[0];
      if (first) files.push({ ...first });
    });
    expect(() => readFolderVerified(dir)).toThrow(`${dir}: manifest.json lists 'checkpoint.json' twice`);
    saveCheckpoint(dir, contents(1));
    rewriteManifest(dir, (files) => {
      const first = files[0];
      if (first) first.size = -1;
    });
    expect(() => readFolderVerified(dir)).toThrow(
      `${dir}: manifest.json gives 'checkpoint.json' the size -1`,
    );
  });

  it('Infinity in the weights, with a consistent manifest, is refused by name', () => {
    const c = contents(1);
    const [name, t] = [...c.weights][3] ?? [];
    if (!name || !t) throw new Error('lenet5 has fewer than 4 tensors');
    t.data[5] = -Infinity;
    const dir = path.join(tmp, 'inf-weights');
    saveCheckpoint(dir, c);
    expect(() => loadCheckpoint(dir)).toThrow(
      `${dir}: weights.safetensors: tensor '${name}' holds -Infinity at index 5; refusing non-finite weights`,
    );
  });
});

describe('through the CLI', () => {
  let out: string;
  beforeAll(async () => {
    out = path.join(tmp, 'run');
    const run = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    expect(run.code).toBe(0);
  });

  it('evaluate and export-weights name the damaged file and the mismatch (exit 1, no stack trace)', async () => {
    const copy = path.join(tmp, 'damaged-best');
    fs.cpSync(path.join(out, 'checkpoints', 'best'), copy, { recursive: true });
    const weights = path.join(copy, 'weights.safetensors');
    const bytes = fs.readFileSync(weights);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x40;
    fs.writeFileSync(weights, bytes);
    const evaluated = await cli('evaluate', spec, '--checkpoint', copy, '--backend', 'cpu');
    expect(evaluated.code).toBe(1);
    expect(evaluated.stderr).toMatch(
      new RegExp(
        `^error: ${copy.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: file 'weights\\.safetensors' has SHA-256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}… \\(its content was altered\\)\\n$`,
      ),
    );
    fs.truncateSync(weights, 100);
    const exported = await cli(
      'export-weights',
      spec,
      '--checkpoint',
      copy,
      '-o',
      path.join(tmp, 'x.safetensors'),
    );
    expect(exported.code).toBe(1);
    expect(exported.stderr).toMatch(
      /file 'weights\.safetensors' is 100 bytes, the manifest says \d+ \(truncated\)\n$/,
    );
    expect(exported.stderr).not.toMatch(STACK_LINE);
    expect(fs.existsSync(path.join(tmp, 'x.safetensors'))).toBe(false);
    // An absolute manifest path.
    rewriteAbsolute(copy);
    const absolute = await cli('evaluate', spec, '--checkpoint', copy, '--backend', 'cpu');
    expect(absolute.stderr).toBe(
      `error: ${copy}: manifest.json lists the path '/etc/passwd', which is absolute; refusing it\n`,
    );
  });

  function rewriteAbsolute(dir: string): void {
    const file = path.join(dir, MANIFEST);
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { files: { path: string; sha256: string }[] };
    const first = m.files[0];
    if (first) {
      first.path = '/etc/passwd';
      first.sha256 = sha256(fs.readFileSync('/etc/passwd'));
    }
    fs.writeFileSync(file, JSON.stringify(m));
  }

  it('--resume cleans what a crash left (a set-aside checkpoint, an unfinished one) and goes on', async () => {
    const checkpoints = path.join(out, 'checkpoints');
    // A crash between the two renames of a replacement, and one while a new best was being written.
    fs.renameSync(path.join(checkpoints, 'last'), path.join(checkpoints, '.last.old-0123ab'));
    fs.mkdirSync(path.join(checkpoints, '.best.tmp-4567cd'));
    fs.writeFileSync(path.join(checkpoints, '.best.tmp-4567cd', 'weights.safetensors'), 'half');
    const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      `note: ${out}/checkpoints: restored last (a replacement was interrupted)\n`,
    );
    expect(resumed.stdout).toContain(
      `note: ${out}/checkpoints: removed the leftover unfinished folder .best.tmp-4567cd\n`,
    );
    expect(resumed.stdout).toContain('(training was complete; testing the best model again)');
    expect(fs.readdirSync(checkpoints).sort()).toEqual(['best', 'last']);
    expect(leftovers(checkpoints)).toEqual([]);
  });

  it('--out naming a non-empty folder that is not a run is refused even with --force; a run folder only with --force or --resume', async () => {
    const mine = path.join(tmp, 'my-notes');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
    const refused = await cli('run', spec, '--out', mine, ...SMALL_RUN);
    expect(refused).toMatchObject({
      code: 1,
      stderr: `error: ${mine} exists and is not empty; pass --resume to continue that run or --force to replace it\n`,
    });
    const forced = await cli('run', spec, '--out', mine, '--force', ...SMALL_RUN);
    expect(forced).toMatchObject({
      code: 1,
      stderr: `error: ${mine} is not a netspec run folder (it holds notes.txt); not replacing it\n`,
    });
    expect(fs.readdirSync(mine)).toEqual(['notes.txt']);
    const compiled = await cli('compile', 'specs/lenet5.yaml', '-o', mine);
    expect(compiled.code).toBe(1);
    expect(fs.readdirSync(mine)).toEqual(['notes.txt']);
  });
});

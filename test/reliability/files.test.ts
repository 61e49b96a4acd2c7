/**
 * Issue 10's file-safety cases: netspec replaces only folders and files it wrote, never through a symbolic link or
 * onto a device, FIFO or special file, never the current folder or one above it, and the old only once the new
 * is complete; it reads only regular files within stated limits; its locks name their owner beyond a PID.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, openRunFolder } from '../../src/runtime/checkpoint/index.js';
import { currentOwner } from '../../src/runtime/files/lock.js';
import { encodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli, predictOnCpu } from '../support/cli.js';
import { injectFault, SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;
/** A completed run of TINY_SPEC (seed 0), copied into each test that needs a run folder to replace. */
let finished: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-files-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
  finished = path.join(tmp, 'finished');
  const run = await cli('run', spec, '--epochs', '1', '--out', finished, ...SMALL_RUN);
  expect(run.code).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every entry under `dir` with what it is: a file's SHA-256, `folder`, or `link -> target`. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const name of fs.readdirSync(at).sort()) {
      const p = path.join(at, name);
      const rel = path.relative(dir, p);
      const stat = fs.lstatSync(p);
      if (stat.isSymbolicLink()) out[rel] = `link -> ${fs.readlinkSync(p)}`;
      else if (stat.isDirectory()) {
        out[rel] = 'folder';
        walk(p);
      } else out[rel] = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A copy of the finished run at `name` under tmp. */
function runFolder(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(finished, dir, { recursive: true });
  return dir;
}

/** A project folder as users have them: their own checkpoints, code and thesis, and a log and metrics of theirs. */
function projectFolder(name: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'checkpoints', 'resnet_epoch90.pt'), 'weights of 90 epochs');
  fs.writeFileSync(path.join(dir, 'src', 'train.py'), 'print("mine")\n');
  fs.writeFileSync(path.join(dir, 'thesis.tex'), '\\documentclass{book}\n');
  fs.writeFileSync(path.join(dir, 'train.log'), 'my own log\n');
  fs.writeFileSync(path.join(dir, 'metrics.json'), '{"mine": true}\n');
  return dir;
}

/** Runs `f` with the current folder set to `dir`. */
async function inFolder<T>(dir: string, f: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await f();
  } finally {
    process.chdir(before);
  }
}

/** The PID of a process that has exited (so no process has it, for a while). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(String(child.stdout));
}

/** `netspec run` of the tiny spec on the IDX folder `idx`, into `tmp/<out>`. */
function runOnIdx(idx: string, out: string): ReturnType<typeof cli> {
  return cli('run', spec, '--data', `idx:${idx}`, '--out', path.join(tmp, out), ...SMALL_RUN);
}

function metricsOf(dir: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as RunMetrics;
}

describe('run --force replaces only a run folder, and only once the new run has saved (items 1, 2, 5)', () => {
  it('1: a project folder with checkpoints/, train.log and metrics.json is not a run folder: refused, unchanged', async () => {
    const project = projectFolder('project');
    const before = tree(project);
    const run = await cli('run', spec, '--out', project, '--force', ...SMALL_RUN);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: ${project} is not a netspec run folder (it holds checkpoints, metrics.json, src, thesis.tex, train.log); not replacing it\n`,
    );
    expect(tree(project)).toEqual(before);
  });

  it("1: a run folder that also holds the user's files is refused, naming them", async () => {
    const dir = runFolder('run-with-notes');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'my notes');
    fs.writeFileSync(path.join(dir, 'checkpoints', 'epoch90.pt'), 'mine');
    const before = tree(dir);
    const run = await cli('run', spec, '--out', dir, '--force', ...SMALL_RUN);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: ${dir} is a netspec run folder but also holds notes.txt, checkpoints/epoch90.pt, which no run wrote; not replacing it (move those away first)\n`,
    );
    expect(tree(dir)).toEqual(before);
  });

  it('2: the current folder (as ".", or through a symbolic link) is never replaced', async () => {
    const dir = runFolder('run-as-cwd');
    const before = tree(dir);
    const dot = await inFolder(dir, () => cli('run', spec, '--out', '.', '--force', ...SMALL_RUN));
    expect(dot).toMatchObject({
      code: 1,
      stderr: 'error: refusing to replace .: it is or contains the current folder\n',
    });
    const parent = await inFolder(path.join(dir, 'checkpoints'), () =>
      cli('run', spec, '--out', '..', '--force', ...SMALL_RUN),
    );
    expect(parent).toMatchObject({
      code: 1,
      stderr: 'error: refusing to replace ..: it is or contains the current folder\n',
    });
    const link = path.join(tmp, 'link-to-cwd');
    fs.symlinkSync(dir, link);
    const linked = await inFolder(dir, () => cli('run', spec, '--out', link, '--force', ...SMALL_RUN));
    expect(linked).toMatchObject({
      code: 1,
      stderr: `error: ${link} is a symbolic link; netspec does not write through links (name the folder itself)\n`,
    });
    // The real path of a folder reached through a linked parent is compared too.
    const linkedParent = path.join(tmp, 'link-to-tmp');
    fs.symlinkSync(tmp, linkedParent);
    const viaParent = await inFolder(dir, () =>
      cli('run', spec, '--out', path.join(linkedParent, 'run-as-cwd'), '--force', ...SMALL_RUN),
    );
    expect(viaParent.code).toBe(1);
    expect(viaParent.stderr).toContain('it is or contains the current folder');
    expect(tree(dir)).toEqual(before);
  });

  it('5: a forced run that diverges at its first step leaves the previous run as it was', async () => {
    const dir = runFolder('run-diverges');
    const before = tree(dir);
    const run = await cli('run', spec, '--out', dir, '--force', '--lr', '1e30', ...SMALL_RUN);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: training diverged: the loss is');
    expect(run.stderr).toContain(
      `note: the previous run in ${dir} was kept: this run failed before saving a checkpoint\n`,
    );
    expect(run.stdout).toContain(
      `note: the previous run in ${dir} is kept aside until this run saves its first checkpoint (--force)\n`,
    );
    expect(tree(dir)).toEqual(before);
    expect(fs.readdirSync(tmp).filter((n) => n.includes('.replaced-'))).toEqual([]);
    expect(loadCheckpoint(path.join(dir, 'checkpoints', 'last')).meta.kind).toBe('last');
  });

  it('5: a forced run replaces the previous run once it has saved; one killed before saving is undone at the next start', async () => {
    const dir = runFolder('run-replaced');
    const before = tree(dir);
    // A --force run killed before its first checkpoint: the previous run is aside, the new folder has no checkpoint.
    const killed = openRunFolder(dir, 'force');
    expect(killed.replacing).toBe(true);
    killed.appendLog('[Train] epoch: 0/1, step: 0/4, loss: 2.30000');
    const aside = fs.readdirSync(tmp).find((n) => n.startsWith('.run-replaced.replaced-'));
    expect(aside).toBeDefined();
    const gone = JSON.stringify({ ...currentOwner(), pid: deadPid() });
    fs.writeFileSync(path.join(dir, '.lock'), gone);
    fs.writeFileSync(path.join(tmp, aside ?? '', '.lock'), gone);

    const resumed = await cli('run', spec, '--out', dir, '--resume', '--backend', 'cpu');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      `note: ${dir}: restored the previous run from ${aside}: the --force run that replaced it stopped before saving\n`,
    );
    expect(resumed.stdout).toContain('(training was complete; testing the best model again)');
    expect(Object.keys(tree(dir))).toEqual(Object.keys(before));
    expect(fs.readdirSync(tmp).filter((n) => n.includes('.replaced-'))).toEqual([]);

    const forced = await cli('run', spec, '--out', dir, '--force', '--seed', '3', ...SMALL_RUN);
    expect(forced.code).toBe(0);
    expect(metricsOf(dir).config.training.seed).toBe(3);
    expect(fs.readdirSync(tmp).filter((n) => n.includes('.replaced-'))).toEqual([]);
  });
});

describe('compile writes only into a new or empty folder or its own output (items 4, 38)', () => {
  it('4: compile -o . --force in a project folder is refused, and the spec it compiles stays', async () => {
    const project = projectFolder('compile-project');
    fs.copyFileSync('specs/lenet5.yaml', path.join(project, 'lenet5.yaml'));
    const before = tree(project);
    const run = await inFolder(project, () => cli('compile', 'lenet5.yaml', '-o', '.', '--force'));
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: refusing to replace .: it is or contains the current folder\n',
    });
    const other = await cli('compile', 'specs/lenet5.yaml', '-o', project, '--force');
    expect(other.code).toBe(1);
    expect(other.stderr).toBe(
      `error: ${project} exists and is not compile output netspec wrote (it holds checkpoints, lenet5.yaml, metrics.json, src, thesis.tex and 1 more); netspec writes only into a new or empty folder or its own output\n`,
    );
    expect(tree(project)).toEqual(before);
  });

  it("replaces its own marked output, refuses when the user's files are in it, and knows unmarked output (--force)", async () => {
    const dir = path.join(tmp, 'compiled');
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.ts', 'torch-layers.ts']);
    // Its marker lists exactly the files there: compile's own output, replaced without --force.
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).stdout).toMatch(
      /^replaced netspec's earlier compile output in /,
    );
    fs.writeFileSync(path.join(dir, 'notes.md'), 'mine');
    expect(await cli('compile', 'specs/lenet5.yaml', '-o', dir, '--force')).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${dir} holds netspec's earlier output but also notes.md, which netspec did not write; not replacing it (move those away first)\n`,
    });
    fs.rmSync(path.join(dir, 'notes.md'));
    // Output written before folders carried a marker is recognised by its files, and replaced with --force.
    fs.rmSync(path.join(dir, '.netspec.json'));
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).stderr).toBe(
      `error: ${dir} holds netspec's earlier output; pass --force to replace it\n`,
    );
    const forced = await cli('compile', 'specs/lenet5.yaml', '--target', 'pytorch', '-o', dir, '--force');
    expect(forced.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.py', 'train.py']);
    // A file of the same name that netspec did not write is not recognised.
    fs.rmSync(path.join(dir, '.netspec.json'));
    fs.writeFileSync(path.join(dir, 'model.py'), 'import torch  # mine\n');
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir, '--force')).code).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'model.py'), 'utf8')).toBe('import torch  # mine\n');
  });

  it('38: an empty -o or --out is named as such', async () => {
    expect(await cli('compile', 'specs/lenet5.yaml', '-o', '')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: -o: the path is empty\n',
    });
    const run = await cli('run', spec, '--out', '', ...SMALL_RUN);
    expect(run).toMatchObject({ code: 1, stderr: 'error: --out: the path is empty\n' });
  });
});

describe('export-weights -o and predict --output write only new files or their own (item 3)', () => {
  it('never a device, a symbolic link or a file netspec did not write, even with --force; their own with --force', async () => {
    const checkpoint = path.join(finished, 'checkpoints', 'best');
    const exportTo = (file: string, ...more: string[]) =>
      cli('export-weights', spec, '--checkpoint', checkpoint, '-o', file, ...more);
    const devNull = await exportTo('/dev/null', '--force');
    expect(devNull).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: /dev/null is a character device; netspec writes only regular files\n',
    });
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);

    const specBefore = fs.readFileSync(spec, 'utf8');
    expect(await exportTo(spec, '--force')).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${spec} exists and is not a weights file netspec wrote; not replacing it (choose another path, or remove it yourself)\n`,
    });
    expect(fs.readFileSync(spec, 'utf8')).toBe(specBefore);

    const mine = path.join(tmp, 'mine.txt');
    fs.writeFileSync(mine, 'mine');
    const link = path.join(tmp, 'link.safetensors');
    fs.symlinkSync(mine, link);
    expect(await exportTo(link, '--force')).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${link} is a symbolic link; netspec does not write through links (name the file itself)\n`,
    });
    expect(fs.readFileSync(mine, 'utf8')).toBe('mine');

    // A safetensors file of PyTorch's (format: pt, no netspec marker) is the user's too.
    const torch = path.join(tmp, 'torch.safetensors');
    fs.writeFileSync(torch, encodeSafetensors(new Map(), { format: 'pt' }));
    const torchBefore = fs.readFileSync(torch);
    expect((await exportTo(torch, '--force')).code).toBe(1);
    expect(fs.readFileSync(torch)).toEqual(torchBefore);

    const weights = path.join(tmp, 'exported', 'w.safetensors');
    expect(await exportTo(weights)).toMatchObject({ code: 0, stderr: '' });
    expect(await exportTo(weights)).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${weights} exists (a weights file netspec wrote); pass --force to replace it\n`,
    });
    expect((await exportTo(weights, '--force')).code).toBe(0);
    // What export-weights wrote before it marked its files (format: pt and the network's name) is netspec's too.
    const legacy = path.join(tmp, 'legacy.safetensors');
    fs.writeFileSync(legacy, encodeSafetensors(new Map(), { format: 'pt', network: 'tiny8' }));
    expect((await exportTo(legacy, '--force')).code).toBe(0);

    const input = path.join(tmp, 'x.safetensors');
    fs.writeFileSync(
      input,
      encodeSafetensors(
        new Map([['input', { dtype: 'F32', shape: [2, 1, 8, 8], data: new Float32Array(128) }]]),
      ),
    );
    const predictTo = (file: string, ...more: string[]) =>
      predictOnCpu(spec, weights, input, '--output', file, ...more);
    expect(await predictTo('/dev/null')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: /dev/null is a character device; netspec writes only regular files\n',
    });
    expect((await predictTo(input, '--force')).code).toBe(1);
    const y = path.join(tmp, 'y.safetensors');
    expect((await predictTo(y)).code).toBe(0);
    expect((await predictTo(y)).stderr).toBe(
      `error: ${y} exists (a predictions file netspec wrote); pass --force to replace it\n`,
    );
    expect((await predictTo(y, '--force')).code).toBe(0);
  });
});

describe('inputs are regular files within stated limits (items 10, 15, 16)', () => {
  it('15: a spec or an extends target that is a symbolic link to /dev/zero is refused at once', async () => {
    const zero = path.join(tmp, 'zero.yaml');
    fs.symlinkSync('/dev/zero', zero);
    const started = Date.now();
    expect(await cli('check', zero)).toEqual({
      code: 1,
      stdout: '',
      stderr: `error FILE_UNREADABLE: cannot read '${zero}': it is a character device, not a regular file\n`,
    });
    const child = path.join(tmp, 'extends-zero.yaml');
    fs.writeFileSync(child, 'netspec: 1\nname: child\nextends: ./zero.yaml\n');
    const extended = await cli('check', child);
    expect(extended.code).toBe(1);
    expect(extended.stderr).toContain(
      `${child}:3:10: error EXTENDS_UNREADABLE: cannot read '${zero}', which this spec extends: it is a character device, not a regular file\n`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('16: a FIFO as a spec, an extends target or an IDX file is refused without waiting for a writer', async () => {
    const fifo = path.join(tmp, 'fifo.yaml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const started = Date.now();
    const check = await cli('check', fifo);
    expect(check).toEqual({
      code: 1,
      stdout: '',
      stderr: `error FILE_UNREADABLE: cannot read '${fifo}': it is a FIFO (named pipe), not a regular file\n`,
    });
    const child = path.join(tmp, 'extends-fifo.net');
    fs.writeFileSync(child, 'network child extends "./fifo.yaml" () {}\n');
    const extended = await cli('check', child);
    expect(extended.code).toBe(1);
    expect(extended.stderr).toContain('it is a FIFO (named pipe), not a regular file');
    const idx = path.join(tmp, 'idx-fifo');
    fs.mkdirSync(idx);
    expect(spawnSync('mkfifo', [path.join(idx, 'train-images-idx3-ubyte')]).status).toBe(0);
    fs.writeFileSync(path.join(idx, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 0]));
    const run = await runOnIdx(idx, 'no-run');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot read IDX file ${path.join(idx, 'train-images-idx3-ubyte')}: it is a FIFO (named pipe), not a regular file\n`,
    );
    expect(fs.existsSync(path.join(tmp, 'no-run'))).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('10: an IDX file over the 1 GiB limit and a spec over the 4 MiB limit are refused before reading', async () => {
    const idx = path.join(tmp, 'idx-huge');
    fs.mkdirSync(idx);
    const images = path.join(idx, 'train-images-idx3-ubyte');
    fs.writeFileSync(images, Buffer.from([0, 0, 8, 3]));
    fs.truncateSync(images, 2 ** 31 + 16); // sparse: 2 GiB that take no disk space
    fs.writeFileSync(path.join(idx, 'train-labels-idx1-ubyte'), Buffer.from([0, 0, 8, 1, 0, 0, 0, 0]));
    const run = await runOnIdx(idx, 'no-run-2');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot read IDX file ${images}: it is 2 GiB (2,147,483,664 bytes); netspec reads at most 1 GiB from one IDX file\n`,
    );
    const big = path.join(tmp, 'big.yaml');
    fs.writeFileSync(big, `# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const check = await cli('check', big);
    expect(check.stderr).toBe(
      `error FILE_UNREADABLE: cannot read '${big}': it is 5 MiB (5,242,883 bytes); netspec reads at most 4 MiB from one spec\n`,
    );
  });

  it('10: a checkpoint file over 2 GiB listed with its size is checked in bounded memory and named', async () => {
    const dir = runFolder('run-huge-weights');
    const best = path.join(dir, 'checkpoints', 'best');
    const weights = path.join(best, 'weights.safetensors');
    const size = 2 ** 31 + 8;
    fs.truncateSync(weights, size); // sparse
    const manifestFile = path.join(best, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
      files: { path: string; size: number }[];
    };
    for (const f of manifest.files) if (f.path === 'weights.safetensors') f.size = size;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    const run = await cli('evaluate', spec, '--checkpoint', best, '--backend', 'cpu');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: ${best}: file 'weights.safetensors' has SHA-256 [0-9a-f]{12}…, the manifest says [0-9a-f]{12}… \\(its content was altered\\)\n$`,
      ),
    );
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(512 * 1024 * 1024);
  });
});

describe('output paths that cannot be created (items 17, 31)', () => {
  it('17: run --out /proc/self/x ends at once with a message', async () => {
    const started = Date.now();
    const run = await cli('run', spec, '--out', '/proc/self/x', ...SMALL_RUN);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: cannot write /proc/self/x: a folder on the path does not exist or cannot hold files; nothing was written\n',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('31: missing folders above an output are created; a read-only file system is named as such', async () => {
    const dir = path.join(tmp, 'new', 'deeper', 'out');
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).code).toBe(0);
    const ro = path.join(tmp, 'ro', 'sub', 'out');
    const restore = injectFault({
      point: 'mkdir',
      code: 'EROFS',
      matches: (f) => f.startsWith(path.join(tmp, 'ro')),
    });
    const refused = await cli('compile', 'specs/lenet5.yaml', '-o', ro);
    restore();
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot write ${ro}: read-only file system; nothing was written\n`,
    });
  });
});

describe('locks name their owner beyond a PID (item 23)', () => {
  it('takes over a lock whose PID is gone, reused by another process, or this very process at another start', async () => {
    for (const [name, owner] of [
      ['gone', { ...currentOwner(), pid: deadPid() }],
      ['reused', { ...currentOwner(), pid: process.ppid, start: '1' }],
      ['self', { ...currentOwner(), start: '1' }],
      ['rebooted', { ...currentOwner(), boot: '00000000-0000-0000-0000-000000000000' }],
      ['legacy', deadPid()],
    ] as const) {
      const dir = runFolder(`locked-${name}`);
      fs.writeFileSync(path.join(dir, '.lock'), JSON.stringify(owner));
      const run = await cli('run', spec, '--out', dir, '--resume', '--backend', 'cpu');
      expect(run.stderr, name).toBe('');
      expect(run.code, name).toBe(0);
      expect(fs.existsSync(path.join(dir, '.lock')), name).toBe(false);
    }
  });

  it('refuses a lock held by a live process, and one from another host with the command to clear it', async () => {
    const live = runFolder('locked-live');
    const lock = path.join(live, '.lock');
    fs.writeFileSync(lock, JSON.stringify(currentOwner()));
    const run = await cli('run', spec, '--out', live, '--resume', '--backend', 'cpu');
    expect(run).toMatchObject({
      code: 1,
      stderr: `error: ${live} is in use by another netspec run (this process); if that is not a netspec run, remove ${lock}\n`,
    });
    const far = runFolder('locked-far');
    const farLock = path.join(far, '.lock');
    fs.writeFileSync(farLock, JSON.stringify({ ...currentOwner(), host: 'node-17' }));
    const elsewhere = await cli('run', spec, '--out', far, '--force', ...SMALL_RUN);
    expect(elsewhere).toMatchObject({
      code: 1,
      stderr: `error: ${far} is locked by netspec process ${process.pid} on host node-17; if no run is active there, remove ${farLock}\n`,
    });
  });
});

describe('the final line names only what was written (item 24)', () => {
  it('with no dev evaluation there is no best checkpoint, and the line says checkpoints/last only', async () => {
    const out = path.join(tmp, 'no-eval');
    const run = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN, '--eval-steps', '0');
    expect(run.code).toBe(0);
    expect(fs.existsSync(path.join(out, 'checkpoints', 'best'))).toBe(false);
    expect(run.stdout).toMatch(
      new RegExp(
        `\nwrote ${out}: train\\.log, metrics\\.json, checkpoints/last(, [a-z]+\\.(svg|png|csv))*\n$`,
      ),
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPILE_TARGETS } from '../../src/cli/compile.js';
import { cli } from '../support/cli.js';

describe('netspec compile', () => {
  it('writes the target files, the IR and the folder marker into the output folder', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-')), 'out');
    const run = await cli('compile', 'specs/lenet5.net', '--target', 'pytorch', '-o', dir);
    expect(run.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.py', 'train.py']);
    expect(fs.readFileSync(path.join(dir, 'model.py'), 'utf8')).toBe(
      fs.readFileSync('generated/lenet5/pytorch/model.py', 'utf8'),
    );
  });

  it('refuses a folder it did not write, even with --force, and changes nothing; replaces its own without --force', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-'));
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    for (const force of [[], ['--force']]) {
      const run = await cli('compile', 'specs/lenet5.yaml', '-o', dir, ...force);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `error: ${dir} exists and is not compile output netspec wrote (it holds keep.txt); netspec writes only into a new or empty folder or its own output\n`,
      );
      expect(fs.readdirSync(dir)).toEqual(['keep.txt']);
    }
    fs.rmSync(path.join(dir, 'keep.txt'));
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).code).toBe(0);
    // Its own output (the marker lists exactly the files there) is replaced, another target's files going with it.
    const again = await cli('compile', 'specs/lenet5.yaml', '--target', 'pytorch', '-o', dir);
    expect(again).toEqual({
      code: 0,
      stdout: `replaced netspec's earlier compile output in ${dir}\nwrote ${dir}/model.py, ${dir}/train.py, ${dir}/ir.json\n`,
      stderr: '',
    });
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.py', 'train.py']);
    expect(
      fs.readdirSync(path.dirname(dir)).filter((f) => f.includes(path.basename(dir)) && f.startsWith('.')),
    ).toEqual([]);
    // Once it also holds a file of the user's, it is refused, with or without --force, naming that file.
    fs.writeFileSync(path.join(dir, 'notes.md'), 'mine');
    for (const force of [[], ['--force']])
      expect(await cli('compile', 'specs/lenet5.yaml', '-o', dir, ...force)).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: ${dir} holds netspec's earlier output but also notes.md, which netspec did not write; not replacing it (move those away first)\n`,
      });
    expect(fs.readFileSync(path.join(dir, 'notes.md'), 'utf8')).toBe('mine');
    // A marker that lists a file no longer there is not exactly this folder: replaced only with --force.
    fs.rmSync(path.join(dir, 'notes.md'));
    fs.rmSync(path.join(dir, 'model.py'));
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir)).stderr).toBe(
      `error: ${dir} holds netspec's earlier output; pass --force to replace it\n`,
    );
    expect((await cli('compile', 'specs/lenet5.yaml', '-o', dir, '--force')).code).toBe(0);
  });

  it('netspec compile specs/lenet5.yaml replaces its committed output generated/lenet5/tfjs, byte for byte', async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-'));
    fs.cpSync('specs', path.join(project, 'specs'), { recursive: true });
    fs.cpSync('generated/lenet5/tfjs', path.join(project, 'generated/lenet5/tfjs'), { recursive: true });
    const before = process.cwd();
    process.chdir(project);
    let run;
    try {
      run = await cli('compile', 'specs/lenet5.yaml');
    } finally {
      process.chdir(before);
    }
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      "replaced netspec's earlier compile output in generated/lenet5/tfjs",
    );
    for (const name of fs.readdirSync('generated/lenet5/tfjs'))
      expect(fs.readFileSync(path.join(project, 'generated/lenet5/tfjs', name), 'utf8')).toBe(
        fs.readFileSync(path.join('generated/lenet5/tfjs', name), 'utf8'),
      );
  });

  it('lists the targets of compiler/targets (written out so that --help does not load them)', async () => {
    const { CODE_TARGETS } = await import('../../src/compiler/targets/index.js');
    expect(COMPILE_TARGETS).toEqual(CODE_TARGETS);
  });

  it('writes nothing when the spec has an error', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-'));
    const dir = path.join(root, 'out');
    const run = await cli('compile', 'test/fixtures/diagnostics/unknown-layer/spec.yaml', '-o', dir);
    expect(run.code).toBe(1);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('reports an output path it cannot create as a user error, without a stack trace', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-'));
    fs.writeFileSync(path.join(root, 'file'), 'not a folder');
    const run = await cli('compile', 'specs/lenet5.yaml', '-o', path.join(root, 'file', 'out'));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: cannot write ${path.join(root, 'file', 'out')}: a part of the path is a file, not a folder; nothing was written\n`,
    );
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';

describe('netspec compile', () => {
  it('writes the target files, the IR and the folder marker into the output folder', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-compile-')), 'out');
    const run = await cli('compile', 'specs/lenet5.net', '--target', 'pytorch', '-o', dir);
    expect(run.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.py']);
    expect(fs.readFileSync(path.join(dir, 'model.py'), 'utf8')).toBe(
      fs.readFileSync('generated/lenet5/pytorch/model.py', 'utf8'),
    );
  });

  it('refuses a folder it did not write, even with --force, and changes nothing; replaces its own with --force', async () => {
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
    const forced = await cli('compile', 'specs/lenet5.yaml', '--target', 'pytorch', '-o', dir, '--force');
    expect(forced.code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'ir.json', 'model.py']);
    expect(
      fs.readdirSync(path.dirname(dir)).filter((f) => f.includes(path.basename(dir)) && f.startsWith('.')),
    ).toEqual([]);
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

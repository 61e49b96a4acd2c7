/**
 * `netspec check`: `--json` (diagnostics as data, positions as the text rendering has them), `-` (a spec on
 * stdin, YAML or DSL, named `<stdin>`), and folders (every spec in one for check; a one-line error for the commands
 * that take one spec).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sniffFormat, type SpecCheckJson } from '../../src/cli/check.js';
import { runCli } from '../../src/cli/main.js';
import { cli, type CliRun } from '../support/cli.js';

const BAD = 'test/fixtures/diagnostics/unknown-layer/spec.yaml';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-check-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `netspec <argv>` in this process with `stdin` as its standard input. */
async function withStdin(stdin: string | Buffer, ...argv: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    stdin: Readable.from([Buffer.from(stdin)]),
  });
  return { code, stdout, stderr };
}

describe('check --json', () => {
  it('prints one document: per spec, its file, ok, and each diagnostic with start, end and hint', async () => {
    const run = await cli('check', '--json', 'specs/lenet5.yaml', BAD, 'missing.yaml');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      { file: 'specs/lenet5.yaml', ok: true, diagnostics: [] },
      {
        file: BAD,
        ok: false,
        diagnostics: [
          {
            severity: 'error',
            code: 'UNKNOWN_LAYER',
            message: "unknown layer 'convv'",
            file: BAD,
            line: 6,
            column: 9,
            endLine: 6,
            endColumn: 14,
            hint: "did you mean 'conv'?",
          },
        ],
      },
      {
        file: 'missing.yaml',
        ok: false,
        diagnostics: [
          {
            severity: 'error',
            code: 'FILE_NOT_FOUND',
            message: "cannot read 'missing.yaml'",
            file: 'missing.yaml',
            line: null,
            column: null,
          },
        ],
      },
    ] satisfies SpecCheckJson[]);
  });

  it('places every diagnostic of the golden cases where the text rendering does, exit code as without --json', async () => {
    const root = 'test/fixtures/diagnostics';
    for (const name of fs.readdirSync(root).sort()) {
      const dir = path.join(root, name);
      if (fs.existsSync(path.join(dir, 'set.txt'))) continue;
      const spec = ['spec.yaml', 'spec.net'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
      if (!spec) continue;
      const text = await cli('check', spec);
      const json = await cli('check', spec, '--json');
      expect(json.code).toBe(text.code);
      const [result] = JSON.parse(json.stdout) as SpecCheckJson[];
      const heads = text.stderr.split('\n').filter((l) => /^\S+:\d+:\d+: (error|warning) /.test(l));
      expect(
        result?.diagnostics
          .filter((d) => d.line !== null)
          .map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`),
      ).toEqual(heads);
    }
  });
});

describe('check - (a spec on stdin)', () => {
  it('reads YAML, names it <stdin>, and resolves extends from the current folder', async () => {
    const yaml = fs
      .readFileSync('specs/resnet18-plain.yaml', 'utf8')
      .replace('./resnet18.yaml', 'specs/resnet18.yaml');
    expect(await withStdin(yaml, 'check', '-')).toEqual({
      code: 0,
      stdout:
        '<stdin>: ok (resnet18-plain: 55 layers, 11,001,610 trainable parameters, input [1, 32, 32] -> output [10])\n',
      stderr: '',
    });
  });

  it('takes a text opening with network (after comments) as the DSL, unless --format says otherwise', async () => {
    const net = fs.readFileSync('specs/lenet5.net', 'utf8');
    expect((await withStdin(net, 'check', '-')).stdout).toBe(
      '<stdin>: ok (lenet5: 12 layers, 61,706 trainable parameters, input [1, 32, 32] -> output [10])\n',
    );
    expect(sniffFormat('// a comment\n/* more */\n# and more\n  network x() {}')).toBe('net');
    expect(sniffFormat('\uFEFFnetwork x() {}')).toBe('net');
    expect(sniffFormat('networks: 1\n')).toBe('yaml');
    expect(sniffFormat('netspec: 1\nname: network\n')).toBe('yaml');
    const forced = await withStdin(net, 'check', '-', '--format', 'yaml');
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/^<stdin>:\d+:\d+: error /);
  });

  it('names <stdin> in diagnostics, text and JSON', async () => {
    const spec = fs.readFileSync(BAD, 'utf8');
    const text = await withStdin(spec, 'check', '-');
    expect(text.code).toBe(1);
    expect(text.stderr).toBe(
      fs
        .readFileSync('test/fixtures/diagnostics/unknown-layer/expected.txt', 'utf8')
        .replaceAll(BAD, '<stdin>'),
    );
    const json = await withStdin(spec, 'check', '--json', '-');
    expect(JSON.parse(json.stdout)).toMatchObject([
      { file: '<stdin>', ok: false, diagnostics: [{ file: '<stdin>', line: 6, column: 9 }] },
    ]);
  });

  it('refuses more than 4 MiB, a second -, and --format without -', async () => {
    const big = await withStdin(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), 'check', '-');
    expect(big).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: cannot read the spec on <stdin>: it holds more than 4 MiB; netspec reads at most 4 MiB from one spec\n',
    });
    expect((await withStdin('', 'check', '-', '-')).stderr).toBe('error: stdin (-) can be named only once\n');
    expect((await cli('check', 'specs/lenet5.yaml', '--format', 'net')).stderr).toBe(
      "error: --format is for a spec read from stdin (-); a file's name says its format\n",
    );
  });
});

describe('folders', () => {
  it('check of a folder checks every spec in it, sorted, not those in subfolders', async () => {
    const dir = path.join(tmp, 'specs');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.copyFileSync('specs/lenet5.yaml', path.join(dir, 'b.yaml'));
    fs.copyFileSync('specs/lenet5.net', path.join(dir, 'a.net'));
    fs.copyFileSync(BAD, path.join(dir, 'c.yml'));
    fs.copyFileSync(BAD, path.join(dir, 'sub', 'd.yaml'));
    fs.writeFileSync(path.join(dir, 'notes.md'), 'not a spec');
    const run = await cli('check', dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `${path.join(dir, 'a.net')}: ok (lenet5: 12 layers, 61,706 trainable parameters, input [1, 32, 32] -> output [10])\n` +
        `${path.join(dir, 'b.yaml')}: ok (lenet5: 12 layers, 61,706 trainable parameters, input [1, 32, 32] -> output [10])\n`,
    );
    expect(run.stderr).toMatch(new RegExp(`^${path.join(dir, 'c.yml')}:6:9: error UNKNOWN_LAYER: `));
    const empty = path.join(dir, 'sub', 'none');
    fs.mkdirSync(empty);
    expect(await cli('check', empty)).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: ${empty} is a folder and holds no spec files (*.yaml, *.yml, *.net)\n`,
    });
  });

  it('the commands that take one spec say a folder is one, naming some of its specs', async () => {
    expect(await cli('summary', 'specs/')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: specs/ is a folder: name one spec file, e.g. specs/lenet5.yaml ' +
        '(it holds lenet5.net, lenet5.yaml, resnet18-plain.net, resnet18-plain.yaml, resnet18.net and 9 more)\n',
    });
    for (const command of [
      ['compile'],
      ['stat'],
      ['run'],
      ['export', '--format', 'tfjs-graph', '-o', path.join(tmp, 'x')],
    ]) {
      const run = await cli(...command, 'specs');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^error: specs is a folder: name one spec file, e\.g\. specs\/lenet5\.yaml \(it holds /,
      );
    }
    expect((await cli('compile', tmp)).stderr).toBe(
      `error: ${tmp} is a folder, and holds no spec files (*.yaml, *.yml, *.net): name one spec file\n`,
    );
  });
});

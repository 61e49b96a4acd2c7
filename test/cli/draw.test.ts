/**
 * `netspec draw`'s command line: the SVG, PNG and DOT it writes, the write policy (a new file, or with --force a
 * picture netspec drew; never a file it did not), a bad spec's diagnostic with nothing written, `-o -`, and a light
 * `draw --help` (Graphviz and resvg load only in the action). Runs through `runCli` once main.ts registers the
 * command; until then through a program holding only `draw`, with main.ts's error printing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliRun } from '../support/cli.js';
import { packagesLoadedBy } from '../support/packages.js';

const draw = (...argv: string[]): Promise<CliRun> => cli('draw', ...argv);

let root: string;
const fresh = (): string => fs.mkdtempSync(path.join(root, 'case-'));
const SPEC = path.resolve('specs/resnet18.net');
const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-draw-cli-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('netspec draw', () => {
  it('writes <network name>.svg in the current folder by default, at blocks detail', async () => {
    const dir = fresh();
    const before = process.cwd();
    process.chdir(dir);
    try {
      const run = await draw(SPEC);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('wrote resnet18.svg: resnet18 at blocks detail (SVG)\n');
    } finally {
      process.chdir(before);
    }
    const svg = fs.readFileSync(path.join(dir, 'resnet18.svg'), 'utf8');
    expect(svg.split('\n')[1]).toBe('<!-- netspec draw -->');
    expect(svg).toContain('<title>stage3.0</title>');
    expect(svg).not.toContain('<title>stage3.0.conv1</title>');
    expect(fs.readdirSync(dir)).toEqual(['resnet18.svg']);
  });

  it('writes a PNG, and DOT to a file or to stdout, at the detail asked for', async () => {
    const dir = fresh();
    const png = path.join(dir, 'pictures', 'net.png');
    const run = await draw(SPEC, '-o', png, '--detail', 'modules');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`wrote ${png}: resnet18 at modules detail (PNG)\n`);
    const bytes = fs.readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(bytes.subarray(37, 62).toString('latin1')).toBe('tEXtSoftware\u0000netspec draw');

    const dot = path.join(dir, 'net.dot');
    expect((await draw(SPEC, '-o', dot, '--detail', 'layers', '--modules', 'stage3')).code).toBe(0);
    const text = fs.readFileSync(dot, 'utf8');
    expect(text.split('\n')[0]).toBe('// netspec draw: resnet18, layers detail (modules stage3)');
    expect(text).toContain('"stage3.0.conv1"');
    expect(text).not.toContain('"stage2.0.conv1" [');

    const out = await draw(SPEC, '-o', '-', '--detail', 'blocks');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(fs.readFileSync('test/fixtures/draw/resnet18.blocks.dot', 'utf8'));
  });

  it('refuses to replace a file it did not draw, with or without --force, and replaces its own with --force', async () => {
    const dir = fresh();
    for (const name of ['notes.svg', 'photo.png', 'graph.dot']) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, name.endsWith('.png') ? Buffer.from(PNG_SIGNATURE) : 'mine\n');
      const before = fs.readFileSync(file);
      for (const force of [[], ['--force']]) {
        const run = await draw(SPEC, '-o', file, ...force);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(
          `error: ${file} exists and is not a picture netspec wrote; not replacing it (choose another path, or remove it yourself)\n`,
        );
        expect(fs.readFileSync(file).equals(before)).toBe(true);
      }
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['graph.dot', 'notes.svg', 'photo.png']);

    for (const name of ['own.svg', 'own.png', 'own.dot']) {
      const file = path.join(dir, name);
      expect((await draw(SPEC, '-o', file, '--detail', 'modules')).code).toBe(0);
      const first = fs.readFileSync(file);
      const again = await draw(SPEC, '-o', file);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(
        `error: ${file} exists (a picture netspec wrote); pass --force to replace it\n`,
      );
      expect(fs.readFileSync(file).equals(first)).toBe(true);
      const forced = await draw(SPEC, '-o', file, '--force');
      expect(forced.code).toBe(0);
      expect(fs.readFileSync(file).equals(first)).toBe(false);
    }
    // Written atomically: no temporary file is left beside them.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a bad spec prints its file:line:col diagnostic and writes nothing', async () => {
    const dir = fresh();
    const spec = path.join(dir, 'bad.net');
    fs.writeFileSync(
      spec,
      'network bad {\n  input [1, 8, 8]\n  module body { conv(4, kernel = 3, strid = 2) }\n}\n',
    );
    const run = await draw(spec, '-o', path.join(dir, 'bad.svg'));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(
      `${spec}:3:37: error UNKNOWN_ARGUMENT: conv has no argument 'strid'`,
    );
    expect(fs.readdirSync(dir)).toEqual(['bad.net']);
  });

  it('one-line errors for an unknown ending and an unknown module, before anything is written', async () => {
    const dir = fresh();
    const txt = await draw(SPEC, '-o', path.join(dir, 'net.txt'));
    expect(txt).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: -o ${path.join(dir, 'net.txt')}: name a .svg, .png or .dot file (the ending says which), or - to print the DOT\n`,
    });
    const mod = await draw(SPEC, '-o', path.join(dir, 'net.svg'), '--modules', 'stem,stage9');
    expect(mod.code).toBe(1);
    expect(mod.stderr).toBe(
      "error: --modules: no module 'stage9' in resnet18 (its modules: stem, stage2, stage3, stage4, stage5, head)\n",
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('draw --help loads neither Graphviz nor resvg nor vega; drawing an SVG loads Graphviz alone', () => {
    const heavy = (ps: string[]): string[] =>
      ps.filter(
        (p) => p.startsWith('@viz-js/') || p.startsWith('@resvg/') || p === 'vega' || p === 'chevrotain',
      );
    expect(heavy(packagesLoadedBy('draw', '--help'))).toEqual([]);
    const svg = path.join(fresh(), 'lenet5.svg');
    expect(heavy(packagesLoadedBy('draw', 'specs/lenet5.net', '-o', svg)).sort()).toEqual([
      '@viz-js/viz',
      'chevrotain',
    ]);
    expect(fs.existsSync(svg)).toBe(true);
  });
});

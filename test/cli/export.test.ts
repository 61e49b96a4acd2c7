/**
 * `netspec export`'s command line: what it writes, the output folder policy of `netspec compile` (a new or empty
 * folder, or its own earlier export with --force; nothing partial), the initial weights of --seed, and a
 * checkpoint of another network refused before anything is written. What the files compute is test/export/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { selectBackend } from '../../src/runtime/backends/index.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/runtime/train/index.js';
import { cli } from '../support/cli.js';
import { compileIr } from '../support/compile.js';

const SPEC = 'specs/lenet5.yaml';
let root: string;
const fresh = (): string => fs.mkdtempSync(path.join(root, 'case-'));
const read = (file: string): Buffer => fs.readFileSync(file);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-export-cli-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('netspec export', () => {
  it('writes model.json, the shards, layers.js (tfjs-layers) and the marker listing them', async () => {
    const graph = path.join(fresh(), 'graph');
    const run = await cli('export', SPEC, '--format', 'tfjs-graph', '-o', graph);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `wrote ${graph}: 'lenet5' as tfjs-graph, initial weights, seed 0 (model.json, 1 weight shard (0.2 MiB)); ` +
        'load it with tf.loadGraphModel\n',
    );
    expect(fs.readdirSync(graph).sort()).toEqual(['.netspec.json', 'group1-shard1of1.bin', 'model.json']);
    const marker = JSON.parse(fs.readFileSync(path.join(graph, '.netspec.json'), 'utf8'));
    expect(marker).toEqual({
      format: 'netspec-folder',
      version: 1,
      kind: 'export',
      files: ['group1-shard1of1.bin', 'model.json'],
    });
    const json = JSON.parse(fs.readFileSync(path.join(graph, 'model.json'), 'utf8'));
    expect(json.userDefinedMetadata.netspec).toEqual({
      network: 'lenet5',
      inputShape: [1, 32, 32],
      outputShape: [10],
      layout: 'NCHW',
      weights: 'initial weights, seed 0',
    });

    const layers = path.join(fresh(), 'layers');
    const run2 = await cli('export', 'specs/resnet18.yaml', '--format', 'tfjs-layers', '-o', layers);
    expect(run2.stdout).toBe(
      `wrote ${layers}: 'resnet18' as tfjs-layers, initial weights, seed 0 (model.json, 11 weight shards ` +
        '(42.7 MiB), layers.js); load it with tf.loadLayersModel after registerLayers(tf) from layers.js\n',
    );
    expect(fs.readdirSync(layers).sort()).toEqual([
      '.netspec.json',
      ...Array.from({ length: 11 }, (_, i) => `group1-shard${i + 1}of11.bin`).sort(),
      'layers.js',
      'model.json',
    ]);
    for (let i = 1; i <= 10; i++)
      expect(fs.statSync(path.join(layers, `group1-shard${i}of11.bin`)).size).toBe(4 << 20);
    expect(JSON.parse(fs.readFileSync(path.join(layers, 'model.json'), 'utf8')).format).toBe('layers-model');
  });

  it('exports the initial weights of --seed (default 0), the same bytes each time', async () => {
    const dirs = [fresh(), fresh(), fresh()].map((d) => path.join(d, 'out'));
    for (const [dir, seed] of [
      [dirs[0], []],
      [dirs[1], ['--seed', '0']],
      [dirs[2], ['--seed', '5']],
    ] as const)
      expect((await cli('export', SPEC, '--format', 'tfjs-graph', '-o', dir ?? '', ...seed)).code).toBe(0);
    const shard = (dir: string | undefined): Buffer => read(path.join(dir ?? '', 'group1-shard1of1.bin'));
    expect(shard(dirs[0]).equals(shard(dirs[1]))).toBe(true);
    expect(shard(dirs[0]).equals(shard(dirs[2]))).toBe(false);
  });

  it('refuses a folder it did not write, even with --force, and changes nothing; replaces its own with --force', async () => {
    const dir = fresh();
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    for (const force of [[], ['--force']]) {
      const run = await cli('export', SPEC, '--format', 'tfjs-graph', '-o', dir, ...force);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `error: ${dir} exists and is not export output netspec wrote (it holds keep.txt); netspec writes only ` +
          'into a new or empty folder or its own output\n',
      );
      expect(fs.readdirSync(dir)).toEqual(['keep.txt']);
    }
    fs.rmSync(path.join(dir, 'keep.txt'));
    expect((await cli('export', SPEC, '--format', 'tfjs-layers', '-o', dir)).code).toBe(0);
    const again = await cli('export', SPEC, '--format', 'tfjs-graph', '-o', dir);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`error: ${dir} holds netspec's earlier output; pass --force to replace it\n`);
    // --force replaces the LayersModel with a GraphModel: layers.js goes with it, nothing is left aside.
    expect((await cli('export', SPEC, '--format', 'tfjs-graph', '-o', dir, '--force')).code).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual(['.netspec.json', 'group1-shard1of1.bin', 'model.json']);
    expect(fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith('.'))).toEqual([]);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    const foreign = await cli('export', SPEC, '--format', 'tfjs-graph', '-o', dir, '--force');
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('but also notes.txt, which netspec did not write');
  });

  it('refuses compile output and a checkpoint of another network, naming them, and writes nothing', async () => {
    const compiled = path.join(fresh(), 'compiled');
    expect((await cli('compile', SPEC, '-o', compiled)).code).toBe(0);
    const onCompile = await cli('export', SPEC, '--format', 'tfjs-graph', '-o', compiled, '--force');
    expect(onCompile.code).toBe(1);
    expect(onCompile.stderr).toMatch(
      new RegExp(`^error: ${compiled} exists and is not export output netspec wrote`),
    );

    await selectBackend('cpu');
    const other = compileIr('specs/vgg-small.yaml');
    const checkpoint = path.join(fresh(), 'checkpoint');
    saveCheckpoint(checkpoint, {
      kind: 'best',
      ir: other,
      config: { training: DEFAULT_TRAIN_CONFIG, data: { source: 'synthetic', train: 0, dev: 0, test: 0 } },
      backend: 'cpu',
      weights: getStateDict(buildModel(other, { seed: 0 }), other),
    });
    const out = path.join(fresh(), 'out');
    const run = await cli('export', SPEC, '--checkpoint', checkpoint, '--format', 'tfjs-graph', '-o', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: ${SPEC} does not describe the network in ${checkpoint}:`));
    expect(fs.existsSync(out)).toBe(false);

    const missing = await cli(
      'export',
      SPEC,
      '--checkpoint',
      path.join(root, 'none'),
      '--format',
      'tfjs-graph',
      '-o',
      out,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(path.join(root, 'none'));
    expect(fs.existsSync(out)).toBe(false);
  });

  it('needs --format and -o, and knows only its formats', async () => {
    expect((await cli('export', SPEC, '-o', path.join(root, 'x'))).stderr).toContain(
      "required option '--format <format>' not specified",
    );
    expect((await cli('export', SPEC, '--format', 'tfjs-graph')).stderr).toContain(
      "required option '-o, --output <path>' not specified",
    );
    expect((await cli('export', SPEC, '--format', 'keras', '-o', path.join(root, 'x'))).stderr).toContain(
      'Allowed choices are tfjs-graph, tfjs-layers, onnx, safetensors.',
    );
    expect(fs.existsSync(path.join(root, 'x'))).toBe(false);
  });
});

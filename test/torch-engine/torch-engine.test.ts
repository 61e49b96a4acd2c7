/**
 * `netspec run --engine torch`: train.py under /usr/bin/python3 gives the tfjs trainer's numbers (same data, same
 * initial weights, same shuffle, same update rules), two processes under torch.distributed.run give the one
 * process's weights, and the run folder is a netspec run folder whose checkpoints netspec evaluates.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { formatFixed } from '../../src/runtime/train/log-lines.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { Prng } from '../../src/runtime/train/prng.js';
import { decodeSafetensors } from '../../src/runtime/weights/safetensors.js';
import { cli, TINY8_SPEC } from '../support/cli.js';
import { PYTHON, pythonHas } from '../support/torch.js';

const hasTorch = pythonHas('torch engine tests');
const TRAINER_DIR = path.resolve('src/compiler/targets/pytorch');

/** 57 training images in batches of 16: the last batch (9) splits unevenly over two processes (4 + 5). */
const RUN = [
  '--train',
  '57',
  '--dev',
  '24',
  '--test',
  '24',
  '--batch-size',
  '16',
  '--epochs',
  '2',
  '--optimizer',
  'momentum',
  '--momentum',
  '0.9',
  '--lr',
  '0.05',
  '--weight-decay',
  '0.001',
  '--log-steps',
  '1',
  '--eval-steps',
  '3',
];

/** One short epoch. */
const SHORT = ['--train', '48', '--dev', '16', '--test', '16', '--batch-size', '16', '--epochs', '1'];

let dir: string;
let spec: string;

/** A TCP port free on this machine now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function metricsOf(run: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(run, 'metrics.json'), 'utf8')) as RunMetrics;
}

function maxWeightDifference(a: string, b: string): number {
  const wa = loadCheckpoint(a).weights;
  const wb = loadCheckpoint(b).weights;
  expect([...wa.keys()]).toEqual([...wb.keys()]);
  let max = 0;
  for (const [name, t] of wa) {
    const u = wb.get(name)?.data ?? new Float32Array();
    expect(u.length, name).toBe(t.data.length);
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs((t.data[i] ?? 0) - (u[i] ?? 0)));
  }
  return max;
}

describe.skipIf(!hasTorch)('netspec run --engine torch', () => {
  const runs: Record<string, { code: number; stdout: string; stderr: string }> = {};
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-torch-'));
    spec = path.join(dir, 'tiny8.yaml');
    fs.writeFileSync(spec, TINY8_SPEC);
    runs.one = await cli('run', spec, ...RUN, '--engine', 'torch', '--out', path.join(dir, 'one'));
    runs.two = await cli(
      'run',
      spec,
      ...RUN,
      '--engine',
      'torch',
      '--nproc',
      '2',
      '--out',
      path.join(dir, 'two'),
    );
    runs.tfjs = await cli('run', spec, ...RUN, '--backend', 'cpu', '--out', path.join(dir, 'tfjs'));
  }, 80_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shuffles as the tfjs trainer: train.py sfc32 permutations equal Prng.permutation', () => {
    const seeds = [0, 7, 123456];
    const script =
      `import json, sys; sys.path.insert(0, ${JSON.stringify(TRAINER_DIR)}); import train; ` +
      `states = json.loads(sys.argv[1]); out = []\n` +
      `for s in states:\n p = train.Prng(s); a = p.permutation(100); out.append([a, p.permutation(7), p.state()])\n` +
      `print(json.dumps(out))`;
    const states = seeds.map((s) => [...Prng.fromSeed(s).state()]);
    const got = JSON.parse(
      execFileSync(PYTHON, ['-B', '-c', script, JSON.stringify(states)], { encoding: 'utf8' }),
    );
    const want = seeds.map((s) => {
      const p = Prng.fromSeed(s);
      const a = [...p.permutation(100)];
      return [a, [...p.permutation(7)], [...p.state()]];
    });
    expect(got).toEqual(want);
  });

  it('writes a netspec run folder: the log, metrics.json, checkpoints, curves and torch/', () => {
    expect(runs.one?.stderr).toBe('');
    expect(runs.one?.code).toBe(0);
    const one = path.join(dir, 'one');
    for (const f of ['train.log', 'metrics.json', 'loss.svg', 'accuracy.png', 'metrics.csv', 'confusion.svg'])
      expect(fs.existsSync(path.join(one, f)), f).toBe(true);
    expect(fs.readdirSync(path.join(one, 'torch')).sort()).toEqual(
      ['data.safetensors', 'init.safetensors', 'ir.json', 'model.py', 'settings.json', 'train.py'].sort(),
    );
    const m = metricsOf(one);
    expect(m.status).toBe('completed');
    expect(m.backend.name).toBe('torch-cpu');
    expect(m.stepsPerEpoch).toBe(4);
    expect(m.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.evaluations.map((e) => e.step)).toEqual([3, 6, 7]);
    const last = loadCheckpoint(path.join(one, 'checkpoints', 'last'));
    expect(last.meta.kind).toBe('last');
    expect(last.meta.progress?.globalStep).toBe(8);
    expect(last.meta.backend).toBe('torch-cpu');
    const log = fs.readFileSync(path.join(one, 'train.log'), 'utf8');
    expect(log).toContain('[Train] epoch: 1/2, step: 7/8, loss: ');
    expect(log).toContain('[Train] Training done!');
    expect(runs.one?.stdout).toContain('[Test] accuracy/loss: ');
  });

  it('starts as the tfjs trainer: the same first-step loss, and the same losses after (within 1e-5)', () => {
    expect(runs.tfjs?.code).toBe(0);
    const torch = metricsOf(path.join(dir, 'one'));
    const tfjs = metricsOf(path.join(dir, 'tfjs'));
    expect(torch.steps.length).toBe(tfjs.steps.length);
    expect(Math.abs((torch.steps[0]?.loss ?? NaN) - (tfjs.steps[0]?.loss ?? NaN))).toBeLessThan(1e-5);
    for (let i = 0; i < tfjs.steps.length; i++) {
      expect(torch.steps[i]?.lr).toBe(tfjs.steps[i]?.lr);
      expect(
        Math.abs((torch.steps[i]?.loss ?? NaN) - (tfjs.steps[i]?.loss ?? NaN)),
        `step ${i}`,
      ).toBeLessThan(1e-5);
    }
    expect(
      maxWeightDifference(
        path.join(dir, 'one', 'checkpoints', 'last'),
        path.join(dir, 'tfjs', 'checkpoints', 'last'),
      ),
    ).toBeLessThan(1e-5);
  });

  it('two processes (torch.distributed.run, gloo) end with the one process weights (within 1e-5)', () => {
    expect(runs.two?.code).toBe(0);
    const one = path.join(dir, 'one', 'checkpoints', 'last');
    const two = path.join(dir, 'two', 'checkpoints', 'last');
    expect(maxWeightDifference(one, two)).toBeLessThan(1e-5);
    expect(metricsOf(path.join(dir, 'two')).backend.name).toBe('torch-cpu x2');
    // Also BatchNorm's running statistics: they are in the state dict.
    expect([...loadCheckpoint(two).weights.keys()]).toContain('body.1.running_var');
  });

  it('its best checkpoint evaluates in netspec to the test accuracy train.py reported', async () => {
    const m = metricsOf(path.join(dir, 'one'));
    const evaluated = await cli('evaluate', spec, '--checkpoint', path.join(dir, 'one'), '--backend', 'cpu');
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toContain(
      `[Test] accuracy/loss: ${formatFixed(m.test?.accuracy ?? NaN, 4)}/${formatFixed(m.test?.loss ?? NaN, 4)}`,
    );
  });

  it('netspec export reads its checkpoint: the exported state dict is the best checkpoint weights', async () => {
    const file = path.join(dir, 'exported.safetensors');
    const one = path.join(dir, 'one');
    const run = await cli('export', spec, '--format', 'safetensors', '--checkpoint', one, '-o', file);
    expect(run.code).toBe(0);
    const exported = decodeSafetensors(fs.readFileSync(file), file).tensors;
    const best = loadCheckpoint(path.join(one, 'checkpoints', 'best')).weights;
    // Export adds BatchNorm's num_batches_tracked, which checkpoints do not keep.
    const names = [...exported.keys()].filter((n) => !n.endsWith('.num_batches_tracked'));
    expect(names.sort()).toEqual([...best.keys()].sort());
    for (const [name, t] of best) expect([...(exported.get(name)?.data ?? [])], name).toEqual([...t.data]);
  });

  it('a diverging run ends as the tfjs one does: exit 1, one error line, metrics.json diverged', async () => {
    const out = path.join(dir, 'diverged');
    const run = await cli(
      'run',
      spec,
      ...SHORT,
      '--epochs',
      '3',
      '--lr',
      '1e9',
      '--engine',
      'torch',
      '--out',
      out,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: training diverged: .* at epoch \d\/3, step \d+\/9 .*Try a smaller --lr \(now 1000000000\)\.\n$/,
    );
    const m = metricsOf(out);
    expect(m.status).toBe('diverged');
    expect(['loss', 'weights']).toContain(m.divergence?.cause);
    expect(fs.readFileSync(path.join(out, 'train.log'), 'utf8')).toContain(run.stderr.trim());
  });

  it('--prepare-only writes a folder that train.py trains on its own (no netspec running)', async () => {
    const out = path.join(dir, 'prepared');
    const prepared = await cli('run', spec, ...SHORT, '--engine', 'torch', '--prepare-only', '--out', out);
    expect(prepared.code).toBe(0);
    expect(prepared.stdout).toContain(
      `prepared ${out}: train it with ${PYTHON} ${path.join(out, 'torch', 'train.py')}`,
    );
    expect(fs.existsSync(path.join(out, 'metrics.json'))).toBe(false);
    const stdout = execFileSync(PYTHON, [path.join(out, 'torch', 'train.py')], {
      encoding: 'utf8',
      cwd: os.tmpdir(),
    });
    expect(stdout).toContain('[Train] Training done!');
    const m = metricsOf(out);
    expect(m.status).toBe('completed');
    expect(loadCheckpoint(path.join(out, 'checkpoints', 'best')).meta.kind).toBe('best');
  });

  it('train.py writes only into a netspec run folder, no link, and never over a finished run', async () => {
    const prepared = path.join(dir, 'prepared');
    const trainer = (out: string, ...more: string[]) =>
      spawnSync(PYTHON, [path.join(prepared, 'torch', 'train.py'), '--out', out, ...more], {
        encoding: 'utf8',
      });
    // The folder trained in the test above: a second run there is refused, its files unchanged.
    const metrics = fs.readFileSync(path.join(prepared, 'metrics.json'));
    const again = trainer(prepared);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe(
      `error: ${prepared} already holds a run (metrics.json or checkpoints): continue it with --resume, or prepare a new folder\n`,
    );
    expect(fs.readFileSync(path.join(prepared, 'metrics.json')).equals(metrics)).toBe(true);
    // A folder of the user's.
    const mine = path.join(dir, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'metrics.json'), 'my numbers');
    const foreign = trainer(mine);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toMatch(
      /^error: .*mine is not a netspec run folder \(no \.netspec\.json of kind run\)/,
    );
    expect(fs.readdirSync(mine)).toEqual(['metrics.json']);
    // A prepared folder whose train.log is a link to a file of the user's.
    const linked = path.join(dir, 'linked');
    expect(
      (await cli('run', spec, ...SHORT, '--engine', 'torch', '--prepare-only', '--out', linked)).code,
    ).toBe(0);
    fs.rmSync(path.join(linked, 'train.log'), { force: true });
    fs.symlinkSync(path.join(mine, 'metrics.json'), path.join(linked, 'train.log'));
    const link = trainer(linked);
    expect(link.status).toBe(1);
    expect(link.stderr).toMatch(
      /train\.log is a link or not a regular file; train\.py writes only its own regular files\n$/,
    );
    expect(fs.readFileSync(path.join(mine, 'metrics.json'), 'utf8')).toBe('my numbers');
    expect(fs.existsSync(path.join(linked, 'checkpoints'))).toBe(false);
  });

  it("--force replaces a torch run folder (its torch/ is netspec's), never one with a file of the user's", async () => {
    const out = path.join(dir, 'forced');
    const args = [spec, ...SHORT, '--engine', 'torch', '--prepare-only', '--out', out];
    expect((await cli('run', ...args)).code).toBe(0);
    expect((await cli('run', ...args, '--force')).code).toBe(0);
    fs.writeFileSync(path.join(out, 'notes.md'), 'mine');
    const refused = await cli('run', ...args, '--force');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('notes.md');
    expect(fs.readFileSync(path.join(out, 'notes.md'), 'utf8')).toBe('mine');
  });

  it('two machines (simulated: --nnodes 2, static rendezvous on 127.0.0.1) end with the one process weights', async () => {
    const prepared = path.join(dir, 'prepared');
    const nodes = path.join(dir, 'nodes');
    fs.mkdirSync(nodes);
    // Each machine has a copy of the prepared folder (its marker and torch/), not of what was trained in it.
    fs.cpSync(path.join(prepared, 'torch'), path.join(nodes, 'torch'), { recursive: true });
    fs.copyFileSync(path.join(prepared, '.netspec.json'), path.join(nodes, '.netspec.json'));
    const port = await freePort();
    const trainer = path.join(nodes, 'torch', 'train.py');
    const node = (rank: number): Promise<number | null> =>
      new Promise((resolve) => {
        const args = [trainer, '--nnodes', '2', '--node-rank', String(rank), '--master', `127.0.0.1:${port}`];
        spawn(PYTHON, args, { stdio: 'ignore' }).on('close', resolve);
      });
    expect(await Promise.all([node(0), node(1)])).toEqual([0, 0]);
    expect(metricsOf(nodes).backend.name).toBe('torch-cpu x2');
    const one = path.join(prepared, 'checkpoints', 'last');
    expect(maxWeightDifference(one, path.join(nodes, 'checkpoints', 'last'))).toBeLessThan(1e-5);
  });

  it('SIGINT finishes the step, saves checkpoints/last, records the run as interrupted and exits 130', async () => {
    const out = path.join(dir, 'interrupted');
    const long = ['--epochs', '1000', '--log-steps', '0', '--eval-steps', '0'];
    expect(
      (await cli('run', spec, ...SHORT, ...long, '--engine', 'torch', '--prepare-only', '--out', out)).code,
    ).toBe(0);
    const child = spawn(PYTHON, [path.join(out, 'torch', 'train.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      // The first epoch line: training is under way.
      if (!stdout.includes('Epoch 1/') && (stdout += d.toString()).includes('Epoch 1/')) child.kill('SIGINT');
      else stdout += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stdout).toMatch(
      /\[Train\] stopped at epoch \d+\/1000, step \d+\/3000; continue with: netspec run .* --resume --engine torch\n/,
    );
    const m = metricsOf(out);
    expect(m.status).toBe('interrupted');
    const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
    expect(last.meta.progress?.globalStep).toBe(m.steps.length);
  });

  it('--resume continues a stopped run exactly: the weights of an uninterrupted run (Adam, mid-epoch stop)', async () => {
    const adam = [...SHORT, '--epochs', '3', '--optimizer', 'adam', '--lr', '0.01', '--eval-steps', '2'];
    const stopped = path.join(dir, 'stopped');
    const whole = path.join(dir, 'whole');
    expect(
      (await cli('run', spec, ...adam, '--engine', 'torch', '--prepare-only', '--out', stopped)).code,
    ).toBe(0);
    const trainer = path.join(stopped, 'torch', 'train.py');
    const first = spawnSync(PYTHON, [trainer, '--max-steps', '5'], { encoding: 'utf8' });
    expect(first.status).toBe(130);
    expect(first.stdout).toContain(
      `[Train] stopped at epoch 1/3, step 5/9; continue with: netspec run ${spec} --out ${stopped} --resume --engine torch`,
    );
    const resumed = await cli('run', spec, '--engine', 'torch', '--resume', '--out', stopped);
    expect(resumed.stderr).toBe('');
    expect(resumed.stdout).toContain(
      `[Resume] from ${path.join(stopped, 'checkpoints', 'last')}: epoch 1/3, step 5`,
    );
    expect((await cli('run', spec, ...adam, '--engine', 'torch', '--out', whole)).code).toBe(0);
    const a = metricsOf(stopped);
    const b = metricsOf(whole);
    expect(a.resumes).toBe(1);
    expect(a.steps).toEqual(b.steps);
    expect(a.evaluations).toEqual(b.evaluations);
    expect(
      maxWeightDifference(path.join(stopped, 'checkpoints', 'last'), path.join(whole, 'checkpoints', 'last')),
    ).toBe(0);
  });

  it('refuses what it cannot do in one line, before writing anything', async () => {
    const out = path.join(dir, 'refused');
    const augmented = await cli(
      'run',
      spec,
      '--engine',
      'torch',
      '--set',
      'training.augment.hflip=true',
      '--out',
      out,
    );
    expect(augmented.code).toBe(1);
    expect(augmented.stderr).toMatch(/^error: .*--engine torch does not augment yet.*\n$/);
    expect(fs.existsSync(out)).toBe(false);
    const nproc = await cli('run', spec, '--nproc', '2', '--out', out);
    expect(nproc.stderr).toBe('error: --nproc and --device are options of --engine torch\n');
    const tfjs = path.join(dir, 'tfjs');
    const resume = await cli('run', spec, ...RUN, '--engine', 'torch', '--resume', '--out', tfjs);
    expect(resume.stderr).toBe(
      `error: ${path.join(tfjs, 'checkpoints', 'last')} was written by netspec's tfjs trainer (backend cpu); resume it with --engine tfjs\n`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});

/**
 * Where `netspec run` writes and what it starts from: `runs/<name>/version_<N>` with `latest` when no --out is
 * given (so repeating a command never fails), --resume of `latest`, --resume --epochs extending a finished run,
 * --init-from (fine-tuning) and its errors, settings from the spec's training: section, and --json.
 * In-process on the cpu backend with a tiny network, in a temporary current folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli, SMALL_RUN, TINY8_SPEC } from '../support/cli.js';

/** The tiny network without its first two lines (`netspec: 1`, its name). */
const NETWORK = TINY8_SPEC.split('\n').slice(2).join('\n');

let tmp: string;
let cwd: string;

beforeAll(() => {
  cwd = process.cwd();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-folders-'));
  process.chdir(tmp);
  fs.writeFileSync('tiny8.yaml', `netspec: 1\nname: tiny8\n${NETWORK}`);
});
afterAll(() => {
  process.chdir(cwd);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const metricsOf = (dir: string): RunMetrics =>
  JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as RunMetrics;

describe('run folders without --out', () => {
  it('gives every run the next version_<N> and points latest at it; the same command twice works', async () => {
    const first = await cli('run', 'tiny8.yaml', '--epochs', '1', ...SMALL_RUN);
    expect(first.code).toBe(0);
    const second = await cli('run', 'tiny8.yaml', '--epochs', '1', ...SMALL_RUN);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(fs.readdirSync(path.join('runs', 'tiny8')).sort()).toEqual(['latest', 'version_0', 'version_1']);
    expect(fs.readlinkSync(path.join('runs', 'tiny8', 'latest'))).toBe('version_1');
    expect(second.stdout).toContain(
      `wrote ${path.join('runs', 'tiny8', 'version_1')}: train.log, metrics.json`,
    );
    // Same seed, same settings: the two runs are the same run.
    expect(metricsOf('runs/tiny8/version_1').steps).toEqual(metricsOf('runs/tiny8/version_0').steps);
  });

  it('--resume continues latest; --epochs extends a finished run and says how the schedule goes on', async () => {
    const resumed = await cli('run', 'tiny8.yaml', '--resume', '--epochs', '2', '--backend', 'cpu');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      `[Resume] from ${path.join('runs', 'tiny8', 'version_1', 'checkpoints', 'last')}: epoch 1/2, step 4 ` +
        '(extended from 1 to 2 epochs; the learning-rate schedule is that of a 2-epoch run, continued at step 4)',
    );
    const m = metricsOf('runs/tiny8/version_1');
    expect(m.resumes).toBe(1);
    expect(m.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.config.training.epochs).toBe(2);
    expect(loadCheckpoint('runs/tiny8/version_1/checkpoints/last').meta.progress).toMatchObject({ epoch: 2 });
    // Fewer epochs than the run has done is refused, naming both.
    const shorter = await cli('run', 'tiny8.yaml', '--resume', '--epochs', '1', '--backend', 'cpu');
    expect(shorter.code).toBe(1);
    expect(shorter.stderr).toContain('has done 2 epochs; --epochs 1 would end before that');
  });

  it('refuses --force without --out, and a runs/<name> of the one-folder layout, saying what to do', async () => {
    const forced = await cli('run', 'tiny8.yaml', '--force', ...SMALL_RUN);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('--force replaces the run folder named by --out');
    fs.mkdirSync(path.join('runs', 'old'), { recursive: true });
    fs.writeFileSync(path.join('runs', 'old', 'metrics.json'), '{"format": "netspec-metrics"}');
    fs.writeFileSync('old.yaml', `netspec: 1\nname: old\n${NETWORK}`);
    const old = await cli('run', 'old.yaml', ...SMALL_RUN);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('runs/old holds a run of an earlier netspec');
    expect(fs.readdirSync(path.join('runs', 'old'))).toEqual(['metrics.json']);
  });
});

describe('--init-from', () => {
  it('starts a new run from a run folder best weights (fine-tuning)', async () => {
    const run = await cli(
      'run',
      'tiny8.yaml',
      '--init-from',
      'runs/tiny8/version_0',
      '--epochs',
      '1',
      '--lr',
      '1e-12',
      '--out',
      'tuned',
      ...SMALL_RUN,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `weights: from ${path.join('runs', 'tiny8', 'version_0', 'checkpoints', 'best')} (best model of tiny8: epoch 0`,
    );
    // With a vanishing learning rate the weights stay the ones it started from (BN statistics still move).
    const source = loadCheckpoint('runs/tiny8/version_0/checkpoints/best').weights;
    const tuned = loadCheckpoint('tuned/checkpoints/last').weights;
    for (const name of ['body.0.weight', 'head.2.weight', 'head.2.bias']) {
      const a = source.get(name)?.data ?? new Float32Array();
      const b = tuned.get(name)?.data ?? new Float32Array(1);
      expect(a.length).toBeGreaterThan(0);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });

  it('names the tensors that do not fit, and writes nothing', async () => {
    const run = await cli(
      'run',
      'tiny8.yaml',
      '--set',
      'num_classes=5',
      '--init-from',
      'runs/tiny8/version_0',
      '--out',
      'mismatch',
      ...SMALL_RUN,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("tensor 'head.2.weight' has shape [10, 4], the network needs [5, 4]");
    expect(fs.existsSync('mismatch')).toBe(false);
  });
});

describe('settings from the spec', () => {
  it('a spec with a training: section trains without flags; options still win; --json gives the result', async () => {
    fs.writeFileSync(
      'trained.yaml',
      `netspec: 1\nname: trained\n${NETWORK}training:\n  optimizer: adam\n  lr: 0.01\n  epochs: 2\n  batch_size: 16\n` +
        `  train: 64\n  dev: 32\n  test: 32\n  eval_every: epoch\n  log_format: epochs\n`,
    );
    const run = await cli(
      'run',
      'trained.yaml',
      '--backend',
      'cpu',
      '--epochs',
      '3',
      '--json',
      '--out',
      'trained',
    );
    expect(run.code).toBe(0);
    // --json: stdout is one JSON document; the run's lines went to stderr.
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toContain('settings: from trained.yaml (training:), --epochs; the rest are the defaults');
    // log_format epochs: no RunnerV3 lines, one line per epoch.
    expect(lines.filter((l) => l.startsWith('[Train]') || l.startsWith('[Evaluate]'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('Epoch '))).toHaveLength(3);
    const json = JSON.parse(run.stdout) as {
      status: string;
      test: { accuracy: number };
      out: string;
    };
    expect(json).toMatchObject({ status: 'completed', out: 'trained' });
    const m = metricsOf('trained');
    expect(json.test.accuracy).toBe(m.test?.accuracy);
    expect(m.config.training).toMatchObject({ optimizer: 'adam', lr: 0.01, epochs: 3, evalSteps: 'epoch' });
    expect(m.evaluations.map((e) => e.step)).toEqual([3, 7, 11]);

    // checkpoint.top_k through --set: the two best evaluations keep checkpoints/step-<N>, listed in metrics.json.
    const topk = await cli(
      'run',
      'trained.yaml',
      '--backend',
      'cpu',
      '--set',
      'training.checkpoint.top_k=2',
      '--out',
      'topk',
    );
    expect(topk.code).toBe(0);
    const kept = metricsOf('topk').topCheckpoints ?? [];
    expect(kept).toHaveLength(2);
    expect(fs.readdirSync('topk/checkpoints').sort()).toEqual(
      ['best', 'last', ...kept.map((k) => `step-${k.step}`)].sort(),
    );
    expect(loadCheckpoint(`topk/checkpoints/step-${kept[0]?.step}`).meta.best?.step).toBe(kept[0]?.step);
  });
});

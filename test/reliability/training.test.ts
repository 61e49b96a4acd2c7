/**
 * Training that goes wrong: a loss that becomes NaN/Inf stops the run with the epoch and step named, the last
 * good checkpoint kept and the run marked diverged; a resume with another spec or other options is refused
 * with the differences shown; after a resume, a worse dev score never replaces the best checkpoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/compiler/targets/tfjs/index.js';
import { loadCheckpoint, resumePoint, saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { DEFAULT_TRAIN_CONFIG, type RunConfig, type TrainConfig } from '../../src/runtime/train/config.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { train } from '../../src/runtime/train/trainer.js';
import { cli } from '../support/cli.js';
import { LINEAR_SPEC, tinyData, tinyIr, useCpu } from '../runtime/train/tiny-network.js';
import { SMALL_RUN, STACK_LINE, TINY_SPEC } from './support.js';

let tmp: string;
let spec: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-train-rel-'));
  spec = path.join(tmp, 'tiny8.yaml');
  fs.writeFileSync(spec, TINY_SPEC);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function metricsOf(out: string): RunMetrics {
  return JSON.parse(fs.readFileSync(path.join(out, 'metrics.json'), 'utf8')) as RunMetrics;
}

describe('a loss that becomes NaN or Inf', () => {
  it('with a huge --lr from the start: stops at the step, says no checkpoint was written, marks the run diverged', async () => {
    const out = path.join(tmp, 'huge-lr');
    const run = await cli('run', spec, '--epochs', '2', '--lr', '1e30', '--out', out, ...SMALL_RUN);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'error: training diverged: the loss is NaN at epoch 0/2, step 1/8 (step 1 of the epoch); ' +
        'no checkpoint was written before it. Try a smaller --lr (now 1e+30).\n',
    );
    expect(run.stdout).not.toMatch(/^wrote /m);
    const metrics = metricsOf(out);
    expect(metrics.status).toBe('diverged');
    expect(metrics.divergence).toMatchObject({ cause: 'loss', epoch: 0, globalStep: 1, stepInEpoch: 1 });
    expect(fs.readFileSync(path.join(out, 'train.log'), 'utf8')).toContain('error: training diverged');
    expect(fs.existsSync(path.join(out, 'checkpoints', 'last'))).toBe(false);
  });

  it('when the learning rate explodes in epoch 1: keeps the end-of-epoch-0 checkpoint, which loads', async () => {
    const out = path.join(tmp, 'explodes');
    const run = await cli(
      'run',
      spec,
      '--epochs',
      '3',
      '--lr-schedule',
      'step',
      '--lr-step',
      '1',
      '--lr-gamma',
      '1e30',
      '--out',
      out,
      ...SMALL_RUN,
    );
    expect(run.code).toBe(1);
    const last = path.join(out, 'checkpoints', 'last');
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: training diverged: the loss is (NaN|Infinity) at epoch 1/3, step (\\d)/12 \\(step \\d of the epoch\\); ` +
          `${last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(end of epoch 0, step 4\\) is the last good checkpoint\\. Try a smaller --lr \\(now 0\\.005\\)\\.\\n$`,
      ),
    );
    expect(run.stderr).not.toMatch(STACK_LINE);
    const metrics = metricsOf(out);
    expect(metrics.status).toBe('diverged');
    expect(metrics.divergence?.epoch).toBe(1);
    const kept = loadCheckpoint(last);
    expect(kept.meta.progress).toMatchObject({ epoch: 1, globalStep: 4, stepInEpoch: 0 });
    for (const t of kept.weights.values()) expect(t.data.every(Number.isFinite)).toBe(true);
    loadCheckpoint(path.join(out, 'checkpoints', 'best'));

    // That run folder cannot be resumed with other options or another network; each difference is named.
    const adam = await cli('run', spec, '--resume', '--out', out, '--optimizer', 'adam', '--backend', 'cpu');
    expect(adam.code).toBe(1);
    expect(adam.stderr).toBe(
      `error: the run in ${out} was started with other options:\n  training.optimizer: "sgd" → "adam"\n` +
        'pass the same options (or leave them out) to resume, or --force to start over\n',
    );
    const wider = path.join(tmp, 'tiny8-wider.yaml');
    fs.writeFileSync(wider, TINY_SPEC.replace('out: 4, kernel: 3', 'out: 6, kernel: 3'));
    const changed = await cli('run', wider, '--resume', '--out', out, '--backend', 'cpu');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(
      `error: ${wider} no longer describes the network this run trained (${last}):\n`,
    );
    expect(changed.stderr).toContain('  layer body.0: outputShape: [4, 8, 8] → [6, 8, 8]');
    expect(changed.stderr).toContain(
      'restore the spec (and --set values) to resume, or pass --force to start over\n',
    );
    expect(changed.stderr).not.toMatch(STACK_LINE);
    expect(loadCheckpoint(last).meta.progress?.globalStep).toBe(4);
  });
});

describe('the best checkpoint after a resume', () => {
  it('is never replaced by a worse (or equal) dev score; a better one replaces it', async () => {
    await useCpu();
    const ir = tinyIr(LINEAR_SPEC);
    const trainSet = tinyData(64, 1);
    const devSet = tinyData(16, 2);
    // 4 steps per epoch, 12 in all; dev evaluations at steps 2 | 4, 6 | 8, 10, 11 (RunnerV3's cadence).
    const config: TrainConfig = {
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 3,
      batchSize: 16,
      logSteps: 0,
      evalSteps: 2,
    };
    const runConfig: RunConfig = {
      training: config,
      data: { source: 'synthetic', train: 64, dev: 16, test: 0 },
    };
    const bestDir = path.join(tmp, 'scores', 'best');
    const lastDir = path.join(tmp, 'scores', 'last');
    const saves: number[] = [];
    const session = async (scores: number[], resume: boolean, stopAfterEpoch: boolean) => {
      const controller = new AbortController();
      const from = resume ? resumePoint(loadCheckpoint(lastDir)) : undefined;
      let i = 0;
      return train({
        model: buildModel(ir, { seed: 3 }),
        ir,
        train: trainSet,
        dev: devSet,
        config,
        signal: controller.signal,
        evaluateDev: () => ({ accuracy: scores[i++] ?? 0, loss: 1, count: 16 }),
        ...(from ? { resume: from } : {}),
        hooks: {
          saveBest: (b) => {
            saves.push(b.score);
            saveCheckpoint(bestDir, {
              kind: 'best',
              ir,
              config: runConfig,
              backend: 'cpu',
              weights: b.weights,
              best: { step: b.step, epoch: b.epoch, score: b.score, loss: b.loss },
            });
          },
          saveLast: (s) => {
            saveCheckpoint(lastDir, {
              kind: 'last',
              ir,
              config: runConfig,
              backend: 'cpu',
              weights: s.weights,
              optimizer: s.optimizer,
              progress: s.progress,
              history: s.history,
            });
            if (stopAfterEpoch) controller.abort();
          },
        },
      });
    };

    const first = await session([0.75], false, true);
    expect(first.status).toBe('interrupted');
    expect(saves).toEqual([0.75]);
    const manifest = fs.readFileSync(path.join(bestDir, 'manifest.json'));
    expect(loadCheckpoint(bestDir).meta.best).toMatchObject({ step: 2, score: 0.75 });

    // Epoch 1 after the resume: worse, then equal. Nothing may touch checkpoints/best.
    const second = await session([0.25, 0.75], true, true);
    expect(second.status).toBe('interrupted');
    expect(second.progress.bestScore).toBe(0.75);
    expect(saves).toEqual([0.75]);
    expect(fs.readFileSync(path.join(bestDir, 'manifest.json'))).toEqual(manifest);
    expect(second.history.evaluations.slice(-2).map((e) => e.improved)).toEqual([false, false]);

    // Epoch 2 after another resume: a better score is saved.
    const third = await session([0.5, 0.875, 0.625], true, false);
    expect(third.status).toBe('completed');
    expect(saves).toEqual([0.75, 0.875]);
    expect(loadCheckpoint(bestDir).meta.best).toMatchObject({ step: 10, score: 0.875 });
  });
});

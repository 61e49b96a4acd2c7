import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, getStateDict, type StateDict } from '../../../src/compiler/targets/tfjs/index.js';
import {
  DEFAULT_TRAIN_CONFIG,
  Prng,
  shouldEvaluate,
  shouldLog,
  stepsPerEpoch,
  train,
  type TrainConfig,
  type TrainSnapshot,
} from '../../../src/runtime/train/index.js';
import { LINEAR_SPEC, tinyData, tinyIr, useCpu } from './tiny-network.js';

const ir = tinyIr();
const linear = tinyIr(LINEAR_SPEC);
const trainSet = tinyData(100, 1);
const devSet = tinyData(40, 2);
const config: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  lr: 0.1,
  batchSize: 16,
  epochs: 3,
  logSteps: 5,
  evalSteps: 5,
  seed: 7,
};

beforeAll(useCpu);

function sameWeights(a: StateDict, b: StateDict): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) expect(Array.from(b.get(k)?.data ?? []), k).toEqual(Array.from(t.data));
}

describe('RunnerV3 cadence', () => {
  it('logs and evaluates at the seed experiment steps (1000 images, batch 64, 5 epochs, every 15)', () => {
    const perEpoch = stepsPerEpoch(1000, 64);
    const total = 5 * perEpoch;
    expect([perEpoch, total]).toEqual([16, 80]);
    const steps = Array.from({ length: total }, (_, i) => i);
    expect(steps.filter((s) => shouldLog(s, 15))).toEqual([0, 15, 30, 45, 60, 75]);
    expect(steps.filter((s) => shouldEvaluate(s, 15, total))).toEqual([15, 30, 45, 60, 75, 79]);
    expect(steps.filter((s) => shouldLog(s, 0) || shouldEvaluate(s, 0, total))).toEqual([]);
  });

  it('prints the seed log layout over 80 steps (epochs of the [Train] lines, evaluation order, done line)', async () => {
    const data = tinyData(1000, 3);
    const lines: string[] = [];
    const out = await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: data,
      dev: tinyData(200, 4),
      config: { ...DEFAULT_TRAIN_CONFIG, lr: 0.05 },
      hooks: { log: (l) => lines.push(l) },
    });
    expect(out.status).toBe('completed');
    expect(out.totalSteps).toBe(80);
    expect(out.history.steps).toHaveLength(80);
    const shape = lines.map((l) =>
      l
        .replace(/score: \d\.\d{5}, dev loss: \d+\.\d{5}/, 'score: S, dev loss: L')
        .replace(/loss: \d+\.\d{5}$/, 'loss: L')
        .replace(/updated: \d\.\d{5} --> \d\.\d{5}/, 'updated: A --> B'),
    );
    const evaluations = shape.filter((l) => l.startsWith('[Evaluate]  dev'));
    expect(evaluations).toHaveLength(6);
    expect(shape.filter((l) => l.startsWith('[Train] epoch'))).toEqual([
      '[Train] epoch: 0/5, step: 0/80, loss: L',
      '[Train] epoch: 0/5, step: 15/80, loss: L',
      '[Train] epoch: 1/5, step: 30/80, loss: L',
      '[Train] epoch: 2/5, step: 45/80, loss: L',
      '[Train] epoch: 3/5, step: 60/80, loss: L',
      '[Train] epoch: 4/5, step: 75/80, loss: L',
    ]);
    expect(shape[0]).toBe('[Train] epoch: 0/5, step: 0/80, loss: L');
    expect(shape[1]).toBe('[Train] epoch: 0/5, step: 15/80, loss: L');
    expect(shape[2]).toBe('[Evaluate]  dev score: S, dev loss: L');
    expect(lines.at(-1)).toBe('[Train] Training done!');
    expect(out.history.evaluations.map((e) => e.step)).toEqual([15, 30, 45, 60, 75, 79]);
    // The logged loss is the loss of that step's batch, before its update, to 5 decimals.
    const step15 = out.history.steps[15]?.loss ?? NaN;
    expect(lines[1]).toBe(`[Train] epoch: 0/5, step: 15/80, loss: ${step15.toFixed(5)}`);
    // Each epoch's batches are a permutation of the training set (the last batch short: 1000 = 15 * 64 + 40).
    expect(out.history.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('best model', () => {
  it('follows RunnerV3: strictly greater than the best so far, from 0 (the seed residual run, with fake dev scores)', async () => {
    // Dev scores and losses of NNDL 5.4.3 (with residual connections).
    const seed = [
      [0.09, 2.28872],
      [0.665, 1.57944],
      [0.9, 0.46289],
      [0.9, 0.28134],
      [0.91, 0.24832],
      [0.905, 0.24251],
    ] as const;
    let i = 0;
    const lines: string[] = [];
    const saved: { step: number; score: number }[] = [];
    await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: tinyData(1000, 3),
      dev: devSet,
      config: { ...DEFAULT_TRAIN_CONFIG, logSteps: 0 },
      evaluateDev: () => {
        const [accuracy, loss] = seed[i++] ?? [0, 0];
        return { accuracy, loss, count: 200 };
      },
      hooks: {
        // The per-epoch lines (timed) are tested apart.
        log: (l) => void (l.startsWith('Epoch ') ? undefined : lines.push(l)),
        saveBest: (b) => void saved.push({ step: b.step, score: b.score }),
      },
    });
    expect(lines).toEqual([
      '[Evaluate]  dev score: 0.09000, dev loss: 2.28872',
      '[Evaluate] best accuracy performance has been updated: 0.00000 --> 0.09000',
      '[Evaluate]  dev score: 0.66500, dev loss: 1.57944',
      '[Evaluate] best accuracy performance has been updated: 0.09000 --> 0.66500',
      '[Evaluate]  dev score: 0.90000, dev loss: 0.46289',
      '[Evaluate] best accuracy performance has been updated: 0.66500 --> 0.90000',
      '[Evaluate]  dev score: 0.90000, dev loss: 0.28134',
      '[Evaluate]  dev score: 0.91000, dev loss: 0.24832',
      '[Evaluate] best accuracy performance has been updated: 0.90000 --> 0.91000',
      '[Evaluate]  dev score: 0.90500, dev loss: 0.24251',
      '[Train] Training done!',
    ]);
    expect(saved).toEqual([
      { step: 15, score: 0.09 },
      { step: 30, score: 0.665 },
      { step: 45, score: 0.9 },
      { step: 75, score: 0.91 },
    ]);
  });

  it('never saves a model whose dev accuracy is 0', async () => {
    const saved: number[] = [];
    const out = await train({
      model: buildModel(ir, { seed: 1 }),
      ir,
      train: trainSet,
      dev: devSet,
      config: { ...config, epochs: 1 },
      evaluateDev: () => ({ accuracy: 0, loss: 3, count: 40 }),
      hooks: { saveBest: (b) => void saved.push(b.step) },
    });
    expect(saved).toEqual([]);
    expect(out.progress.bestStep).toBeNull();
    expect(out.history.evaluations.every((e) => !e.improved)).toBe(true);
  });
});

describe('determinism and memory', () => {
  async function losses(seed: number, optimizer: TrainConfig['optimizer']): Promise<number[]> {
    const out = await train({
      model: buildModel(ir, { seed }),
      ir,
      train: trainSet,
      dev: devSet,
      config: { ...config, seed, optimizer, lr: optimizer === 'adam' ? 0.01 : 0.1 },
    });
    return out.history.steps.map((s) => s.loss);
  }

  it('gives the identical loss sequence for the same seed on one backend, and another for another seed', async () => {
    const a = await losses(7, 'sgd');
    const b = await losses(7, 'sgd');
    expect(a).toHaveLength(21);
    expect(b).toEqual(a);
    expect(await losses(8, 'sgd')).not.toEqual(a);
  });

  it('learns the tiny task (gradients point the right way)', async () => {
    const out = await train({
      model: buildModel(ir, { seed: 3 }),
      ir,
      train: trainSet,
      dev: devSet,
      config: { ...config, optimizer: 'momentum', lr: 0.1, epochs: 6, evalSteps: 7 },
    });
    expect(out.history.evaluations[0]?.score).toBeLessThan(0.5);
    expect(out.progress.bestScore).toBeGreaterThanOrEqual(0.9);
  });

  it.each(['sgd', 'momentum', 'adam'] as const)('leaks no tensors across steps (%s)', async (optimizer) => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const model = buildModel(ir, { seed: 1 });
    const modelTensors = tf.memory().numTensors - before;
    await train({
      model,
      ir,
      train: trainSet,
      dev: devSet,
      config: { ...config, optimizer, lr: 0.01 },
      hooks: { step: () => counts.push(tf.memory().numTensors) },
    });
    // Optimizer slots appear at the first step; after that the count never moves (evaluations included).
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[0]).toBe(counts[1]);
    // Everything but the model's own variables is freed when training ends.
    expect(tf.memory().numTensors - before).toBe(modelTensors);
    model.dispose();
  });
});

describe('stopping', () => {
  it('stops on a non-finite loss, naming the epoch and step, saving nothing from that step on', async () => {
    const poisoned = { ...trainSet, images: trainSet.images.slice() };
    const bad = 37;
    poisoned.images.fill(NaN, bad * 64, (bad + 1) * 64);
    const position = Prng.fromSeed(config.seed).permutation(trainSet.count).indexOf(bad);
    const expectedStep = Math.floor(position / config.batchSize);
    const model = buildModel(ir, { seed: 1 });
    let lastSaves = 0;
    const bestSteps: number[] = [];
    const out = await train({
      model,
      ir,
      train: poisoned,
      dev: devSet,
      config,
      hooks: {
        saveLast: () => void (lastSaves += 1),
        saveBest: (b) => void bestSteps.push(b.step),
      },
    });
    expect(out.status).toBe('diverged');
    expect(out.divergence).toMatchObject({ epoch: 0, stepInEpoch: expectedStep, globalStep: expectedStep });
    // The progress handed back is the state before the failed step, as a resume would need it.
    const lastBest = out.history.evaluations.filter((e) => e.improved).at(-1);
    expect(out.progress).toEqual({
      globalStep: expectedStep,
      epoch: 0,
      stepInEpoch: expectedStep,
      epochPrng: Prng.fromSeed(config.seed).state(),
      bestScore: lastBest?.score ?? 0,
      bestStep: lastBest?.step ?? null,
      elapsedMs: expect.any(Number),
      earlyStop: { best: null, wait: 0 },
    });
    expect(Number.isNaN(out.divergence?.loss)).toBe(true);
    expect(out.history.steps).toHaveLength(expectedStep);
    expect(lastSaves).toBe(0);
    // Losses are read after the step is queued, so the bad step's update did happen (the in-memory model is
    // broken and is not handed out); nothing from that step on reached a checkpoint or the best model.
    expect(bestSteps.every((s) => s < expectedStep)).toBe(true);
    expect(out.history.evaluations.every((e) => e.step < expectedStep)).toBe(true);
  });

  it('stops when weights due for saving are no longer finite (BN running variance overflowing), saving nothing', async () => {
    const saves: string[] = [];
    const out = await train({
      model: buildModel(ir, { seed: 1 }),
      ir,
      train: trainSet,
      dev: devSet,
      config: { ...config, lr: 1e5 },
      hooks: { saveBest: () => void saves.push('best'), saveLast: () => void saves.push('last') },
    });
    expect(out.status).toBe('diverged');
    // The first evaluation (step 5) improves on 0, so the model is due for saving, and is found broken.
    expect(out.divergence).toMatchObject({
      cause: 'weights',
      epoch: 0,
      stepInEpoch: 5,
      globalStep: 5,
      tensor: { name: 'body.1.running_var', index: 0 },
    });
    // The broken weights never became the best: progress still says no best, at the step that found them.
    expect(out.progress).toEqual({
      globalStep: 5,
      epoch: 0,
      stepInEpoch: 5,
      epochPrng: Prng.fromSeed(config.seed).state(),
      bestScore: 0,
      bestStep: null,
      elapsedMs: expect.any(Number),
      earlyStop: { best: null, wait: 0 },
    });
    expect(Number.isFinite(out.divergence?.loss)).toBe(true);
    expect(saves).toEqual([]);
  });

  it('on abort finishes the step, hands out a mid-epoch snapshot, and resuming from it matches an uninterrupted run exactly', async () => {
    const run = { ...config, optimizer: 'momentum' as const, lr: 0.05 };
    const straight = buildModel(ir, { seed: 5 });
    const full = await train({ model: straight, ir, train: trainSet, dev: devSet, config: run });

    const controller = new AbortController();
    let snapshot: TrainSnapshot | undefined;
    const first = await train({
      model: buildModel(ir, { seed: 5 }),
      ir,
      train: trainSet,
      dev: devSet,
      config: run,
      signal: controller.signal,
      hooks: {
        // Step hooks run when losses are read back; step 10 logs, so its loss is read as soon as it has run.
        step: (s) => {
          if (s.step === 10) controller.abort();
        },
        saveLast: (s) => void (snapshot = s),
      },
    });
    expect(first.status).toBe('interrupted');
    expect(snapshot?.progress).toMatchObject({ globalStep: 11, epoch: 1, stepInEpoch: 4 });
    if (!snapshot) throw new Error('no snapshot');
    const resumed = buildModel(ir, { seed: 99 });
    const second = await train({
      model: resumed,
      ir,
      train: trainSet,
      dev: devSet,
      config: run,
      resume: snapshot,
    });
    expect(second.status).toBe('completed');
    expect(second.history.steps.map((s) => s.loss)).toEqual(full.history.steps.map((s) => s.loss));
    expect(second.history.evaluations).toEqual(full.history.evaluations);
    sameWeights(getStateDict(straight, ir), getStateDict(resumed, ir));
  });
});

/**
 * The training settings in the trainer: evaluation per epoch, early stopping (and continuing with a larger
 * patience), the best model by dev loss, the per-epoch line and its numbers, the plateau warning, augmentation.
 * Dev scores come from a scripted `evaluateDev` where the rule under test is about them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/compiler/targets/tfjs/index.js';
import {
  DEFAULT_TRAIN_CONFIG,
  epochLine,
  plateauWarning,
  shouldEvaluate,
  shouldLog,
  train,
  type EpochInfo,
  type TrainConfig,
  type TrainSnapshot,
} from '../../../src/runtime/train/index.js';
import { augmentBatch } from '../../../src/runtime/train/augment.js';
import { NO_AUGMENTATION } from '../../../src/runtime/train/config.js';
import { Prng } from '../../../src/runtime/train/prng.js';
import { LINEAR_SPEC, tinyData, tinyIr, useCpu } from './tiny-network.js';

const linear = tinyIr(LINEAR_SPEC);
const trainSet = tinyData(64, 1);
const devSet = tinyData(16, 2);
/** 4 steps per epoch (batch 16 of 64), evaluated at each epoch end. */
const base: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  batchSize: 16,
  epochs: 6,
  logSteps: 0,
  evalSteps: 'epoch',
  logFormat: 'epochs',
};

/** An evaluateDev that returns these (accuracy, loss) pairs in turn. */
function scripted(
  results: readonly (readonly [number, number])[],
): () => { accuracy: number; loss: number; count: number } {
  let i = 0;
  return () => {
    const [accuracy, loss] = results[i++] ?? [0, 0];
    return { accuracy, loss, count: 16 };
  };
}

beforeAll(useCpu);

describe('cadence "epoch"', () => {
  it('logs and evaluates after the last step of each epoch only', () => {
    const evaluated = Array.from({ length: 12 }, (_, s) => s).filter((s) =>
      shouldEvaluate(s, 'epoch', 12, 4),
    );
    expect(evaluated).toEqual([3, 7, 11]);
    expect(Array.from({ length: 12 }, (_, s) => s).filter((s) => shouldLog(s, 'epoch', 4))).toEqual([
      3, 7, 11,
    ]);
  });
});

describe('early stopping', () => {
  const losses = [
    [0.5, 1.0],
    [0.6, 0.8],
    [0.6, 0.81],
    [0.7, 0.8],
    [0.7, 0.9],
    [0.8, 0.5],
  ] as const;

  it('stops after `patience` evaluations without an improvement larger than min_delta, keeping the resume point', async () => {
    const lines: string[] = [];
    let last: TrainSnapshot | undefined;
    const config: TrainConfig = {
      ...base,
      earlyStopping: { monitor: 'dev_loss', mode: 'min', patience: 2, minDelta: 0.05 },
    };
    const out = await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config,
      evaluateDev: scripted(losses),
      hooks: { log: (l) => void lines.push(l), saveLast: (s) => void (last = s) },
    });
    // Losses 1.0, 0.8 (better by 0.2), 0.81 (no), 0.8 (not by more than 0.05): stopped after the 4th epoch.
    expect(out.status).toBe('completed');
    expect(out.history.evaluations).toHaveLength(4);
    expect(out.progress.epoch).toBe(4);
    expect(out.progress.earlyStop).toEqual({ best: 0.8, wait: 2 });
    expect(lines.filter((l) => l.startsWith('[Train] early stopping'))).toEqual([
      '[Train] early stopping: dev_loss has not improved by more than 0.05 for 2 evaluations (best 0.80000); stopped after epoch 4/6, step 16/24',
    ]);
    expect(lines.filter((l) => l.startsWith('Epoch '))).toHaveLength(4);

    // A resume with a larger patience continues from there and runs to the end.
    if (!last) throw new Error('no last snapshot');
    const resumed = await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config: { ...config, earlyStopping: { monitor: 'dev_loss', mode: 'min', patience: 5, minDelta: 0.05 } },
      evaluateDev: scripted(losses.slice(4)),
      resume: last,
    });
    expect(resumed.status).toBe('completed');
    expect(resumed.progress.epoch).toBe(6);
    expect(resumed.history.evaluations.map((e) => e.loss)).toEqual([1.0, 0.8, 0.81, 0.8, 0.9, 0.5]);

    // The same patience again: training is over, nothing more runs.
    const again = await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config,
      evaluateDev: scripted([]),
      resume: last,
    });
    expect(again.history.steps).toHaveLength(16);
  });
});

describe('the best model by dev loss', () => {
  it('saves whenever the dev loss is strictly lower (the first finite one always)', async () => {
    const saved: number[] = [];
    await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config: { ...base, epochs: 5, checkpoint: { monitor: 'dev_loss', topK: 1 }, logFormat: 'runner' },
      evaluateDev: scripted([
        [0.9, 2.0],
        [0.1, 1.5],
        [0.9, 1.5],
        [0.2, 1.2],
        [0.95, 1.3],
      ]),
      hooks: { saveBest: (b) => void saved.push(b.step) },
    });
    expect(saved).toEqual([3, 7, 15]);
  });
});

describe('top-k checkpoints', () => {
  it('keeps the k best evaluations by the monitor, telling which one fell out', async () => {
    const saves: [number, number | undefined][] = [];
    const out = await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config: { ...base, epochs: 5, checkpoint: { monitor: 'dev_accuracy', topK: 2 } },
      evaluateDev: scripted([
        [0.5, 1],
        [0.7, 1],
        [0.6, 1],
        [0.8, 1],
        [0.6, 1],
      ]),
      hooks: { saveTop: (b, evicted) => void saves.push([b.step, evicted]) },
    });
    // 0.5 and 0.7 fill the two places; 0.6 pushes 0.5 out; 0.8 pushes 0.6 out; a second 0.6 ties the worst: kept out.
    expect(saves).toEqual([
      [3, undefined],
      [7, undefined],
      [11, 3],
      [15, 11],
    ]);
    expect(out.progress.top).toEqual([
      { step: 15, value: 0.8 },
      { step: 7, value: 0.7 },
    ]);
  });
});

describe('the epoch line', () => {
  it('reads like Keras fit: 1-based epoch, training and dev numbers, rate, throughput, time', () => {
    const info: EpochInfo = {
      epoch: 2,
      epochs: 10,
      trainLoss: 0.23451,
      trainAccuracy: 0.93125,
      devLoss: 0.2101,
      devAccuracy: 0.94,
      lr: 0.001,
      imagesPerSecond: 5120.4,
      epochSeconds: 1.23,
      elapsedSeconds: 75,
      improved: true,
    };
    expect(epochLine(info)).toBe(
      'Epoch 3/10 - loss: 0.2345 - accuracy: 0.9313 - dev_loss: 0.2101 - dev_accuracy: 0.9400 - lr: 0.001 - 5,120 img/s - 1.2 s - elapsed 1:15 (new best)',
    );
    const { devLoss: _l, devAccuracy: _a, ...noDev } = info;
    expect(epochLine({ ...noDev, improved: false })).toBe(
      'Epoch 3/10 - loss: 0.2345 - accuracy: 0.9313 - lr: 0.001 - 5,120 img/s - 1.2 s - elapsed 1:15',
    );
  });

  it("counts the epoch's correct training predictions (every image of the epoch once)", async () => {
    const infos: EpochInfo[] = [];
    await train({
      model: buildModel(linear, { seed: 1 }),
      ir: linear,
      train: trainSet,
      dev: devSet,
      config: { ...base, epochs: 3, lr: 0.5 },
      hooks: { epochEnd: (e) => void infos.push(e) },
    });
    expect(infos.map((e) => e.epoch)).toEqual([0, 1, 2]);
    for (const e of infos) {
      // 64 images: the accuracy is a multiple of 1/64.
      expect(Number.isInteger(e.trainAccuracy * 64)).toBe(true);
      expect(e.devAccuracy).toBeDefined();
      expect(e.imagesPerSecond).toBeGreaterThan(0);
    }
    // The task is easy: the last epoch is right on most images.
    expect(infos.at(-1)?.trainAccuracy ?? 0).toBeGreaterThan(0.8);
  });
});

describe('the plateau warning', () => {
  it('speaks when the dev loss has not moved and accuracy is near chance, and only then', () => {
    const warning = plateauWarning([2.294, 2.2938, 2.293], 0.115, 10, { optimizer: 'sgd', lr: 0.005 });
    expect(warning).toBe(
      'warning: dev loss has barely moved in 3 evaluations (2.2940 -> 2.2930) and dev accuracy 0.1150 is near chance ' +
        '(0.1000): sgd at lr 0.005 may be too slow for this network; try training: {optimizer: adam, lr: 0.001} in the spec, or --optimizer adam --lr 0.001',
    );
    expect(plateauWarning([2.3, 2.1, 1.9], 0.115, 10, { optimizer: 'sgd', lr: 0.005 })).toBeUndefined();
    expect(plateauWarning([2.294, 2.294, 2.293], 0.5, 10, { optimizer: 'sgd', lr: 0.005 })).toBeUndefined();
  });
});

describe('augmentation', () => {
  const shape = [1, 4, 4] as const;
  const image = Float32Array.from({ length: 16 }, (_, i) => i);

  it('is the identity when off', () => {
    const x = image.slice();
    augmentBatch(x, shape, 1, NO_AUGMENTATION, Prng.fromSeed(1), -1);
    expect(Array.from(x)).toEqual(Array.from(image));
  });

  it('crops after zero padding: a whole-pixel shift of at most the padding, the rest filled', () => {
    for (let seed = 0; seed < 20; seed++) {
      const x = image.slice();
      augmentBatch(x, shape, 1, { ...NO_AUGMENTATION, cropPadding: 1 }, Prng.fromSeed(seed), -1);
      // Every kept value is an original pixel moved by the same (dx, dy) in [-1, 1].
      const kept = Array.from(x)
        .map((v, i) => [v, i] as const)
        .filter(([v]) => v !== -1);
      const shifts = new Set(
        kept.map(([v, i]) => `${(v % 4) - (i % 4)},${Math.floor(v / 4) - Math.floor(i / 4)}`),
      );
      expect(shifts.size).toBeLessThanOrEqual(1);
      const [shift] = [...shifts];
      const [dx, dy] = (shift ?? '0,0').split(',').map(Number);
      expect(Math.abs(dx ?? 0)).toBeLessThanOrEqual(1);
      expect(Math.abs(dy ?? 0)).toBeLessThanOrEqual(1);
      expect(kept.length).toBe((4 - Math.abs(dx ?? 0)) * (4 - Math.abs(dy ?? 0)));
    }
  });

  it('flips rows left to right, about half the time, and the same way for the same seed', () => {
    let flipped = 0;
    for (let seed = 0; seed < 200; seed++) {
      const x = image.slice();
      augmentBatch(x, shape, 1, { ...NO_AUGMENTATION, hflip: true }, Prng.fromSeed(seed), -1);
      const mirrored = Array.from({ length: 16 }, (_, i) => image[Math.floor(i / 4) * 4 + 3 - (i % 4)]);
      if (Array.from(x).join() === mirrored.join()) flipped++;
      else expect(Array.from(x)).toEqual(Array.from(image));
      const y = image.slice();
      augmentBatch(y, shape, 1, { ...NO_AUGMENTATION, hflip: true }, Prng.fromSeed(seed), -1);
      expect(Array.from(y)).toEqual(Array.from(x));
    }
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
  });

  it('rotates and zooms about the centre: the centre pixel stays, the others move (bilinear)', () => {
    const five = [1, 5, 5] as const;
    const img = Float32Array.from({ length: 25 }, (_, i) => i);
    let moved = 0;
    for (let seed = 0; seed < 10; seed++) {
      const x = img.slice();
      augmentBatch(x, five, 1, { ...NO_AUGMENTATION, rotate: 30, scale: 0.2 }, Prng.fromSeed(seed), -1);
      expect(x[12]).toBeCloseTo(12, 4);
      if (Array.from(x).some((v, i) => Math.abs(v - i) > 1e-3)) moved++;
      // Bilinear values stay within the image's range (or the fill).
      for (const v of x) expect(v).toBeGreaterThanOrEqual(-1);
      for (const v of x) expect(v).toBeLessThanOrEqual(24);
    }
    expect(moved).toBe(10);
  });
});

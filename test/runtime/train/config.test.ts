import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bestLine,
  createOptimizer,
  DEFAULT_TRAIN_CONFIG,
  evaluateLine,
  formatFixed,
  learningRateAt,
  Prng,
  setLearningRate,
  testLine,
  trainLine,
  validateTrainConfig,
} from '../../../src/runtime/train/index.js';
import { useCpu } from './tiny-network.js';

beforeAll(useCpu);

describe('log lines', () => {
  it('formats like Python, including exact ties (round half to even)', () => {
    // Values from python3: format(x, '.5f').
    expect(formatFixed(0.015625, 5)).toBe('0.01562');
    expect(formatFixed(0.046875, 5)).toBe('0.04688');
    expect(formatFixed(-0.015625, 5)).toBe('-0.01562');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(3.5, 0)).toBe('4');
    expect(formatFixed(-1e-7, 5)).toBe('-0.00000');
    expect(formatFixed(1.1144, 5)).toBe('1.11440');
    expect(formatFixed(NaN, 5)).toBe('nan');
    expect(formatFixed(Infinity, 5)).toBe('inf');
  });

  it('reproduces the seed lines', () => {
    expect(trainLine(0, 5, 15, 80, 1.1144)).toBe('[Train] epoch: 0/5, step: 15/80, loss: 1.11440');
    expect(evaluateLine(0.1, 2.31271)).toBe('[Evaluate]  dev score: 0.10000, dev loss: 2.31271');
    expect(bestLine(0.875, 0.905)).toBe(
      '[Evaluate] best accuracy performance has been updated: 0.87500 --> 0.90500',
    );
    expect(testLine(0.91, 0.31292)).toBe('[Test] accuracy/loss: 0.9100/0.3129');
  });
});

describe('config', () => {
  it('defaults to the seed experiment', () => {
    expect(DEFAULT_TRAIN_CONFIG).toMatchObject({
      epochs: 5,
      batchSize: 64,
      lr: 0.005,
      optimizer: 'sgd',
      logSteps: 15,
      evalSteps: 15,
    });
    expect(validateTrainConfig(DEFAULT_TRAIN_CONFIG)).toEqual([]);
  });

  it('names every bad value', () => {
    const problems = validateTrainConfig({
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 0,
      lr: -1,
      momentum: 1,
      schedule: { kind: 'cosine', minLr: 1 },
    });
    expect(problems).toEqual([
      'epochs must be a positive integer, not 0',
      'learning rate must be a finite number > 0, not -1',
      'momentum must be in [0, 1), not 1',
      'the minimum learning rate must be in [0, lr], not 1',
    ]);
  });

  it('computes the schedules', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, lr: 0.1, epochs: 4 };
    expect(learningRateAt(c, 37, 10)).toBe(0.1);
    const step = { ...c, schedule: { kind: 'step', stepEpochs: 2, gamma: 0.5 } as const };
    expect([0, 19, 20, 39].map((s) => learningRateAt(step, s, 10))).toEqual([0.1, 0.1, 0.05, 0.05]);
    const cosine = { ...c, schedule: { kind: 'cosine', minLr: 0.01 } as const };
    expect(learningRateAt(cosine, 0, 10)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(cosine, 39, 10)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(cosine, 19.5, 10)).toBeCloseTo(0.055, 12);
  });
});

describe('prng', () => {
  it('continues exactly from a saved state and permutes', () => {
    const a = Prng.fromSeed(42);
    a.permutation(10);
    const b = Prng.fromState(a.state());
    expect(b.permutation(1000)).toEqual(a.permutation(1000));
    const p = Array.from(Prng.fromSeed(1).permutation(100)).sort((x, y) => x - y);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Prng.fromSeed(1).permutation(50)).not.toEqual(Prng.fromSeed(2).permutation(50));
  });
});

describe('optimizers follow PyTorch', () => {
  /** Minimizes w^2 / 2 (gradient w) from w = 1 for `steps` steps; returns the trajectory of w. */
  function trajectory(optimizer: tf.Optimizer, steps: number): number[] {
    const w = tf.variable(tf.scalar(1));
    const out: number[] = [];
    for (let i = 0; i < steps; i++) {
      optimizer.minimize(() => tf.mul(tf.square(w), 0.5) as tf.Scalar, false, [w]);
      out.push(w.dataSync()[0] ?? NaN);
    }
    w.dispose();
    optimizer.dispose();
    return out;
  }

  it('momentum: buf = m * buf + g; w -= lr * buf (torch.optim.SGD, dampening 0)', () => {
    const w = trajectory(createOptimizer({ optimizer: 'momentum', lr: 0.1, momentum: 0.9 }), 3);
    // torch: w1 = 0.9, buf2 = 0.9 + 0.9 = 1.8, w2 = 0.72, buf3 = 1.62 + 0.72 = 2.34, w3 = 0.486.
    expect(w[0]).toBeCloseTo(0.9, 6);
    expect(w[1]).toBeCloseTo(0.72, 6);
    expect(w[2]).toBeCloseTo(0.486, 6);
  });

  it('adam: bias-corrected moments with eps 1e-8 (torch.optim.Adam)', () => {
    const w = trajectory(createOptimizer({ optimizer: 'adam', lr: 0.01, momentum: 0 }), 2);
    // torch: the first step moves by lr * g / (|g| + eps) = 0.01.
    expect(w[0]).toBeCloseTo(0.99, 6);
    // second: m = 0.09 + 0.099 = 0.189 → m̂ = 0.189/0.19; v = 0.000999 + 0.001*0.9801 → v̂ = v/0.001999.
    const m = (0.1 * 0.9 * 1 + 0.1 * 0.99) / (1 - 0.9 ** 2);
    const v = (0.999 * 0.001 * 1 + 0.001 * 0.99 ** 2) / (1 - 0.999 ** 2);
    expect(w[1]).toBeCloseTo(0.99 - (0.01 * m) / (Math.sqrt(v) + 1e-8), 6);
  });

  it('changes the learning rate of every kind', () => {
    for (const kind of ['sgd', 'momentum', 'adam'] as const) {
      const opt = createOptimizer({ optimizer: kind, lr: 1, momentum: 0.9 });
      setLearningRate(opt, 0.25);
      expect((opt as unknown as { learningRate: number }).learningRate).toBe(0.25);
      opt.dispose();
    }
  });
});

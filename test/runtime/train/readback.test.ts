/**
 * The GPU-friendly loop: no synchronous read on the training and evaluation path (a GPU backend such as webgpu in
 * Node cannot read synchronously, and a per-step read idles any GPU), losses read back in batches at the
 * trainer's read-back points, live tensors flat across steps and evaluations on every backend (webgpu on
 * SwiftShader where it runs), a non-finite loss found exactly although it is read late, and evaluation's RunnerV3
 * numbers unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { buildModel } from '../../../src/compiler/targets/tfjs/index.js';
import { loadNativeAddon } from '../../../src/runtime/backends/native-backend.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { PendingLosses } from '../../../src/runtime/train/loss-readback.js';
import { crossEntropy, forward } from '../../../src/runtime/train/step.js';
import {
  DEFAULT_TRAIN_CONFIG,
  evaluate,
  MAX_PENDING_LOSSES,
  Prng,
  train,
  type LabeledImages,
  type TrainConfig,
} from '../../../src/runtime/train/index.js';
import { hasSwiftShader } from '../../support/webgpu.js';
import { LINEAR_SPEC, tinyData, tinyIr, useCpu } from './tiny-network.js';

const nativeBuilt = typeof loadNativeAddon() !== 'string';
if (!nativeBuilt)
  console.warn('native readback tests skipped: the addon is not built (node native/build.mjs)');
// On webgpu (SwiftShader here) a synchronous read throws, so training there also proves the path reads asynchronously.
const webgpuRuns = hasSwiftShader('webgpu readback test');

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
/** A clock that never moves: only the step-driven read-back points read (not the once-a-second one). */
const frozen = (): number => 0;

afterEach(() => vi.restoreAllMocks());
afterAll(useCpu);

/** The sizes of every read-back of the trainer's loss queue during `run`. */
async function readSizes(run: () => Promise<unknown>): Promise<number[]> {
  const sizes: number[] = [];
  const read = PendingLosses.prototype.read;
  vi.spyOn(PendingLosses.prototype, 'read').mockImplementation(function (this: PendingLosses<unknown>) {
    if (this.size > 0) sizes.push(this.size);
    return read.call(this);
  });
  await run();
  return sizes;
}

describe('no synchronous read on the training and evaluation path', () => {
  it('trains (dev evaluations, best model, end-of-epoch and stop snapshots) and evaluates with dataSync, arraySync and bufferSync throwing', async () => {
    await useCpu();
    for (const name of ['dataSync', 'arraySync', 'bufferSync'] as const)
      vi.spyOn(tf.Tensor.prototype, name).mockImplementation(() => {
        throw new Error(`${name}() on the training path`);
      });
    const model = buildModel(ir, { seed: 1 });
    const controller = new AbortController();
    let saves = 0;
    const out = await train({
      model,
      ir,
      train: trainSet,
      dev: devSet,
      config,
      signal: controller.signal,
      hooks: {
        saveBest: () => void (saves += 1),
        saveLast: () => void (saves += 1),
        step: (s) => {
          if (s.step === 15) controller.abort();
        },
      },
    });
    expect(out.status).toBe('interrupted');
    expect(out.history.evaluations.length).toBeGreaterThan(0);
    expect(saves).toBeGreaterThan(1);
    const result = await evaluate(model, ir, devSet, 16);
    expect(result.count).toBe(40);
    // The guard is live: a synchronous read does throw.
    expect(() => tf.tidy(() => tf.scalar(1).dataSync())).toThrow('dataSync() on the training path');
    model.dispose();
  });
});

describe('read-back batching', () => {
  it('reads the losses once per log, evaluation and epoch end, not once per step', async () => {
    await useCpu();
    // 100 images in batches of 4: 25 steps an epoch, 75 in all; logs at 0, 10, ..., 70; evaluations at 30, 60, 74.
    const run = { ...config, batchSize: 4, logSteps: 10, evalSteps: 30 };
    const model = buildModel(linear, { seed: 1 });
    const dataCalls = vi.spyOn(tf.Tensor.prototype, 'data');
    let out: Awaited<ReturnType<typeof train>> | undefined;
    const sizes = await readSizes(async () => {
      out = await train({ model, ir: linear, train: trainSet, dev: devSet, config: run, now: frozen });
    });
    expect(out?.status).toBe('completed');
    expect(out?.history.steps).toHaveLength(75);
    // Read points (global steps): 0 | 10 20 24 | 30 40 49 | 50 60 70 74; each read takes every loss since the last.
    expect(sizes).toEqual([1, 10, 10, 4, 6, 10, 9, 1, 10, 10, 4]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(75);
    // Every data() call of the run: 11 loss reads, 2 per dev evaluation (3), and per end-of-epoch snapshot (3)
    // the 2 weights, the optimizer's iteration count, and per best model (at least 1) the 2 weights.
    const calls = dataCalls.mock.calls.length;
    expect(calls).toBeGreaterThanOrEqual(11 + 2 * 3 + 3 * 3 + 2);
    expect(calls).toBeLessThanOrEqual(11 + 2 * 3 + 3 * 3 + 2 * 3);
    model.dispose();
  });

  it(`holds at most ${MAX_PENDING_LOSSES} losses when nothing else needs them (no logs, no evaluations)`, async () => {
    await useCpu();
    const run = { ...config, batchSize: 1, epochs: 1, logSteps: 0, evalSteps: 0 };
    const model = buildModel(linear, { seed: 1 });
    const sizes = await readSizes(() =>
      train({ model, ir: linear, train: trainSet, dev: devSet, config: run, now: frozen }),
    );
    expect(sizes).toEqual([MAX_PENDING_LOSSES, 100 - MAX_PENDING_LOSSES]);
    model.dispose();
  });

  it('also reads once a second of the trainer clock has passed since the last read, for progress displays', async () => {
    await useCpu();
    const run = { ...config, batchSize: 4, epochs: 1, logSteps: 0, evalSteps: 0 };
    // A clock that moves a second each time it is read: every step is at least a second after the last read.
    let t = 0;
    const slow = (): number => (t += 1000);
    const model = buildModel(linear, { seed: 1 });
    const sizes = await readSizes(() =>
      train({ model, ir: linear, train: trainSet, dev: devSet, config: run, now: slow }),
    );
    expect(sizes).toEqual(Array.from({ length: 25 }, () => 1));
    model.dispose();
  });
});

describe('a non-finite loss read late', () => {
  it('is found at its own step, with later steps queued behind it, and nothing from it on is recorded or saved', async () => {
    await useCpu();
    const poisoned = { ...trainSet, images: trainSet.images.slice() };
    // Reads only at epoch ends: the bad step sits in the middle of a queue of 25.
    const run = { ...config, batchSize: 4, logSteps: 0, evalSteps: 0 };
    const order = Prng.fromSeed(run.seed).permutation(trainSet.count);
    const bad = order[4 * 11] ?? 0;
    poisoned.images.fill(NaN, bad * 64, (bad + 1) * 64);
    const steps: number[] = [];
    let saves = 0;
    const model = buildModel(linear, { seed: 1 });
    const sizes = await readSizes(async () => {
      const out = await train({
        model,
        ir: linear,
        train: poisoned,
        dev: devSet,
        config: run,
        now: frozen,
        hooks: {
          step: (s) => void steps.push(s.step),
          saveLast: () => void (saves += 1),
          saveBest: () => void (saves += 1),
        },
      });
      expect(out.status).toBe('diverged');
      expect(out.divergence).toMatchObject({ cause: 'loss', epoch: 0, stepInEpoch: 11, globalStep: 11 });
      expect(Number.isNaN(out.divergence?.loss)).toBe(true);
      expect(out.progress).toMatchObject({ globalStep: 11, epoch: 0, stepInEpoch: 11, bestStep: null });
      expect(out.history.steps.map((s) => s.step)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    });
    expect(sizes).toEqual([25]);
    expect(steps).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(saves).toBe(0);
    model.dispose();
  });
});

describe('evaluate', () => {
  /** RunnerV3's numbers read batch by batch, as the trainer did before it read once. */
  function perBatch(model: tf.LayersModel, split: LabeledImages, batchSize: number): [number, number] {
    let correct = 0;
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < split.count; start += batchSize) {
      const n = Math.min(batchSize, split.count - start);
      const [loss, hits] = tf.tidy(() => {
        const x = tf.tensor(split.images.subarray(start * 64, (start + n) * 64), [n, 1, 8, 8]);
        const labels = tf.tensor1d(split.labels.subarray(start, start + n), 'int32');
        const logits = forward(model, x, false);
        const y = tf.oneHot(labels, 4);
        const right = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32'));
        return [crossEntropy(y, logits).dataSync()[0] ?? NaN, right.dataSync()[0] ?? 0];
      });
      lossSum += loss;
      correct += hits;
      batches += 1;
    }
    return [correct / split.count, lossSum / batches];
  }

  it('gives the per-batch numbers exactly (the short last batch counts as a full one)', async () => {
    await useCpu();
    const model = buildModel(ir, { seed: 3 });
    const split = tinyData(45, 9);
    const result = await evaluate(model, ir, split, 16);
    expect([result.accuracy, result.loss]).toEqual(perBatch(model, split, 16));
    model.dispose();
  });
});

describe.each([
  ['cpu', true],
  ['wasm', true],
  ['native', nativeBuilt],
  ['webgpu', webgpuRuns],
] as const)('live tensors on %s', (backend, available) => {
  it.skipIf(!available)(
    'stay flat across steps and evaluations, and go back to the model alone',
    async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      const model = buildModel(ir, { seed: 1 });
      const modelTensors = tf.memory().numTensors - before;
      const atSteps: number[] = [];
      const atEvaluations: number[] = [];
      await train({
        model,
        ir,
        train: trainSet,
        dev: devSet,
        config: { ...config, optimizer: 'momentum', lr: 0.05 },
        now: frozen,
        hooks: {
          step: () => void atSteps.push(tf.memory().numTensors),
          evaluated: () => void atEvaluations.push(tf.memory().numTensors),
        },
      });
      expect(atSteps).toHaveLength(21);
      // Momentum slots appear at the first step; after that the count never moves.
      expect(new Set(atSteps.slice(1)).size).toBe(1);
      expect(new Set(atEvaluations).size).toBe(1);
      expect(atEvaluations[0]).toBe(atSteps[1]);
      expect(tf.memory().numTensors - before).toBe(modelTensors);
      const again = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await evaluate(model, ir, devSet, 16);
      expect(tf.memory().numTensors).toBe(again);
      model.dispose();
    },
  );
});

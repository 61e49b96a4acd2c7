/**
 * Times a network built by the tfjs target on the active tfjs backend: a forward pass in inference mode and one
 * full training step, both on a fixed random batch.
 *
 * The step is the trainer's own (src/runtime/train/step.ts) with the trainer's optimizer (plain SGD here):
 * forward in training mode, softmax cross-entropy, gradients of every trainable weight, update. Every timed run
 * ends by reading back a tensor that depends on all the work (the loss, then an updated weight), so backends
 * that queue work asynchronously are timed to completion.
 */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel } from '../../compiler/targets/tfjs/index.js';
import { createOptimizer } from '../train/optimizer.js';
import { Prng } from '../train/prng.js';
import { forward, trainStep } from '../train/step.js';
import { peakRssMiB, currentRssMiB, timeRepeated, type TimingStats } from './stats.js';

/** Options of {@link benchTfjs}. */
export interface TfjsBenchOptions {
  readonly batchSize: number;
  /** Untimed runs before timing (first runs compile kernels and grow heaps). */
  readonly warmup: number;
  readonly repeats: number;
  /** SGD learning rate (the seed's 0.005); it does not change the time, only keeps the weights sane. */
  readonly lr: number;
  /** Seeds the weights and the random batch. */
  readonly seed: number;
}

/** What {@link benchTfjs} measured on one backend. */
export interface TfjsBenchResult {
  /** The active tfjs backend. */
  readonly backend: string;
  /** model.apply(x, {training: false}) and the logits read back. */
  readonly forwardMs: TimingStats;
  /** One SGD step: forward (training), cross-entropy, backward, update, BN statistics, loss read back. */
  readonly stepMs: TimingStats;
  /** Process resident set before the model was built, MiB. */
  readonly rssBeforeMiB: number;
  /** Process RSS high-water mark after the timed runs, MiB (cumulative over everything this process did). */
  readonly peakRssMiB: number;
  /** Tensors still alive after the model was disposed minus those alive before (0 when nothing leaked). */
  readonly leakedTensors: number;
}

/** A random NCHW batch (standard normal images, uniform labels) from a seeded generator, for every backend alike. */
export function randomBatch(
  ir: IrNetwork,
  batchSize: number,
  seed: number,
): { images: Float32Array; labels: Int32Array } {
  const prng = Prng.fromSeed(seed);
  const sample = ir.inputShape.reduce((a, b) => a * b, 1);
  const images = new Float32Array(batchSize * sample);
  for (let i = 0; i < images.length; i += 2) {
    // Box-Muller: two normals from two uniforms in (0, 1].
    const u = 1 - prng.nextUint32() / 2 ** 32;
    const v = prng.nextUint32() / 2 ** 32;
    const r = Math.sqrt(-2 * Math.log(u));
    images[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < images.length) images[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  const classes = ir.outputShape[0] ?? 1;
  const labels = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) labels[i] = prng.nextInt(classes);
  return { images, labels };
}

/** A model, a batch and an optimizer on the active backend, with the two timed operations. */
export interface BenchSession {
  /** Inference-mode forward pass, logits read back. */
  forward(): Promise<void>;
  /** One training step, loss and an updated weight read back. */
  step(): Promise<void>;
  /** Frees the model, the batch and the optimizer. */
  dispose(): void;
}

/** Builds the network and a seeded random batch on the active backend (the caller selects it first). */
export function createBenchSession(
  ir: IrNetwork,
  options: Pick<TfjsBenchOptions, 'batchSize' | 'lr' | 'seed'>,
): BenchSession {
  const { images, labels } = randomBatch(ir, options.batchSize, options.seed);
  const classes = ir.outputShape[0] ?? 1;
  const model = buildModel(ir, { seed: options.seed });
  const x = tf.tensor(images, [options.batchSize, ...ir.inputShape], 'float32');
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes));
  // The trainer's optimizer (fused update where the backend has one), so the step is what `netspec run` runs.
  const optimizer = createOptimizer({ optimizer: 'sgd', lr: options.lr, momentum: 0 });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // Reading the smallest updated weight back waits for the whole update on queueing backends, cheaply.
  const probe = variables.reduce<tf.Variable | undefined>(
    (a, v) => (a === undefined || v.size < a.size ? v : a),
    undefined,
  );
  return {
    async forward() {
      const out = tf.tidy(() => forward(model, x, false));
      try {
        await out.data();
      } finally {
        out.dispose();
      }
    },
    async step() {
      const { loss } = trainStep(model, variables, optimizer, x, y, { weightDecay: 0 });
      try {
        await loss.data();
      } finally {
        loss.dispose();
      }
      if (probe !== undefined) await probe.data();
    },
    dispose() {
      optimizer.dispose();
      x.dispose();
      y.dispose();
      model.dispose();
    },
  };
}

/**
 * Builds the network on the active backend, times forward and training step, and disposes everything it made.
 * The caller selects the backend first (selectBackend).
 */
export async function benchTfjs(ir: IrNetwork, options: TfjsBenchOptions): Promise<TfjsBenchResult> {
  const tensorsBefore = tf.memory().numTensors;
  const rssBeforeMiB = currentRssMiB();
  const session = createBenchSession(ir, options);
  let timings: { forwardMs: TimingStats; stepMs: TimingStats };
  try {
    const forwardMs = await timeRepeated(() => session.forward(), options.warmup, options.repeats);
    const stepMs = await timeRepeated(() => session.step(), options.warmup, options.repeats);
    timings = { forwardMs, stepMs };
  } finally {
    session.dispose();
  }
  return {
    backend: tf.getBackend(),
    ...timings,
    rssBeforeMiB,
    peakRssMiB: peakRssMiB(),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}

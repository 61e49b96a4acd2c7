// Synthetic metrics.json contents for the report tests: RunnerV3's cadence (80 steps, evaluations every 15 and
// at the last step), losses and accuracies from a fixed formula plus seeded noise, so numbers are reproducible.
import { DEFAULT_TRAIN_CONFIG } from '../../src/runtime/train/config.js';
import type { EvaluationRecord, StepRecord } from '../../src/runtime/train/history.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';

/** A tiny deterministic generator in [0, 1) (not the trainer's; only for test data). */
function noise(seed: number): () => number {
  let state = (seed * 2654435761 + 12345) >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Options of {@link syntheticMetrics}. */
export interface SyntheticOptions {
  readonly seed?: number;
  readonly network?: string;
  /** Final dev accuracy level the curve approaches. */
  readonly plateau?: number;
  /** Explicit dev accuracies at the evaluation steps (overrides the formula). */
  readonly devAccuracies?: readonly number[];
  readonly testAccuracy?: number | null;
  readonly trainSeconds?: number;
}

/** The evaluation steps of RunnerV3 with 80 steps and eval_steps 15. */
export const EVAL_STEPS = [15, 30, 45, 60, 75, 79] as const;

/** A complete RunMetrics for an 80-step run. */
export function syntheticMetrics(options: SyntheticOptions = {}): RunMetrics {
  const seed = options.seed ?? 0;
  const rand = noise(seed);
  const plateau = options.plateau ?? 0.9;
  const steps: StepRecord[] = Array.from({ length: 80 }, (_, step) => ({
    step,
    epoch: Math.floor(step / 16),
    loss: 2.3 * Math.exp(-step / 25) + 0.15 + 0.2 * (rand() - 0.5),
    lr: 0.005,
  }));
  let best = 0;
  const evaluations: EvaluationRecord[] = EVAL_STEPS.map((step, i) => {
    const score =
      options.devAccuracies?.[i] ??
      Math.round(200 * (plateau * (1 - Math.exp(-step / 15)) + 0.03 * (rand() - 0.5))) / 200;
    const improved = score > best;
    if (improved) best = score;
    return { step, epoch: Math.floor(step / 16), score, loss: 2.3 * Math.exp(-step / 30) + 0.2, improved };
  });
  const bestEval = [...evaluations].reverse().find((e) => e.improved) ?? null;
  const testAccuracy =
    options.testAccuracy === undefined ? (bestEval?.score ?? 0) - 0.01 : options.testAccuracy;
  return {
    format: 'netspec-metrics',
    version: 1,
    network: options.network ?? 'resnet18',
    spec: `specs/${options.network ?? 'resnet18'}.yaml`,
    irHash: 'sha256:0000',
    status: 'completed',
    backend: { name: 'cpu', reasons: [] },
    config: {
      training: { ...DEFAULT_TRAIN_CONFIG, seed },
      data: { source: 'mnist-sample', train: 1000, dev: 200, test: 200 },
    },
    data: {
      source: 'mnist-sample',
      description: 'synthetic',
      classes: 10,
      inputShape: [1, 32, 32],
      train: 1000,
      dev: 200,
      test: 200,
    },
    stepsPerEpoch: 16,
    totalSteps: 80,
    steps,
    logged: steps.filter((s) => s.step % 15 === 0),
    evaluations,
    epochs: [0, 1, 2, 3, 4].map((epoch) => ({ epoch, loss: 1 })),
    best: bestEval
      ? { step: bestEval.step, epoch: bestEval.epoch, score: bestEval.score, loss: bestEval.loss }
      : null,
    test: testAccuracy === null ? null : { accuracy: testAccuracy, loss: 0.3, count: 200, model: 'best' },
    divergence: null,
    resumes: 0,
    trainSeconds: options.trainSeconds ?? 60 + seed,
    wallSeconds: 70 + seed,
  };
}

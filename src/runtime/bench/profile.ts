/**
 * Per-kernel time of one training step (or forward pass) on the active backend, from tf.profile: each kernel the
 * engine dispatches is timed by the backend's own timer (wall clock around the call for cpu and wasm), and the
 * times are summed by kernel name. Kernels that call other kernels directly (not through the engine) count as
 * one, so the table shows what the engine asked for. Custom-gradient wrappers (`name__op`) are left out: their
 * time is that of the kernels they run, which are listed.
 */
import * as tf from '@tensorflow/tfjs';
import type { IrNetwork } from '../../compiler/ir.js';
import { aggregateKernels, type StepProfile } from './profile-format.js';
import { createBenchSession, type TfjsBenchOptions } from './tfjs-bench.js';

/** Profiles `what` after `warmup` untimed runs; the profiled run is slower than an unprofiled one. */
export async function profileTfjs(
  ir: IrNetwork,
  options: Pick<TfjsBenchOptions, 'batchSize' | 'lr' | 'seed' | 'warmup'>,
  what: 'forward' | 'step',
): Promise<StepProfile> {
  const session = createBenchSession(ir, options);
  const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
  try {
    const run = what === 'forward' ? () => session.forward() : () => session.step();
    for (let i = 0; i < options.warmup; i++) await run();
    // The NaN check downloads every kernel's output, which would be timed with it.
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const start = performance.now();
    const info = await tf.profile(async () => {
      await run();
      return [];
    });
    const wallMs = performance.now() - start;
    return { backend: tf.getBackend(), what, wallMs, kernels: aggregateKernels(info.kernels) };
  } finally {
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
    session.dispose();
  }
}

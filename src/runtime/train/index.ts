/** The trainer: RunnerV3's loop over tfjs models built from the IR, with resumable state. No I/O. */
export * from './config.js';
export * from './history.js';
export * from './log-lines.js';
export * from './optimizer.js';
export { Prng, type PrngState } from './prng.js';
export * from './trainer.js';
export * from './trainability.js';
export * from './metrics.js';

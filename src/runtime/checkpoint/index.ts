/** Checkpoints and run folders: atomic, verified folders of weights, optimizer state and training progress. */
export * from './compare.js';
export * from './folder.js';
export * from './run-folder.js';
export * from './training-checkpoint.js';

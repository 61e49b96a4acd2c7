/** A training or inference session: what `netspec run`, `compare`, `evaluate` and `predict` call. Loads tfjs. */
export { runSession } from './run.js';
export type { RunRequest, RunResult, SessionOutput, StopControls } from './run.js';
export { evaluateCheckpoint } from './evaluate.js';
export type { EvaluateRequest } from './evaluate.js';
export {
  imagesToInput,
  loadPredictCheckpoint,
  predict,
  predictInput,
  readPredictInput,
  resolveCheckpointFolder,
  topClasses,
} from './predict.js';
export type { ClassScore, NamedInput, Prediction, PredictCheckpoint, PredictInput } from './predict.js';
export { loadRunData } from './data.js';
export type { RunData } from './data.js';

/** The tfjs target: IR → in-memory tf.LayersModel with PyTorch semantics, and PyTorch-layout weights. */
export { buildModel, createInitializer, type BuildModelOptions } from './build.js';
export { irPathOfLayerName, tfjsLayerName } from './names.js';
export {
  INPUT_LAYER_NAME,
  planModel,
  type InitSpec,
  type LayerPlan,
  type PlanOp,
  type PlanStep,
} from './plan.js';
export { getStateDict, readStateDict, setStateDict, type StateDict, type StateTensor } from './state-dict.js';
export {
  TorchBatchNorm,
  TorchConv2d,
  TorchElu,
  TorchMaxPool2d,
  deriveSeed,
  torchUniform,
} from './torch-layers.js';

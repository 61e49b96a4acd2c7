/** Exported TensorFlow.js models: the IR and its weights as files tfjs loads without netspec. */
export {
  GRAPH_INPUT,
  GRAPH_OUTPUT,
  tfjsGraphModel,
  type GraphModelJson,
  type GraphModelOptions,
} from './graph.js';
export { SHARD_BYTES, type ManifestEntry, type ManifestGroup } from './weights.js';
export { LAYERS_MODULE, layersModule, tfjsLayersModel, type LayersModelOptions } from './layers.js';

/**
 * Exporting a network with its weights as a TensorFlow.js model folder: the initial weights of a seed, or a
 * checkpoint's, written by the tfjs target's format writers (`compiler/targets/tfjs/export/`). Returns the files;
 * the caller writes them.
 */
import { selectBackend } from '../backends/index.js';
import type { IrNetwork } from '../../compiler/ir.js';
import { buildModel, getStateDict, setStateDict, type StateDict } from '../../compiler/targets/tfjs/index.js';
import { tfjsGraphModel, tfjsLayersModel } from '../../compiler/targets/tfjs/export/index.js';
import type { ExportFormat } from './formats.js';

export { EXPORT_FORMATS, type ExportFormat } from './formats.js';

/** What to export. */
export interface ExportOptions {
  readonly format: ExportFormat;
  /** A verified state dict that fits the network (a checkpoint's), or none for the initial weights of `seed`. */
  readonly weights?: StateDict;
  /** Seeds the initial weights when `weights` is absent. */
  readonly seed: number;
  /** Where the weights came from, recorded in `model.json` (`userDefinedMetadata.netspec.weights`). */
  readonly source: string;
}

/** An exported model: its files (name → contents) and how many bytes of weights they hold. */
export interface ExportedModel {
  readonly files: ReadonlyMap<string, string | Uint8Array>;
  readonly weightBytes: number;
}

/**
 * The files of `ir` exported as `options.format`, on tfjs's cpu backend (the initial weights come from netspec's
 * own tfjs model, as `netspec run` builds it). A state dict that does not fit is a program error here: the
 * caller verified the checkpoint against the network (checkCheckpointFits).
 */
export async function exportModel(ir: IrNetwork, options: ExportOptions): Promise<ExportedModel> {
  const metadata = { weights: options.source };
  // A GraphModel needs only the state dict: a checkpoint's is exported without building a model.
  if (options.format === 'tfjs-graph' && options.weights)
    return exported(tfjsGraphModel(ir, options.weights, { metadata }));
  await selectBackend('cpu');
  const model = buildModel(ir, { seed: options.seed });
  try {
    if (options.weights) {
      const problems = setStateDict(model, ir, options.weights);
      if (problems.length)
        throw new Error(`export: the weights do not fit: ${problems.map((d) => d.message).join('; ')}`);
    }
    return exported(
      options.format === 'tfjs-graph'
        ? tfjsGraphModel(ir, getStateDict(model, ir), { metadata })
        : await tfjsLayersModel(model, ir, { metadata }),
    );
  } finally {
    model.dispose();
  }
}

function exported(files: ReadonlyMap<string, string | Uint8Array>): ExportedModel {
  let weightBytes = 0;
  for (const [name, data] of files) if (name.endsWith('.bin')) weightBytes += data.length;
  return { files, weightBytes };
}

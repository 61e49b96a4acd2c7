/**
 * The one-file formats of `netspec export`: an ONNX model (the ONNX target, `compiler/targets/onnx/`) or the
 * weights as a PyTorch state dict in safetensors (what `netspec export-weights` writes). tfjs loads only for the
 * initial weights of a seed; a checkpoint's weights are exported without it. Returns the bytes; the caller writes.
 */
import type { IrNetwork } from '../../compiler/ir.js';
import type { StateDict } from '../../compiler/targets/tfjs/state-dict.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { PRODUCER_KEY } from '../weights/safetensors-file.js';
import type { FileFormat } from './formats.js';

/** What to export as one file. */
export interface FileExportOptions {
  readonly format: FileFormat;
  /** A verified state dict that fits the network (a checkpoint's), or none for the initial weights of `seed`. */
  readonly weights?: StateDict;
  /** The optimizer steps behind `weights` (safetensors: each BN layer's `num_batches_tracked`). */
  readonly steps?: number;
  /** Seeds the initial weights when `weights` is absent. */
  readonly seed: number;
  /** Where the weights came from, in words (ONNX: recorded in doc_string and metadata_props `weights`). */
  readonly source: string;
  /** ONNX: the opset (13 to 17; 17 by default). */
  readonly opset?: number;
  /** ONNX: the spec file, and netspec's version (recorded in the model). */
  readonly spec: string;
  readonly netspecVersion: string;
}

/** An exported file: its bytes, how many of them are weights (float32 tensors), and its tensors (safetensors). */
export interface ExportedFile {
  readonly bytes: Uint8Array;
  readonly weightBytes: number;
  /** The tensors of a safetensors file (BatchNorm's num_batches_tracked included); absent for ONNX. */
  readonly tensors?: number;
}

/** The initial weights of `seed`: netspec's own tfjs model on the cpu backend, as `netspec run --seed` builds it. */
export async function initialStateDict(ir: IrNetwork, seed: number): Promise<StateDict> {
  const [{ selectBackend }, { buildModel, getStateDict }] = await Promise.all([
    import('../backends/index.js'),
    import('../../compiler/targets/tfjs/index.js'),
  ]);
  await selectBackend('cpu');
  const model = buildModel(ir, { seed });
  try {
    return getStateDict(model, ir);
  } finally {
    model.dispose();
  }
}

/**
 * The file of `ir` exported as `options.format`. A state dict that does not fit is a program error here: the
 * caller verified the checkpoint against the network (checkCheckpointFits).
 */
export async function exportFile(ir: IrNetwork, options: FileExportOptions): Promise<ExportedFile> {
  const weights = options.weights ?? (await initialStateDict(ir, options.seed));
  let weightBytes = 0;
  for (const t of weights.values()) weightBytes += t.data.byteLength;
  if (options.format === 'safetensors') {
    const { exportStateDict } = await import('../weights/state-dict-io.js');
    const tensors = exportStateDict(weights, ir, options.steps ?? 0);
    const meta = { format: 'pt', network: ir.name, [PRODUCER_KEY]: 'export-weights' };
    return { bytes: encodeSafetensors(tensors, meta), weightBytes, tensors: tensors.size };
  }
  const { onnxModel } = await import('../../compiler/targets/onnx/index.js');
  const bytes = await onnxModel(ir, weights, {
    ...(options.opset === undefined ? {} : { opset: options.opset }),
    netspecVersion: options.netspecVersion,
    spec: options.spec,
    weights: options.source,
  });
  return { bytes, weightBytes };
}

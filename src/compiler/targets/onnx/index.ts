/** The ONNX target: a network and its weights as one ONNX model file's bytes (see model.ts). */
import type { IrNetwork } from '../../ir.js';
import type { FloatTensor } from './builder.js';
import { encodeOnnxModel } from './encode.js';
import { onnxModelProto, type OnnxModelOptions } from './model.js';

export { decodeOnnxModel, encodeOnnxModel, loadOnnxProto } from './encode.js';
export { onnxModelProto, type OnnxModelOptions } from './model.js';
export {
  irVersionOf,
  ONNX_INPUT,
  ONNX_MAX_BYTES,
  ONNX_OPSETS,
  ONNX_OUTPUT,
  ONNX_PRODUCER,
  opsetProblem,
  VERSION_KEY,
} from './format.js';

/**
 * The ONNX model of `ir` with `weights` (a state dict that fits `ir`, PyTorch layout and names) as the bytes of a
 * `.onnx` file. Deterministic. Throws (a program error) when a tensor is missing or of another shape.
 */
export async function onnxModel(
  ir: IrNetwork,
  weights: ReadonlyMap<string, FloatTensor>,
  options: OnnxModelOptions,
): Promise<Uint8Array> {
  return encodeOnnxModel(onnxModelProto(ir, weights, options));
}

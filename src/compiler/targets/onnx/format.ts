/**
 * What netspec's ONNX files are, in a module without imports, so that the CLI checks `--opset` and recognises its
 * own files before it loads the exporter: the opsets, the IR versions, the producer and the tensor names.
 */

/** The graph's input (the IR reserves `input`, so no layer is named so). */
export const ONNX_INPUT = 'input';
/** The graph's output, an Identity of the network's output (layer paths always hold a dot, so never this). */
export const ONNX_OUTPUT = 'logits';
/** What every netspec ONNX model says it was produced by (`producer_name`), and how netspec recognises its files. */
export const ONNX_PRODUCER = 'netspec';
/** The metadata_props key holding netspec's version. */
export const VERSION_KEY = 'netspec';
/** The most bytes one ONNX file holds: protobuf's 2 GiB limit (netspec writes no external data). */
export const ONNX_MAX_BYTES = 2 ** 31 - 1;

/** The lowest opset (Softmax on one axis, Split/Slice/Pad inputs), the highest (LayerNormalization) and the default. */
export const ONNX_OPSETS = { min: 13, max: 17, default: 17 } as const;

/** The ONNX IR version of a model of `opset` (onnx's versioning table: 13 and 14 are IR 7, 15 to 17 IR 8). */
export function irVersionOf(opset: number): number {
  return opset >= 15 ? 8 : 7;
}

/** Why `opset` is not one netspec writes, in words, or undefined when it is. */
export function opsetProblem(opset: number): string | undefined {
  if (Number.isInteger(opset) && opset >= ONNX_OPSETS.min && opset <= ONNX_OPSETS.max) return undefined;
  return (
    `opset ${opset} is not one netspec writes: give an ONNX opset from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max} ` +
    `(default ${ONNX_OPSETS.default}; below 17 LayerNormalization is written as its parts)`
  );
}

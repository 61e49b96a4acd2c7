/** The formats of `netspec export`, in a module of their own so the CLI can list them without loading tfjs. */

/**
 * The folder formats: a TensorFlow.js GraphModel (inference) or LayersModel (inference and fine-tuning), each a
 * `model.json` with weight shards.
 */
export const EXPORT_FORMATS = ['tfjs-graph', 'tfjs-layers'] as const;
/** One of EXPORT_FORMATS. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The one-file formats: an ONNX model (onnxruntime, Netron), or the weights alone as the PyTorch state dict
 * (safetensors) the generated PyTorch module loads, as `netspec export-weights` writes them.
 */
export const FILE_FORMATS = ['onnx', 'safetensors'] as const;
/** One of FILE_FORMATS. */
export type FileFormat = (typeof FILE_FORMATS)[number];

/** What `--format` accepts: the folder formats, then the one-file formats. */
export const ALL_FORMATS = [...EXPORT_FORMATS, ...FILE_FORMATS] as const;
/** One of ALL_FORMATS. */
export type AnyFormat = (typeof ALL_FORMATS)[number];

/** True when `format` writes one file (at `-o`) rather than a folder. */
export function isFileFormat(format: AnyFormat): format is FileFormat {
  return (FILE_FORMATS as readonly string[]).includes(format);
}

/** The formats of `netspec export`, in a module of their own so the CLI can list them without loading tfjs. */

/** What `--format` accepts: a TensorFlow.js GraphModel (inference) or LayersModel (inference and fine-tuning). */
export const EXPORT_FORMATS = ['tfjs-graph', 'tfjs-layers'] as const;
/** One of EXPORT_FORMATS. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

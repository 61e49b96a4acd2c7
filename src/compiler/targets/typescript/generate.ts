/** IR → a TypeScript module (plus netspec's tfjs runtime, copied verbatim) that builds the same tfjs model. */
import type { IrNetwork } from '../../ir.js';
import { loadTemplate, readPackageSource } from '../../../templates.js';
import { tsString } from './code.js';
import { modelView, usesActivationRuntime } from './view-model.js';

/** Name of the generated model module. */
export const MODEL_FILE = 'model.ts';
/** Name of the copied runtime; the model module imports it as './torch-layers.js'. */
export const RUNTIME_FILE = 'torch-layers.ts';
/** Name of the copied activation runtime, written only for models that use it ('./torch-activations.js'). */
export const ACTIVATION_RUNTIME_FILE = 'torch-activations.ts';

const TEMPLATES = 'compiler/targets/typescript/templates';
const HEADER = { header: `${TEMPLATES}/header.hbs` };

/**
 * The generated files, by name: `model.ts` (exports `buildModel(opts?: {seed?: number})`, `NETWORK_NAME`,
 * `INPUT_NAME`, `INPUT_SHAPE`, `OUTPUT_SHAPE`), `torch-layers.ts`, and `torch-activations.ts` for models with an
 * activation only netspec's runtime has (hardswish). Depends on '@tensorflow/tfjs' only. Identical IR gives
 * byte-identical files.
 */
export function generateTypeScript(ir: IrNetwork): Map<string, string> {
  const model = loadTemplate(`${TEMPLATES}/model.ts.hbs`, { partials: HEADER });
  const runtime = loadTemplate(`${TEMPLATES}/runtime.ts.hbs`, { partials: HEADER });
  const copy = (file: string): [string, string] => [
    file,
    runtime({
      source: tsString(ir.name),
      file,
      body: readPackageSource(`compiler/targets/tfjs/${file}`).trimEnd(),
    }),
  ];
  return new Map([
    [MODEL_FILE, model(modelView(ir))],
    copy(RUNTIME_FILE),
    ...(usesActivationRuntime(ir) ? [copy(ACTIVATION_RUNTIME_FILE)] : []),
  ]);
}

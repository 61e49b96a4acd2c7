/** IR → a TypeScript module (plus netspec's tfjs runtime, copied verbatim) that builds the same tfjs model. */
import type { IrNetwork } from '../../ir.js';
import { loadTemplate, readPackageSource } from '../../../templates.js';
import { planModel } from '../tfjs/plan.js';
import type { RuntimeModule } from '../tfjs/runtime-modules.js';
import { tsString } from './code.js';
import { modelView, runtimeModules } from './view-model.js';

/** Name of the generated model module. */
export const MODEL_FILE = 'model.ts';
/** The copied runtime modules' file names; the model module imports each as `./<module>.js`. */
export const RUNTIME_FILES: { readonly [M in RuntimeModule]: `${M}.ts` } = {
  'torch-layers': 'torch-layers.ts',
  'zoo-layers': 'zoo-layers.ts',
  'torch-activations': 'torch-activations.ts',
};
/** Name of the copied runtime every model imports ('./torch-layers.js'). */
export const RUNTIME_FILE = RUNTIME_FILES['torch-layers'];

const TEMPLATES = 'compiler/targets/typescript/templates';
const HEADER = { header: `${TEMPLATES}/header.hbs` };

/**
 * The generated files, by name: `model.ts` (exports `buildModel(opts?: {seed?: number})`, `NETWORK_NAME`,
 * `INPUT_NAME`, `INPUT_SHAPE`, `OUTPUT_SHAPE`), `torch-layers.ts`, `zoo-layers.ts` for models with one of its
 * layers or its initializer, and `torch-activations.ts` for models with an activation only netspec's runtime has
 * (hardswish). Depends on '@tensorflow/tfjs' only. Identical IR gives byte-identical files.
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
    ...runtimeModules(planModel(ir)).map((m) => copy(RUNTIME_FILES[m])),
  ]);
}

/** IR → a TypeScript module (plus netspec's tfjs runtime, copied verbatim) that builds the same tfjs model. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { IrNetwork } from '../../ir.js';
import { tsString } from './code.js';
import { modelView, usesActivationRuntime } from './view-model.js';

/** Name of the generated model module. */
export const MODEL_FILE = 'model.ts';
/** Name of the copied runtime; the model module imports it as './torch-layers.js'. */
export const RUNTIME_FILE = 'torch-layers.ts';
/** Name of the copied activation runtime, written only for models that use it ('./torch-activations.js'). */
export const ACTIVATION_RUNTIME_FILE = 'torch-activations.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * Reads a file of this package's source tree relative to this folder. Templates and the runtime are not
 * compiled into dist/, so from dist/compiler/targets/typescript they are read from the shipped src/ copy.
 */
function readSource(relative: string): string {
  const candidates = [
    join(HERE, relative),
    join(HERE, '../../../../src/compiler/targets/typescript', relative),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined)
    throw new Error(`typescript target: cannot find ${relative} (looked in ${candidates.join(', ')})`);
  return readFileSync(found, 'utf8');
}

interface Templates {
  readonly model: HandlebarsTemplateDelegate;
  readonly runtime: HandlebarsTemplateDelegate;
  readonly runtimeSource: string;
  readonly activationRuntimeSource: string;
}

let templates: Templates | undefined;

function loadTemplates(): Templates {
  if (templates) return templates;
  const hbs = Handlebars.create();
  // Output is code, not HTML: nothing is escaped by the template; the view model spells every literal safely.
  const options = { noEscape: true, strict: true };
  hbs.registerPartial('header', hbs.compile(readSource('templates/header.hbs'), options));
  templates = {
    model: hbs.compile(readSource('templates/model.ts.hbs'), options),
    runtime: hbs.compile(readSource('templates/runtime.ts.hbs'), options),
    runtimeSource: readSource('../tfjs/torch-layers.ts'),
    activationRuntimeSource: readSource('../tfjs/torch-activations.ts'),
  };
  return templates;
}

/**
 * The generated files, by name: `model.ts` (exports `buildModel(opts?: {seed?: number})`, `NETWORK_NAME`,
 * `INPUT_NAME`, `INPUT_SHAPE`, `OUTPUT_SHAPE`), `torch-layers.ts`, and `torch-activations.ts` for models with an
 * activation only netspec's runtime has (hardswish). Depends on '@tensorflow/tfjs' only. Identical IR gives
 * byte-identical files.
 */
export function generateTypeScript(ir: IrNetwork): Map<string, string> {
  const t = loadTemplates();
  const view = modelView(ir);
  const copy = (file: string, source: string): [string, string] => [
    file,
    t.runtime({ source: tsString(ir.name), file, body: source.trimEnd() }),
  ];
  return new Map([
    [MODEL_FILE, t.model(view)],
    copy(RUNTIME_FILE, t.runtimeSource),
    ...(usesActivationRuntime(ir) ? [copy(ACTIVATION_RUNTIME_FILE, t.activationRuntimeSource)] : []),
  ]);
}

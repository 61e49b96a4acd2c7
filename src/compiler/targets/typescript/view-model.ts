/**
 * The view model of the generated model module: the tfjs target's layer plan spelled as TypeScript statements.
 * All decisions (names, literals, line breaks) happen here, so the templates stay free of logic.
 */
import type { IrNetwork } from '../../ir.js';
import {
  MERGE_OPS,
  planModel,
  type InitSpec,
  type LayerPlan,
  type PlanOp,
  type PlanStep,
} from '../tfjs/plan.js';
import { runtimeModulesOf, type RuntimeModule } from '../tfjs/runtime-modules.js';
import { commentText, IdentifierPool, tsNumber, tsString } from './code.js';

/** What templates/model.ts.hbs renders. */
export interface ModelView {
  readonly source: string;
  /** The module's import statements. */
  readonly imports: readonly string[];
  readonly networkName: string;
  readonly inputName: string;
  readonly inputShape: string;
  readonly outputShape: string;
  /** The body of `buildModel`, one entry per statement (possibly multi-line), already indented. */
  readonly body: readonly string[];
  readonly modelName: string;
  readonly inputVar: string;
  readonly outputVar: string;
}

/** How each op is constructed; custom layers come from the copied runtime modules (`nt`, `nz`, `na`). */
const FACTORIES: Readonly<Record<PlanOp, string>> = {
  input: 'tf.input',
  permute: 'tf.layers.permute',
  zeroPadding2d: 'tf.layers.zeroPadding2d',
  conv2d: 'tf.layers.conv2d',
  depthwiseConv2d: 'tf.layers.depthwiseConv2d',
  torchConv2d: 'new nt.TorchConv2d',
  torchBatchNorm: 'new nt.TorchBatchNorm',
  activation: 'tf.layers.activation',
  torchActivation: 'new na.TorchActivation',
  leakyReLU: 'tf.layers.leakyReLU',
  torchElu: 'new nt.TorchElu',
  maxPooling2d: 'tf.layers.maxPooling2d',
  torchMaxPool2d: 'new nt.TorchMaxPool2d',
  torchCeilMaxPool2d: 'new nz.TorchCeilMaxPool2d',
  torchAvgPool2d: 'new nz.TorchAvgPool2d',
  torchAdaptiveAvgPool2d: 'new nz.TorchAdaptiveAvgPool2d',
  torchSlice: 'new nz.TorchSlice',
  torchChannelShuffle: 'new nz.TorchChannelShuffle',
  torchStochasticDepth: 'new nz.TorchStochasticDepth',
  averagePooling2d: 'tf.layers.averagePooling2d',
  flatten: 'tf.layers.flatten',
  dense: 'tf.layers.dense',
  dropout: 'tf.layers.dropout',
  add: 'tf.layers.add',
  reshape: 'tf.layers.reshape',
  torchSelect: 'new nz.TorchSelect',
  torchLayerNorm: 'new nz.TorchLayerNorm',
  torchParameter: 'new nz.TorchParameter',
  torchAttention: 'new nz.TorchAttention',
  multiply: 'tf.layers.multiply',
  concatenate: 'tf.layers.concatenate',
};

/** The namespace each runtime module is imported as (`import * as nt from './torch-layers.js'`). */
const RUNTIME_NAMESPACES: { readonly [M in RuntimeModule]: string } = {
  'torch-layers': 'nt',
  'zoo-layers': 'nz',
  'torch-activations': 'na',
};

/**
 * The runtime modules the generated module of `plan` imports, in import order: torch-layers always, the others
 * only when one of their layers or initializers is used (so the generated folder holds copies of just these).
 */
export function runtimeModules(plan: LayerPlan): readonly RuntimeModule[] {
  const used = runtimeModulesOf(plan);
  return (['torch-layers', 'zoo-layers', 'torch-activations'] as const).filter(
    (m) => m === 'torch-layers' || used.has(m),
  );
}

/** Names the generated module itself declares or imports; layer variables must not shadow them. */
const TAKEN = [
  'tf',
  'nt',
  'nz',
  'na',
  'opts',
  'seed',
  'buildModel',
  'BuildModelOptions',
  'NETWORK_NAME',
  'INPUT_NAME',
  'INPUT_SHAPE',
  'OUTPUT_SHAPE',
];

const INDENT = '  ';
const MAX_LINE = 110;

/** The view model of `ir`'s generated module. */
export function modelView(ir: IrNetwork): ModelView {
  const plan = planModel(ir);
  const ids = new IdentifierPool(TAKEN);
  const vars = new Map<string, string>();
  const kinds = new Map(ir.nodes.map((n) => [n.path, n.kind]));
  let usesSeed = false;

  const initCode = (spec: InitSpec): string => {
    switch (spec.init) {
      case 'uniform':
        usesSeed = true;
        return `nt.torchUniform(${tsNumber(spec.bound)}, seed, ${tsString(spec.key)})`;
      case 'normal':
        usesSeed = true;
        return `nz.torchNormal(${tsNumber(spec.std)}, seed, ${tsString(spec.key)})`;
      case 'constant':
        return `tf.initializers.constant({ value: ${tsNumber(spec.value)} })`;
      case 'ones':
        return 'tf.initializers.ones()';
      case 'zeros':
        return 'tf.initializers.zeros()';
    }
  };

  const statements: string[] = [];
  for (const step of plan.steps) {
    const id = ids.claim(step.name);
    vars.set(step.name, id);
    const lines: string[] = [];
    if (step.path !== null)
      lines.push(`${INDENT}// ${commentText(step.path)} (${kinds.get(step.path) ?? step.op})`);
    lines.push(statement(step, id, vars, initCode));
    statements.push(lines.join('\n'));
  }

  const inputVar = vars.get(plan.inputName);
  const outputVar = vars.get(plan.output);
  if (inputVar === undefined || outputVar === undefined)
    throw new Error('typescript target: plan without input/output');
  // A network without weights never reads the seed; `void` keeps noUnusedLocals/Parameters quiet about it.
  const prologue = usesSeed ? `${INDENT}const seed = opts.seed;` : `${INDENT}void opts;`;
  const imports = [
    "import * as tf from '@tensorflow/tfjs';",
    ...runtimeModules(plan).map((m) => `import * as ${RUNTIME_NAMESPACES[m]} from './${m}.js';`),
  ];
  return {
    source: tsString(ir.name),
    imports,
    networkName: tsString(ir.name),
    inputName: tsString(plan.inputName),
    inputShape: value([...ir.inputShape], initCode),
    outputShape: value([...ir.outputShape], initCode),
    body: [prologue, ...statements],
    modelName: tsString(plan.modelName),
    inputVar,
    outputVar,
  };
}

function statement(
  step: PlanStep,
  id: string,
  vars: ReadonlyMap<string, string>,
  initCode: (spec: InitSpec) => string,
): string {
  const entries: [string, unknown][] = [['name', step.name], ...Object.entries(step.config)];
  const args = step.inputs.map((n) => {
    const v = vars.get(n);
    if (v === undefined)
      throw new Error(`typescript target: '${step.name}' reads '${n}' before it is defined`);
    return v;
  });
  const head = `${INDENT}const ${id} = ${FACTORIES[step.op]}(`;
  const tail =
    step.op === 'input'
      ? ');'
      : `).apply(${MERGE_OPS.has(step.op) ? `[${args.join(', ')}]` : args.join(', ')}) as tf.SymbolicTensor;`;
  const oneLine = `{ ${entries.map(([k, v]) => `${k}: ${value(v, initCode)}`).join(', ')} }`;
  if (head.length + oneLine.length + tail.length <= MAX_LINE) return head + oneLine + tail;
  const props = entries.map(([k, v]) => `${INDENT}${INDENT}${k}: ${value(v, initCode)},`);
  return [`${head}{`, ...props, `${INDENT}}${tail}`].join('\n');
}

function isInitSpec(v: unknown): v is InitSpec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'init' in v;
}

/** A literal for a config value: strings, numbers, booleans, arrays of them, or an initializer expression. */
function value(v: unknown, initCode: (spec: InitSpec) => string): string {
  if (typeof v === 'string') return tsString(v);
  if (typeof v === 'number') return tsNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => value(x, initCode)).join(', ')}]`;
  if (isInitSpec(v)) return initCode(v);
  throw new Error(`typescript target: cannot spell config value ${JSON.stringify(v)}`);
}

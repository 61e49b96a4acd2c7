/**
 * Which of netspec's tfjs runtime modules a plan needs. Generated TypeScript copies, and an exported LayersModel's
 * layers.js holds the JavaScript twin of, only the modules its model uses, so that adding a module's layers never
 * changes the files of models without them.
 */
import type { InitSpec, LayerPlan, PlanOp } from './plan.js';

/** netspec's runtime modules, by file name without `.ts` (under src/compiler/targets/tfjs/). */
export type RuntimeModule = 'torch-layers' | 'zoo-layers' | 'torch-activations';

/** The module defining each plan op's layer class; null for tfjs's own layers. */
export const LAYER_MODULES: { readonly [Op in PlanOp]: RuntimeModule | null } = {
  input: null,
  permute: null,
  zeroPadding2d: null,
  conv2d: null,
  depthwiseConv2d: null,
  torchConv2d: 'torch-layers',
  torchBatchNorm: 'torch-layers',
  activation: null,
  torchActivation: 'torch-activations',
  leakyReLU: null,
  torchElu: 'torch-layers',
  maxPooling2d: null,
  torchMaxPool2d: 'torch-layers',
  torchCeilMaxPool2d: 'zoo-layers',
  torchAvgPool2d: 'zoo-layers',
  torchAdaptiveAvgPool2d: 'zoo-layers',
  torchSlice: 'zoo-layers',
  torchChannelShuffle: 'zoo-layers',
  torchStochasticDepth: 'zoo-layers',
  averagePooling2d: null,
  flatten: null,
  dense: null,
  dropout: null,
  add: null,
  multiply: null,
  concatenate: null,
  reshape: null,
  torchSelect: 'zoo-layers',
  torchLayerNorm: 'zoo-layers',
  torchParameter: 'zoo-layers',
  torchAttention: 'zoo-layers',
};

/** The module defining each initializer's function (torchUniform, torchNormal); null for tfjs's own. */
export const INITIALIZER_MODULES: { readonly [I in InitSpec['init']]: RuntimeModule | null } = {
  uniform: 'torch-layers',
  normal: 'zoo-layers',
  constant: null,
  ones: null,
  zeros: null,
};

function isInitSpec(v: unknown): v is InitSpec {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'init' in v;
}

/** The modules whose layer classes the plan's steps instantiate (what a saved model's topology names). */
export function layerModulesOf(plan: LayerPlan): ReadonlySet<RuntimeModule> {
  const out = new Set<RuntimeModule>();
  for (const step of plan.steps) {
    const module = LAYER_MODULES[step.op];
    if (module !== null) out.add(module);
  }
  return out;
}

/** The modules whose layer classes or initializers the plan uses (what code building the model calls). */
export function runtimeModulesOf(plan: LayerPlan): ReadonlySet<RuntimeModule> {
  const out = new Set(layerModulesOf(plan));
  for (const step of plan.steps)
    for (const v of Object.values(step.config)) {
      const module = isInitSpec(v) ? INITIALIZER_MODULES[v.init] : null;
      if (module !== null) out.add(module);
    }
  return out;
}

/**
 * The compiler's entry point: spec file → resolved AST → IR, with every diagnostic found on the way.
 * Reads files only through the given host.
 */
import { hasErrors, limitDiagnostics, type Diagnostic, type Span } from '../diagnostics.js';
import type { IrNetwork } from './ir.js';
import { lower } from './lower.js';
import { parseOverrides, resolveSpec, type SpecHost } from './resolve.js';
import { checkTraining, parseTrainingOverrides, type TrainingOrigins } from './training.js';
import type { PartialSettings } from '../training-settings.js';

export type { SpecHost, SpecReadFailure } from './resolve.js';
export type { TrainingOrigins } from './training.js';
export { DEFAULT_MAX_PARAMS } from './lower.js';
export { activationProblem, DEFAULT_BATCH_SIZE, MAX_ACTIVATION_ELEMENTS } from './activation-limit.js';

/** Options of a compilation: `--set` assignments, the parameter limit and the batch activations are sized at. */
export interface CompileOptions {
  readonly set?: readonly string[];
  readonly maxParams?: number;
  /**
   * The batch size every activation must fit at (2^30 float32 elements); DEFAULT_BATCH_SIZE (64, the default
   * training batch) when absent, which is what `check`, `summary`, `stat` and `compile` assume.
   */
  readonly batchSize?: number;
}

/** What a compilation returns; `ir` is present only when there is no error. */
export interface CompileResult {
  readonly ir: IrNetwork | undefined;
  readonly diagnostics: readonly Diagnostic[];
  /** Every source text read, by file name, so diagnostics can be shown with their lines. */
  readonly sources: ReadonlyMap<string, string>;
  /**
   * The training settings the spec (and what it extends) and `--set training.<key>=` give, checked, by field;
   * `{}` without any. Settings the spec leaves out are not here: their defaults are DEFAULT_TRAINING's.
   */
  readonly training: PartialSettings;
  /** Where each of `training` came from: `specs/lenet5.yaml:12` (the line of its key) or `--set`. */
  readonly trainingOrigins: TrainingOrigins;
  /**
   * The span of the call that made each layer and block instance, by path (`stage2.0.conv1`; a block instance's is
   * its call): editors map a call back to its paths. Beside the IR, which holds no positions; empty when the spec
   * did not resolve.
   */
  readonly callSites: ReadonlyMap<string, Span>;
}

/** Compiles the spec at `file` (and whatever it extends) to IR. */
export function compileSpec(file: string, host: SpecHost, options: CompileOptions = {}): CompileResult {
  const resolved = resolveSpec(file, host);
  const sources = new Map(resolved.sources);
  if (!resolved.ast)
    return {
      ir: undefined,
      diagnostics: resolved.diagnostics,
      sources,
      training: {},
      trainingOrigins: {},
      callSites: new Map(),
    };
  const set = options.set ?? [];
  const { overrides, diagnostics: setDiagnostics } = parseOverrides(set, resolved.ast.params);
  if (set.length) sources.set('--set', set.join('\n'));
  // Training settings never reach lower(): they are not part of the network, so its IR is the same with or without.
  const spec = checkTraining(resolved.ast.training);
  const command = parseTrainingOverrides(set);
  const training = { ...spec.settings, ...command.settings };
  const trainingOrigins = { ...spec.origins, ...command.origins };
  const diagnostics = [
    ...resolved.diagnostics,
    ...spec.diagnostics,
    ...setDiagnostics,
    ...command.diagnostics,
  ];
  const lowered = lower(resolved.ast, {
    overrides,
    sources,
    ...(options.maxParams !== undefined ? { maxParams: options.maxParams } : {}),
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
  });
  const all = [...diagnostics, ...lowered.diagnostics];
  return {
    ir: hasErrors(all) ? undefined : lowered.ir,
    diagnostics: limitDiagnostics(all),
    sources,
    training,
    trainingOrigins,
    callSites: lowered.callSites,
  };
}

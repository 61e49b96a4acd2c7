/**
 * Whether a network can be trained at all, decided from the IR alone (no tfjs, no data), so that commands can
 * refuse before they load anything, create a run folder or train another spec first. The trainer asks the same
 * question before its first step.
 */
import { countParams, type IrNetwork } from '../../compiler/ir.js';

/** One reason a network cannot be trained, or undefined when this check passes. */
type TrainabilityCheck = (ir: IrNetwork) => string | undefined;

/** Training changes trainable parameters; without any, every step would fail (tfjs: no variable to differentiate). */
const hasTrainableParameters: TrainabilityCheck = (ir) => {
  if (countParams(ir).trainable > 0) return undefined;
  const kinds = [...new Set(ir.nodes.map((n) => (n.kind === 'activation' ? n.fn : n.kind)))];
  return (
    `'${ir.name}' has no trainable parameters (its layers: ${kinds.join(', ') || 'none'}); ` +
    'training needs at least one layer with weights (conv, linear, or batchnorm with affine)'
  );
};

/** The loss is cross-entropy over class logits: the output must be flat, with at least two classes. */
const outputsClassLogits: TrainabilityCheck = (ir) => {
  if (ir.outputShape.length === 1 && (ir.outputShape[0] ?? 0) >= 2) return undefined;
  return `'${ir.name}' outputs [${ir.outputShape.join(', ')}]; training needs class logits [N] with N >= 2`;
};

/** Every check, in the order their reasons are given; a new condition is one more function here. */
const CHECKS: readonly TrainabilityCheck[] = [hasTrainableParameters, outputsClassLogits];

/** Why `ir` cannot be trained, one sentence each, ready to print; empty when it can. */
export function untrainableReasons(ir: IrNetwork): string[] {
  return CHECKS.flatMap((check) => check(ir) ?? []);
}

/**
 * How large one activation may be: its element count at a batch size, against what a tensor can hold. Pure; the
 * lowering refuses a layer whose output exceeds it (at the batch the command assumes), and `predict` asks the same
 * question of a compiled network at the batch it was given.
 */
import { clip } from '../diagnostics.js';
import { numel, type IrNetwork, type Shape } from './ir.js';

/**
 * The batch the compiler assumes when it checks activation sizes, unless told: the default training batch. `check`,
 * `summary`, `stat` and `compile` assume it; `run` passes its `--batch-size`.
 */
export const DEFAULT_BATCH_SIZE = 64;

/**
 * Most float32 elements one activation may have at its batch size: 2^30, 4 GiB. That is Node 20's Buffer limit
 * (`buffer.constants.MAX_LENGTH` is 2^32 bytes) and all of a 32-bit WebAssembly memory; a larger tensor fails deep
 * in a backend (`RangeError: Invalid typed array length`) or takes all memory, so it is refused before any exists.
 */
export const MAX_ACTIVATION_ELEMENTS = 2 ** 30;

/**
 * Why an activation of `shape` (one sample) is too large at `batch`, as a message naming `what` (a layer path, or
 * `input`); undefined when it fits. `parameters` (the layer's own, when known) is added for scale.
 */
export function activationSizeProblem(
  what: string,
  shape: Shape,
  batch: number,
  parameters?: number,
): string | undefined {
  const elements = numel(shape) * batch;
  if (elements <= MAX_ACTIVATION_ELEMENTS) return undefined;
  const layer = parameters === undefined ? '' : `; the layer has ${describeSize(parameters, 'parameters')}`;
  return (
    `${clip(what)}: ${what === 'input' ? '' : 'output '}[${shape.join(', ')}] has more than 2^30 elements at batch ` +
    `${batch.toLocaleString('en-US')} (${describeSize(elements, 'elements')}${layer})`
  );
}

/**
 * The first activation of `ir` (its input, then each layer's output in order) that is too large at `batch`, as a
 * message; undefined when all fit. For commands that run a compiled network at a batch of their own (`predict`).
 */
export function activationProblem(ir: IrNetwork, batch: number): string | undefined {
  const input = activationSizeProblem('input', ir.inputShape, batch);
  if (input !== undefined) return input;
  for (const node of ir.nodes) {
    const problem = activationSizeProblem(
      node.path,
      node.outputShape,
      batch,
      node.params.reduce((n, p) => n + numel(p.shape), 0),
    );
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Bytes in binary units (KiB, MiB, GiB), for messages. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/** `1,234 parameters, 4.8 KiB as float32`: a count and what it would take in memory, for messages. */
export function describeSize(count: number, what: string): string {
  return `${count.toLocaleString('en-US')} ${what}, ${formatBytes(count * 4)} as float32`;
}

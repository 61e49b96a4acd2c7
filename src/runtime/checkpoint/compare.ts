/**
 * What changed between a checkpoint and the current run, in words: `--resume`, `evaluate` and `export-weights`
 * refuse a changed network or training config and say exactly what differs.
 */
import type { IrNetwork, IrNode } from '../../compiler/ir.js';
import type { RunConfig } from '../train/config.js';
import { CheckpointError } from '../errors.js';
import { hashIr, weightProblems, type LoadedCheckpoint } from './training-checkpoint.js';

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  if (Array.isArray(v)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
  return JSON.stringify(v);
}

/**
 * Flattens plain JSON data into `path → value` leaves (`training.schedule.kind`). Arrays of plain values (shapes)
 * stay whole; arrays of objects are entered, by each element's `name` when it has one (`params.weight.shape`).
 */
function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  const join = (k: string): string => (prefix ? `${prefix}.${k}` : k);
  if (Array.isArray(value) && value.some((x) => typeof x === 'object' && x !== null)) {
    value.forEach((x, i) => {
      const name =
        typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string'
          ? (x as { name: string }).name
          : String(i);
      leaves(x, join(name), out);
    });
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, join(k), out);
  } else out.set(prefix, value);
  return out;
}

/** Differences of two JSON-like values, one `path: old → new` line each, in the order of `before` then `after`. */
export function describeDifferences(before: unknown, after: unknown, limit = 10): string[] {
  const a = leaves(JSON.parse(JSON.stringify(before ?? null)), '', new Map());
  const b = leaves(JSON.parse(JSON.stringify(after ?? null)), '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  const lines: string[] = [];
  for (const k of keys) {
    const x = a.get(k);
    const y = b.get(k);
    if (JSON.stringify(x) !== JSON.stringify(y)) lines.push(`${k || '(value)'}: ${show(x)} → ${show(y)}`);
  }
  if (lines.length > limit) return [...lines.slice(0, limit), `... and ${lines.length - limit} more`];
  return lines;
}

/** What differs between two run configs (empty when equal). */
export function describeConfigChange(saved: RunConfig, current: RunConfig): string[] {
  return describeDifferences(saved, current);
}

function nodeSummary(n: IrNode): string {
  return `${n.path} (${n.kind}, output [${n.outputShape.join(', ')}])`;
}

/**
 * What differs between the IR a checkpoint was trained with and the current one, most telling first: the
 * network name, its parameters (what `--set` changes), the input, then the first layers that were added,
 * removed or changed. Empty when the two are identical.
 */
export function describeIrChange(saved: IrNetwork, current: IrNetwork): string[] {
  if (JSON.stringify(saved) === JSON.stringify(current)) return [];
  const lines: string[] = [];
  if (saved.name !== current.name) lines.push(`network name: ${show(saved.name)} → ${show(current.name)}`);
  lines.push(...describeDifferences(saved.params, current.params).map((l) => `parameter ${l}`));
  if (JSON.stringify(saved.inputShape) !== JSON.stringify(current.inputShape))
    lines.push(`input: [${saved.inputShape.join(', ')}] → [${current.inputShape.join(', ')}]`);
  const before = new Map(saved.nodes.map((n) => [n.path, n]));
  const after = new Map(current.nodes.map((n) => [n.path, n]));
  const layerLines: string[] = [];
  for (const n of saved.nodes) if (!after.has(n.path)) layerLines.push(`layer removed: ${nodeSummary(n)}`);
  for (const n of current.nodes) if (!before.has(n.path)) layerLines.push(`layer added: ${nodeSummary(n)}`);
  for (const n of current.nodes) {
    const old = before.get(n.path);
    if (!old) continue;
    const diffs = describeDifferences(old, n, 3);
    if (diffs.length) layerLines.push(`layer ${n.path}: ${diffs.join('; ')}`);
  }
  const limit = 8;
  lines.push(...layerLines.slice(0, limit));
  if (layerLines.length > limit) lines.push(`... and ${layerLines.length - limit} more layer differences`);
  if (lines.length === 0) lines.push('the IR differs (module or block structure)');
  return lines;
}

/**
 * Refuses a checkpoint that does not hold the network `ir` compiled from `spec`, before anything uses its weights
 * (`evaluate`, `export-weights`): a {@link CheckpointError} listing what changed ({@link describeIrChange}) when
 * the IR hashes differ, or naming each tensor whose name or shape the network does not have.
 */
export function checkCheckpointFits(
  checkpoint: Pick<LoadedCheckpoint, 'dir' | 'meta' | 'ir' | 'weights'>,
  ir: IrNetwork,
  spec: string,
): void {
  if (checkpoint.meta.irHash !== hashIr(ir)) {
    const changes = describeIrChange(checkpoint.ir, ir);
    throw new CheckpointError(
      `${spec} does not describe the network in ${checkpoint.dir}:\n${changes.map((c) => `  ${c}`).join('\n')}`,
    );
  }
  const problems = weightProblems(checkpoint.weights, ir);
  if (problems.length)
    throw new CheckpointError(
      `${checkpoint.dir}: the weights do not fit the network of ${spec}: ${problems.join('; ')}`,
    );
}

/**
 * Which IR edges are shortcuts: an input of a merge (add, concat, mul) that skips over the layers of another
 * input. Found from the graph alone, so every spec's residual connections are found the same way.
 */
import type { IrNetwork, IrNode } from '../../compiler/ir.js';

/** The network input's name among node inputs. */
export const INPUT = 'input';

/**
 * One shortcut into a merge. `identity`: the merge reads `fork` itself, which also feeds another of its inputs (or
 * reads it through `identity` layers only). `projection` (add only): `layers` (from the fork's side to the merge's)
 * form a chain from `fork` to the merge that is shorter than every other input's longest path from `fork`, as a
 * ResNet's 1×1 convolution and batchnorm. Edges into `parameter` layers carry no data (only the batch size), so no
 * path runs through them.
 */
export interface Shortcut {
  readonly kind: 'identity' | 'projection';
  /** The merge node's path. */
  readonly merge: string;
  /** Which input of the merge the shortcut arrives at. */
  readonly input: number;
  /** Where the shortcut leaves the main path (a node path or `input`). */
  readonly fork: string;
  /** The projection's layers in order (empty for identity). */
  readonly layers: readonly IrNode[];
}

/** An IR edge: input `input` of node `node`. */
export function edgeKey(node: string, input: number): string {
  return `${node}#${input}`;
}

const MERGES: ReadonlySet<IrNode['kind']> = new Set(['add', 'concat', 'mul']);

/** The shortcuts of `ir`, and for each the IR edges it is drawn with (by {@link edgeKey}). */
export function findShortcuts(ir: IrNetwork): {
  readonly shortcuts: readonly Shortcut[];
  /** Every IR edge that belongs to a shortcut (identity: the one edge; projection: the whole chain), to its shortcut. */
  readonly edges: ReadonlyMap<string, Shortcut>;
} {
  const byPath = new Map(ir.nodes.map((n) => [n.path, n]));
  const order = new Map<string, number>([[INPUT, -1], ...ir.nodes.map((n, i) => [n.path, i] as const)]);
  const consumers = new Map<string, number>();
  for (const n of ir.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const at = (p: string): number => order.get(p) ?? -1;

  /** True when `from` is `to` or an ancestor of it (walks back, never below `from` in execution order). */
  const reaches = (from: string, to: string): boolean => {
    const stop = at(from);
    const seen = new Set<string>();
    const stack = [to];
    while (stack.length) {
      const p = stack.pop() as string;
      if (p === from) return true;
      if (seen.has(p) || at(p) <= stop) continue;
      seen.add(p);
      const n = byPath.get(p);
      // A parameter reads its input only for the batch size: no data flows along that edge.
      if (n && n.kind !== 'parameter') stack.push(...n.inputs);
    }
    return false;
  };

  /** The number of nodes on the longest path from `from` (excluded) to `to` (included); -1 when none. */
  const longest = (from: string, to: string): number => {
    const dist = new Map<string, number>([[from, 0]]);
    for (let i = at(from) + 1; i <= at(to); i++) {
      const n = ir.nodes[i] as IrNode;
      if (n.kind === 'parameter') continue;
      let best = -1;
      for (const p of n.inputs) {
        const d = dist.get(p);
        if (d !== undefined) best = Math.max(best, d + 1);
      }
      if (best >= 0) dist.set(n.path, best);
    }
    return dist.get(to) ?? -1;
  };

  const shortcuts: Shortcut[] = [];
  const edges = new Map<string, Shortcut>();
  for (const merge of ir.nodes) {
    if (!MERGES.has(merge.kind) || merge.inputs.length < 2) continue;
    merge.inputs.forEach((u, index) => {
      const others = merge.inputs.filter((_, j) => j !== index);
      if (others.some((v) => v !== u && reaches(u, v))) {
        const s: Shortcut = { kind: 'identity', merge: merge.path, input: index, fork: u, layers: [] };
        shortcuts.push(s);
        edges.set(edgeKey(merge.path, index), s);
        return;
      }
      // Walk back along single-input layers that feed nothing else (identity layers only, but for an add), to
      // where the other inputs branch off.
      const layers: IrNode[] = [];
      let p = u;
      for (;;) {
        const n = byPath.get(p);
        if (!n || n.inputs.length !== 1 || (consumers.get(p) ?? 0) !== 1) return;
        if (merge.kind !== 'add' && n.kind !== 'identity') return;
        layers.unshift(n);
        p = n.inputs[0] as string;
        if (others.every((v) => reaches(p, v))) break;
      }
      const fork = p;
      if (!others.every((v) => longest(fork, v) > layers.length)) return;
      // A chain of identity layers only names the tensor (a block's `x = identity()`): an identity shortcut still.
      const kind = layers.every((n) => n.kind === 'identity') ? 'identity' : 'projection';
      const s: Shortcut = { kind, merge: merge.path, input: index, fork, layers };
      shortcuts.push(s);
      layers.forEach((n) => edges.set(edgeKey(n.path, 0), s));
      edges.set(edgeKey(merge.path, index), s);
    });
  }
  return { shortcuts, edges };
}

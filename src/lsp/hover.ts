/**
 * Hover: on a layer or block call, the layer paths it made (a call inside a block, or a repeated one, has several)
 * with their output shapes and trainable parameter counts from the IR, and the kind's doc line; on a block's name,
 * its parameters and instances; on a module's name, its output.
 */
import path from 'node:path';
import type { IrGroup, IrNetwork, IrNode, Shape } from '../compiler/ir.js';
import { numel } from '../compiler/ir.js';
import { formatBytes } from '../compiler/activation-limit.js';
import type { BlockDecl, Span } from '../parser/ast.js';
import type { Analysis } from './analysis.js';
import { locate } from './locate.js';
import { blockSignature, layerDoc, layerSignature, paramSignature, type Syntax } from './vocabulary.js';

/** One layer or block instance a call made: its path, output shape (batch left out) and trainable parameters. */
export interface HoverInstance {
  readonly path: string;
  readonly outputShape: Shape;
  /** Trainable parameter values (weights and biases; BN running statistics are buffers, not counted). */
  readonly trainable: number;
}

/** What hover shows: markdown, the span it is about, and the instances as data. */
export interface HoverInfo {
  readonly markdown: string;
  readonly offset: number;
  readonly endOffset: number;
  readonly instances: readonly HoverInstance[];
}

/** Most instances a hover lists; the rest are counted. */
export const MAX_HOVER_INSTANCES = 24;

/** The layer paths made by each call, by the call's place (`file:offset`), in the order they were made. */
export function pathsByCall(callSites: ReadonlyMap<string, Span>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [p, span] of callSites) {
    const key = `${path.resolve(span.file)}:${span.offset}`;
    const list = out.get(key);
    if (list) list.push(p);
    else out.set(key, [p]);
  }
  return out;
}

/** The instance at `p` in `ir`: a node, or a block instance with the parameters of every layer inside it. */
function instanceOf(
  ir: IrNetwork,
  p: string,
  nodes: ReadonlyMap<string, IrNode>,
  groups: ReadonlyMap<string, IrGroup>,
): HoverInstance | undefined {
  const trainableOf = (n: IrNode): number =>
    n.params.reduce((s, q) => s + (q.trainable ? numel(q.shape) : 0), 0);
  const node = nodes.get(p);
  if (node) return { path: p, outputShape: node.outputShape, trainable: trainableOf(node) };
  const group = groups.get(p);
  if (!group) return undefined;
  const inside = ir.nodes.filter((n) => n.path.startsWith(`${p}.`));
  return {
    path: p,
    outputShape: group.outputShape,
    trainable: inside.reduce((s, n) => s + trainableOf(n), 0),
  };
}

/** `[64, 8, 8]` */
function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** `36,864 trainable parameters (144.0 KiB as float32)` */
function paramsText(count: number): string {
  const n = `${count.toLocaleString('en-US')} trainable parameter${count === 1 ? '' : 's'}`;
  return count > 0 ? `${n} (${formatBytes(count * 4)} as float32)` : n;
}

/** The instances' lines: one per path, then how many more. */
function instanceLines(instances: readonly HoverInstance[]): string[] {
  const lines = instances
    .slice(0, MAX_HOVER_INSTANCES)
    .map((i) => `- \`${i.path}\`: output ${shapeText(i.outputShape)}, ${paramsText(i.trainable)}`);
  if (instances.length > MAX_HOVER_INSTANCES)
    lines.push(`- … and ${instances.length - MAX_HOVER_INSTANCES} more`);
  return lines;
}

const SHAPE_NOTE = '_Output shapes leave out the batch dimension._';

/** The instances the call (or merge) at `span` made, from the compilation; undefined when the spec has errors. */
function instancesAt(analysis: Analysis, span: Span): HoverInstance[] | undefined {
  const ir = analysis.compiled.ir;
  if (!ir) return undefined;
  const nodes = new Map(ir.nodes.map((n) => [n.path, n] as const));
  const groups = new Map(ir.groups.map((g) => [g.path, g] as const));
  const paths =
    pathsByCall(analysis.compiled.callSites).get(`${path.resolve(span.file)}:${span.offset}`) ?? [];
  return paths.flatMap((p) => instanceOf(ir, p, nodes, groups) ?? []);
}

/** The lines that list `instances`, or say why there are none. */
function instancesSection(instances: readonly HoverInstance[] | undefined, what: string): string[] {
  if (!instances) return ['_Paths, shapes and parameters show once the spec compiles without errors._'];
  if (instances.length === 0)
    return [`_This ${what} makes no layer (left out by its condition, or repeated 0 times)._`];
  const n = instances.length;
  return [`${n} instance${n === 1 ? '' : 's'}:`, '', ...instanceLines(instances), '', SHAPE_NOTE];
}

/** The block named `name` in the resolved network (blocks of a parent included), else in the document. */
function blockNamed(analysis: Analysis, name: string): BlockDecl | undefined {
  return (analysis.resolved ?? analysis.parsed.ast)?.blocks.find((b) => b.name === name);
}

/** Hover at `offset` of the analysis's document, or undefined where there is nothing to say. */
export function hoverAt(analysis: Analysis, offset: number): HoverInfo | undefined {
  const ast = analysis.parsed.ast;
  if (!ast) return undefined;
  const found = locate(ast, analysis.file, offset);
  if (!found) return undefined;
  const syntax: Syntax = analysis.format;
  const sources = analysis.compiled.sources;
  const at = (
    span: Span,
    markdown: string[],
    instances: readonly HoverInstance[] | undefined,
  ): HoverInfo => ({
    markdown: markdown.join('\n'),
    offset: span.offset,
    endOffset: span.endOffset,
    instances: instances ?? [],
  });
  switch (found.kind) {
    case 'call': {
      const call = found.call;
      const instances = instancesAt(analysis, call.span);
      const doc = layerDoc(call.callee);
      const block = doc === undefined ? blockNamed(analysis, call.callee) : undefined;
      const head =
        doc !== undefined
          ? [`**${call.callee}** (layer): ${doc}`, '', '```', layerSignature(call.callee, syntax), '```']
          : block
            ? [`**${call.callee}** (block)`, '', '```', blockSignature(block, sources, syntax), '```']
            : [`**${call.callee}**`];
      return at(call.span, [...head, '', ...instancesSection(instances, 'call')], instances);
    }
    case 'merge': {
      const m = found.merge;
      const instances = instancesAt(analysis, m.span);
      const head = [`**${m.op}** (merge)`];
      return at(
        m.kind === 'merge' ? m.span : m.opSpan,
        [...head, '', ...instancesSection(instances, 'merge')],
        instances,
      );
    }
    case 'block': {
      const b = found.block;
      const ir = analysis.compiled.ir;
      const groups = ir ? ir.groups.filter((g) => g.block === b.name) : undefined;
      const nodes = ir ? new Map(ir.nodes.map((n) => [n.path, n] as const)) : new Map<string, IrNode>();
      const byPath = new Map((ir?.groups ?? []).map((g) => [g.path, g] as const));
      const instances =
        ir && groups ? groups.flatMap((g) => instanceOf(ir, g.path, nodes, byPath) ?? []) : undefined;
      const params = b.params.length
        ? ['Parameters:', '', ...b.params.map((p) => `- \`${paramSignature(p, sources, syntax)}\``)]
        : ['No parameters.'];
      return at(
        b.nameSpan,
        [
          `**${b.name}** (block)`,
          '',
          '```',
          blockSignature(b, sources, syntax),
          '```',
          '',
          ...params,
          '',
          ...instancesSection(instances, 'block'),
        ],
        instances,
      );
    }
    case 'module': {
      const mod = found.module;
      const ir = analysis.compiled.ir;
      const inside = ir?.nodes.filter((n) => n.module === mod.name);
      const last = inside?.[inside.length - 1];
      const trainable = (inside ?? []).reduce(
        (s, n) => s + n.params.reduce((t, q) => t + (q.trainable ? numel(q.shape) : 0), 0),
        0,
      );
      const body =
        ir && last
          ? [
              `output ${shapeText(last.outputShape)}, ${inside?.length ?? 0} layers, ${paramsText(trainable)}`,
              '',
              SHAPE_NOTE,
            ]
          : instancesSection(undefined, 'module');
      return at(mod.nameSpan, [`**${mod.name}** (module)`, '', ...body], undefined);
    }
    case 'param': {
      const p = found.param;
      const where = found.block ? `parameter of block ${found.block.name}` : 'network parameter';
      const sig = paramSignature(p, sources, syntax);
      return at(p.nameSpan, [`**${p.name}** (${where})`, '', '```', sig, '```'], undefined);
    }
  }
}

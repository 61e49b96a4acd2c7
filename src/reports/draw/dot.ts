/**
 * The picture of a network as Graphviz DOT, built from the IR alone: modules as clusters from top to bottom, block
 * instances as one box each (`blocks`) or as clusters of their layers (`layers`), one box per module (`modules`);
 * edges are the IR's inputs with the tensor shape they carry, shortcuts dashed. Pure and stable: the same IR and
 * options give the same bytes (the golden tests hold them), and nothing here lays out or renders.
 */
import {
  numel,
  type IrGroup,
  type IrNetwork,
  type IrNode,
  type IrNodeKind,
  type Shape,
} from '../../compiler/ir.js';
import { formatFixed, groupThousands } from '../format.js';
import { DOT_MARKER } from './marker.js';
import { edgeKey, findShortcuts, INPUT, type Shortcut } from './shortcuts.js';

/** How much one box stands for: a module, a block instance (top-level), or a layer. */
export type DrawDetail = 'modules' | 'blocks' | 'layers';

/** The details, coarsest first. */
export const DRAW_DETAILS: readonly DrawDetail[] = ['modules', 'blocks', 'layers'];

/** Options of {@link networkDot}. */
export interface DrawOptions {
  readonly detail: DrawDetail;
  /**
   * Draw only these modules (names of `ir.modules`); what feeds them from elsewhere is drawn as an ellipse naming
   * it, and edges out of them are left out. All modules when absent.
   */
  readonly modules?: readonly string[];
}

/** The font Graphviz sizes text with (it has DejaVu Sans's metrics built in); the PNG renders with the same. */
export const DRAW_FONT = 'DejaVu Sans';

/** The colour classes of layers. */
export type KindClass = 'conv' | 'norm' | 'activation' | 'pool' | 'linear' | 'merge' | 'other';

/** Every IR kind's colour class; `tsc` names a kind missing here. */
export const KIND_CLASS: { readonly [K in IrNodeKind]: KindClass } = {
  conv: 'conv',
  batchnorm: 'norm',
  layernorm: 'norm',
  activation: 'activation',
  maxpool: 'pool',
  avgpool: 'pool',
  global_avgpool: 'pool',
  adaptive_avgpool: 'pool',
  linear: 'linear',
  attention: 'linear',
  add: 'merge',
  mul: 'merge',
  concat: 'merge',
  chunk: 'other',
  slice: 'other',
  channel_shuffle: 'other',
  stochastic_depth: 'other',
  flatten: 'other',
  parameter: 'other',
  permute: 'other',
  reshape: 'other',
  select: 'other',
  dropout: 'other',
  identity: 'other',
};

/** Fill colours (ColorBrewer's Paired, light shades: black text stays readable on each). */
export const CLASS_COLOURS: { readonly [C in KindClass]: string } = {
  conv: '#a6cee3',
  norm: '#b2df8a',
  activation: '#fdbf6f',
  pool: '#cab2d6',
  linear: '#fb9a99',
  merge: '#ffff99',
  other: '#e0e0e0',
};

/** The fill of a block box (`blocks`) and of a module box (`modules`). */
export const BLOCK_COLOUR = '#dbe4f0';
const MODULE_FILL = '#f4f4f4';
const EDGE_COLOUR = '#4d4d4d';
const SHORTCUT_COLOUR = '#c0392b';

/** The node id of the legend: a name no layer path, block path or module name can have. */
export const LEGEND_ID = '(legend)';

type NodeOfKind<K extends IrNodeKind> = IrNode extends infer N
  ? N extends IrNode
    ? K extends N['kind']
      ? N
      : never
    : never
  : never;

const times = (pair: readonly [number, number]): string =>
  pair[0] === pair[1] ? `${pair[0]}×${pair[0]}` : `${pair[0]}×${pair[1]}`;
const strideOf = (s: readonly [number, number]): string =>
  s[0] === 1 && s[1] === 1 ? '' : ` /${s[0] === s[1] ? s[0] : `${s[0]}×${s[1]}`}`;

/** Each kind's box text: the kind and its main arguments (`conv 3×3 /2, 64`). */
const KIND_TEXT: { readonly [K in IrNodeKind]: (node: NodeOfKind<K>) => string } = {
  conv: (n) =>
    `conv ${times(n.kernel)}${strideOf(n.stride)}, ${n.outChannels}` +
    (n.groups === n.inChannels && n.groups > 1 ? ', depthwise' : n.groups > 1 ? `, ${n.groups} groups` : '') +
    (n.dilation[0] > 1 || n.dilation[1] > 1 ? `, dilation ${n.dilation[0]}` : ''),
  batchnorm: () => 'batchnorm',
  layernorm: () => 'layernorm',
  activation: (n) => (n.alpha === undefined ? n.fn : `${n.fn} ${n.alpha}`),
  maxpool: (n) => `maxpool ${times(n.kernel)}${strideOf(n.stride)}`,
  avgpool: (n) => `avgpool ${times(n.kernel)}${strideOf(n.stride)}`,
  global_avgpool: () => 'global_avgpool',
  adaptive_avgpool: (n) => `adaptive_avgpool ${times(n.out)}`,
  linear: (n) => `linear, ${n.outFeatures}`,
  attention: (n) => `attention, ${n.heads} heads`,
  add: () => 'add',
  mul: () => 'mul',
  concat: (n) => (n.dim === 1 ? 'concat' : `concat dim ${n.dim}`),
  chunk: (n) => `chunk ${n.index + 1} of ${n.chunks}`,
  slice: (n) => `slice ${n.start}:${n.end} of dim ${n.dim}`,
  channel_shuffle: (n) => `channel_shuffle, ${n.groups} groups`,
  stochastic_depth: (n) => `stochastic_depth p ${n.p}`,
  flatten: () => 'flatten',
  parameter: (n) => `parameter ${n.shape.join('×')}`,
  permute: (n) => `permute ${n.dims.join(',')}`,
  reshape: () => 'reshape',
  select: (n) => `select ${n.index} of dim ${n.dim}`,
  dropout: (n) => `dropout ${n.p}`,
  identity: () => 'identity',
};

/** A layer's kind and main arguments, as its box shows them (`conv 3×3 /2, 64`). */
export function kindText(node: IrNode): string {
  return (KIND_TEXT[node.kind] as (n: IrNode) => string)(node);
}

/** A shape without the batch dimension, as `64×28×28` (`scalar` for []). */
export function shapeText(shape: Shape): string {
  return shape.length ? shape.join('×') : 'scalar';
}

/** A parameter count in short form: `640`, `74.0K`, `11.2M`, `1.3G` (one decimal, rounded half to even). */
export function shortCount(n: number): string {
  if (n < 1000) return String(n);
  for (const [unit, suffix] of [
    [1e3, 'K'],
    [1e6, 'M'],
    [1e9, 'G'],
  ] as const) {
    const text = formatFixed(n / unit, 1);
    if (Number(text) < 1000 || suffix === 'G') return `${text}${suffix}`;
  }
  return String(n);
}

/** `74.0K params`: trainable parameters, as box labels show them. */
export function paramsText(n: number): string {
  return `${shortCount(n)} params`;
}

const trainable = (node: IrNode): number =>
  node.params.reduce((sum, p) => (p.trainable ? sum + numel(p.shape) : sum), 0);

/** DOT's quoted string. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Text inside an HTML-like label. */
function h(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const small = (s: string): string => `<FONT POINT-SIZE="9" COLOR="#555555">${h(s)}</FONT>`;

/** What a drawn box is: a layer, a block instance, a module, the input, or something outside the drawn modules. */
type Box =
  | { readonly kind: 'layer'; readonly id: string; readonly node: IrNode }
  | { readonly kind: 'block'; readonly id: string; readonly group: IrGroup }
  | { readonly kind: 'module'; readonly id: string }
  | { readonly kind: 'input'; readonly id: string }
  | { readonly kind: 'outside'; readonly id: string; readonly shape: Shape };

/** A cluster's content in execution order: boxes and nested clusters. */
interface Cluster {
  readonly id: string;
  /** The cluster's label (HTML). */
  readonly label: string;
  readonly block: boolean;
  readonly items: (Box | Cluster)[];
}

const isCluster = (x: Box | Cluster): x is Cluster => 'items' in x;

/** One edge to draw. */
interface DrawnEdge {
  readonly tail: string;
  readonly head: string;
  readonly port?: string;
  readonly shapes: string[];
  readonly shortcut?: { readonly text: string };
}

/** The structure of a network the DOT is written from. */
class NetworkView {
  readonly groups: ReadonlyMap<string, IrGroup>;
  readonly index: ReadonlyMap<string, number>;
  private readonly groupParams = new Map<string, number>();

  constructor(readonly ir: IrNetwork) {
    this.groups = new Map(ir.groups.map((g) => [g.path, g]));
    this.index = new Map(ir.nodes.map((n, i) => [n.path, i]));
    for (const n of ir.nodes)
      for (const g of this.chain(n))
        this.groupParams.set(g.path, (this.groupParams.get(g.path) ?? 0) + trainable(n));
  }

  /** The block instances holding `node`, outermost first. */
  chain(node: IrNode): IrGroup[] {
    const out: IrGroup[] = [];
    for (let g = node.group === null ? undefined : this.groups.get(node.group); g;) {
      out.unshift(g);
      g = g.parent === null ? undefined : this.groups.get(g.parent);
    }
    return out;
  }

  /** Trainable parameters of the nodes inside a block instance (nested blocks included). */
  paramsOf(group: IrGroup): number {
    return this.groupParams.get(group.path) ?? 0;
  }

  /** The box id `path` (a node path or `input`) is drawn in at `detail`. */
  boxOf(path: string, detail: DrawDetail): string {
    const node = this.node(path);
    if (!node) return path;
    if (detail === 'modules') return node.module;
    if (detail === 'blocks') return this.chain(node)[0]?.path ?? node.path;
    return node.path;
  }

  node(path: string): IrNode | undefined {
    const i = this.index.get(path);
    return i === undefined ? undefined : this.ir.nodes[i];
  }
}

/** A layer's name inside the block that holds it (the block's label gives the rest), or its path at module level. */
function localName(node: IrNode, view: NetworkView): string {
  const inner = view.chain(node).at(-1)?.path;
  return inner !== undefined && node.path.startsWith(`${inner}.`)
    ? node.path.slice(inner.length + 1)
    : node.path;
}

/** The port of a block box that shortcuts into the merge `merge` arrive at. */
function portName(box: string, merge: string): string {
  const local = merge.startsWith(`${box}.`) ? merge.slice(box.length + 1) : merge;
  return local.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The text of a shortcut edge: `identity`, or its projection (`conv 1×1 /2, 128 → batchnorm`). */
function shortcutText(s: Shortcut, collapsed: boolean): string {
  if (s.kind === 'identity') return 'identity';
  if (!collapsed) return 'projection';
  return s.layers.map((n, i) => (i === 0 ? kindText(n) : n.kind)).join(' → ');
}

function edgesOf(
  view: NetworkView,
  detail: DrawDetail,
  drawn: (node: IrNode) => boolean,
): { edges: DrawnEdge[]; ports: Map<string, string[]>; outside: Map<string, Shape> } {
  const { edges: shortcutEdges } = findShortcuts(view.ir);
  const byKey = new Map<string, DrawnEdge>();
  const edges: DrawnEdge[] = [];
  const ports = new Map<string, string[]>();
  const outside = new Map<string, Shape>();
  for (const node of view.ir.nodes) {
    if (!drawn(node)) continue;
    node.inputs.forEach((input, i) => {
      const source = view.node(input);
      const tail = view.boxOf(input, detail);
      const head = view.boxOf(node.path, detail);
      const shape = shapeText(node.inputShapes[i] ?? []);
      if (source && !drawn(source)) outside.set(tail, source.outputShape);
      if (detail === 'layers') {
        const s = shortcutEdges.get(edgeKey(node.path, i));
        const into = s !== undefined && s.merge === node.path;
        edges.push({
          tail,
          head,
          shapes: [shape],
          ...(s ? { shortcut: { text: into ? shortcutText(s, false) : '' } } : {}),
        });
        return;
      }
      if (tail === head) return;
      const s = detail === 'blocks' ? shortcutEdges.get(edgeKey(node.path, i)) : undefined;
      let port: string | undefined;
      let shown = shape;
      if (s && head !== s.merge && view.boxOf(s.merge, detail) === head) {
        // The shortcut arrives inside a block box: at the port of its merge, with the shape the merge receives.
        port = portName(head, s.merge);
        const list = ports.get(head) ?? [];
        if (!list.includes(port)) list.push(port);
        ports.set(head, list);
        const merge = view.node(s.merge);
        shown = shapeText(merge?.inputShapes[s.input] ?? []);
      }
      const key = `${tail}\u0000${head}\u0000${port ?? ''}\u0000${s ? 'dashed' : ''}`;
      const existing = byKey.get(key);
      if (existing) {
        if (!existing.shapes.includes(shown)) existing.shapes.push(shown);
        return;
      }
      const edge: DrawnEdge = {
        tail,
        head,
        shapes: [shown],
        ...(port !== undefined ? { port } : {}),
        ...(s ? { shortcut: { text: shortcutText(s, port !== undefined) } } : {}),
      };
      byKey.set(key, edge);
      edges.push(edge);
    });
  }
  return { edges, ports, outside };
}

function layerBox(node: IrNode, view: NetworkView): string {
  const fill = CLASS_COLOURS[KIND_CLASS[node.kind]];
  const label = `${small(localName(node, view))}<BR/>${h(kindText(node))}`;
  return `${q(node.path)} [label=<${label}>, fillcolor=${q(fill)}];`;
}

function blockBox(group: IrGroup, view: NetworkView, ports: readonly string[]): string {
  const rows = [
    `<TR><TD><B>${h(`${group.path} · ${group.block}`)}</B></TD></TR>`,
    `<TR><TD>${h(`${shapeText(group.outputShape)} · ${paramsText(view.paramsOf(group))}`)}</TD></TR>`,
    ...ports.map((p) => `<TR><TD PORT=${q(p)} ALIGN="RIGHT">${small(`shortcut → ${p}`)}</TD></TR>`),
  ];
  const table = `<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">${rows.join('')}</TABLE>`;
  return `${q(group.path)} [label=<${table}>, fillcolor=${q(BLOCK_COLOUR)}];`;
}

function moduleBox(module: string, view: NetworkView): string {
  const nodes = view.ir.nodes.filter((n) => n.module === module);
  const params = nodes.reduce((sum, n) => sum + trainable(n), 0);
  const out = nodes.at(-1)?.outputShape ?? [];
  const label = `<B>${h(module)}</B><BR/>${h(`${shapeText(out)} · ${paramsText(params)}`)}`;
  return `${q(module)} [label=<${label}>, fillcolor=${q(MODULE_FILL)}];`;
}

function writeItem(
  item: Box | Cluster,
  view: NetworkView,
  ports: Map<string, string[]>,
  indent: string,
): string[] {
  if (isCluster(item)) {
    const style = item.block
      ? 'style="rounded,filled"; fillcolor="#ffffff"; color="#7f8fa6"; penwidth=1; fontsize=11; labeljust=l'
      : 'style="rounded,filled"; fillcolor="#f7f7f7"; color="#999999"; penwidth=1; fontsize=13; labeljust=l';
    return [
      `${indent}subgraph ${q(`cluster_${item.id}`)} {`,
      `${indent}  label=<${item.label}>; ${style};`,
      ...item.items.flatMap((i) => writeItem(i, view, ports, `${indent}  `)),
      `${indent}}`,
    ];
  }
  switch (item.kind) {
    case 'layer':
      return [indent + layerBox(item.node, view)];
    case 'block':
      return [indent + blockBox(item.group, view, ports.get(item.id) ?? [])];
    case 'module':
      return [indent + moduleBox(item.id, view)];
    case 'input':
      return [
        `${indent}${q(item.id)} [shape=ellipse, fillcolor="#ffffff", label=<input<BR/>${h(shapeText(view.ir.inputShape))}>];`,
      ];
    case 'outside':
      return [
        `${indent}${q(item.id)} [shape=ellipse, style=dashed, label=<${small(`from ${item.id}`)}<BR/>${h(shapeText(item.shape))}>];`,
      ];
  }
}

/**
 * A cluster's label, top left: `title` (HTML) over `detail` (small). An edge may pass under it: render.ts draws
 * cluster labels last, on a halo of the cluster's colour.
 */
function clusterLabel(title: string, detail: string): string {
  return `<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD ALIGN="LEFT" BALIGN="LEFT">${title}<BR/>${small(detail)}</TD></TR></TABLE>`;
}

/** A block's path relative to the block holding it (`branch2.0` in `inception3.inception3a`), or its whole path. */
function relativePath(g: IrGroup): string {
  return g.parent !== null && g.path.startsWith(`${g.parent}.`) ? g.path.slice(g.parent.length + 1) : g.path;
}

/** The clusters and boxes of one module at `detail` (blocks and layers). */
function moduleCluster(module: string, view: NetworkView, detail: 'blocks' | 'layers'): Cluster {
  const nodes = view.ir.nodes.filter((n) => n.module === module);
  const params = nodes.reduce((sum, n) => sum + trainable(n), 0);
  const root: Cluster = {
    id: module,
    label: clusterLabel(`<B>${h(module)}</B>`, paramsText(params)),
    block: false,
    items: [],
  };
  const clusters = new Map<string, Cluster>();
  const boxes = new Set<string>();
  for (const node of nodes) {
    const chain = view.chain(node);
    if (detail === 'blocks' && chain[0]) {
      const g = chain[0];
      if (!boxes.has(g.path)) root.items.push({ kind: 'block', id: g.path, group: g });
      boxes.add(g.path);
      continue;
    }
    let at = root;
    for (const g of chain) {
      let c = clusters.get(g.path);
      if (!c) {
        c = {
          id: g.path,
          label: clusterLabel(h(`${relativePath(g)} · ${g.block}`), paramsText(view.paramsOf(g))),
          block: true,
          items: [],
        };
        clusters.set(g.path, c);
        at.items.push(c);
      }
      at = c;
    }
    at.items.push({ kind: 'layer', id: node.path, node });
  }
  return root;
}

function edgeLine(edge: DrawnEdge): string {
  const head = edge.port === undefined ? q(edge.head) : `${q(edge.head)}:${q(edge.port)}:e`;
  const shapes = edge.shapes.join(', ');
  const attrs = [
    // Spaces around the text keep the labels of neighbouring edges apart.
    `label=${q(` ${edge.shortcut?.text ? `${edge.shortcut.text} · ${shapes}` : shapes} `)}`,
    // Heavy main edges stay straight; shortcuts bend around them instead of pulling the chain sideways.
    ...(edge.shortcut
      ? [`style=dashed`, `color=${q(SHORTCUT_COLOUR)}`, `fontcolor=${q(SHORTCUT_COLOUR)}`, 'weight=0']
      : ['weight=4']),
  ];
  return `  ${q(edge.tail)} -> ${head} [${attrs.join(', ')}];`;
}

/** The legend: the colour classes present with their kinds, the shortcut style, and the units. */
function legend(drawn: readonly IrNode[], boxes: readonly Box[], dashed: boolean): string {
  const rows: string[] = [];
  const cell = (colour: string, text: string): string =>
    `<TR><TD BGCOLOR=${q(colour)} WIDTH="18" HEIGHT="12" FIXEDSIZE="TRUE"></TD><TD ALIGN="LEFT">${h(text)}</TD></TR>`;
  if (boxes.some((b) => b.kind === 'module')) rows.push(cell(MODULE_FILL, 'module: output shape · params'));
  if (boxes.some((b) => b.kind === 'block'))
    rows.push(cell(BLOCK_COLOUR, 'block instance: output shape · params'));
  const shown = new Set(boxes.flatMap((b) => (b.kind === 'layer' ? [b.node.kind] : [])));
  for (const c of Object.keys(CLASS_COLOURS) as KindClass[]) {
    const kinds = [
      ...new Set(
        drawn
          .filter((n) => shown.has(n.kind) && KIND_CLASS[n.kind] === c)
          .map((n) => (n.kind === 'activation' ? n.fn : n.kind)),
      ),
    ];
    if (kinds.length)
      rows.push(cell(CLASS_COLOURS[c], kinds.join(', ') === c ? c : `${c}: ${kinds.join(', ')}`));
  }
  if (dashed)
    rows.push(
      `<TR><TD><FONT COLOR=${q(SHORTCUT_COLOUR)}>- - →</FONT></TD><TD ALIGN="LEFT">shortcut into a merge (identity or projection)</TD></TR>`,
    );
  // The notes keep to the text column: a cell spanning both would widen the swatches.
  rows.push('<TR><TD></TD><TD ALIGN="LEFT">edges: shapes C×H×W, batch omitted</TD></TR>');
  rows.push('<TR><TD></TD><TD ALIGN="LEFT">params: trainable parameters</TD></TR>');
  // One row a line, so that golden diffs show which row changed.
  const table = `<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">\n    ${rows.join('\n    ')}\n  </TABLE>`;
  return `  ${q(LEGEND_ID)} [shape=plaintext, style="", fontsize=10, label=<${table}>];`;
}

/**
 * The DOT of `ir` at `options.detail` (see the module comment and src/reports/draw/README.md). Node ids are IR
 * paths (layers), block paths (blocks), module names (modules), `input`, and {@link LEGEND_ID}; at `layers` every
 * IR edge is one edge, at the coarser details the IR edges between different boxes, deduplicated.
 */
export function networkDot(ir: IrNetwork, options: DrawOptions): string {
  const { detail } = options;
  const view = new NetworkView(ir);
  const selected = new Set(options.modules ?? ir.modules);
  const drawn = (n: IrNode): boolean => selected.has(n.module);
  const drawnNodes = ir.nodes.filter(drawn);
  const { edges, ports, outside } = edgesOf(view, detail, drawn);
  const readsInput = drawnNodes.some((n) => n.inputs.includes(INPUT));

  const top: (Box | Cluster)[] = [];
  if (readsInput) top.push({ kind: 'input', id: INPUT });
  for (const [id, shape] of outside) top.push({ kind: 'outside', id, shape });
  for (const module of ir.modules) {
    if (!selected.has(module)) continue;
    top.push(detail === 'modules' ? { kind: 'module', id: module } : moduleCluster(module, view, detail));
  }
  const boxes: Box[] = [];
  const collect = (i: Box | Cluster): void => (isCluster(i) ? i.items.forEach(collect) : void boxes.push(i));
  top.forEach(collect);

  const total = drawnNodes.reduce((sum, n) => sum + trainable(n), 0);
  const part = options.modules ? ` (modules ${ir.modules.filter((m) => selected.has(m)).join(', ')})` : '';
  const title =
    `<B>${h(ir.name)}</B>${h(part)} · ${h(groupThousands(total))} trainable parameters (${h(shortCount(total))})` +
    `<BR/>${small(`input ${shapeText(ir.inputShape)} → output ${shapeText(ir.outputShape)} · ${detail} detail`)}`;
  return [
    `${DOT_MARKER}: ${ir.name}, ${detail} detail${part}`,
    '// Built from the IR by src/reports/draw/dot.ts: shapes C×H×W without the batch, params = trainable parameters.',
    `digraph ${q(ir.name)} {`,
    `  graph [rankdir=TB, fontname=${q(DRAW_FONT)}, fontsize=14, labelloc=t, label=<${title}>, nodesep=0.3, ranksep=0.35, newrank=true];`,
    `  node [shape=box, style="rounded,filled", fontname=${q(DRAW_FONT)}, fontsize=11, margin="0.15,0.05", color="#555555", penwidth=0.8];`,
    `  edge [fontname=${q(DRAW_FONT)}, fontsize=9, color=${q(EDGE_COLOUR)}, fontcolor="#555555", arrowsize=0.6];`,
    legend(
      drawnNodes,
      boxes,
      edges.some((e) => e.shortcut),
    ),
    ...top.flatMap((i) => writeItem(i, view, ports, '  ')),
    ...edges.map(edgeLine),
    '}',
    '',
  ].join('\n');
}

/**
 * `netspec draw`'s picture (src/reports/draw/): the DOT of three networks against golden files, and the SVG Graphviz
 * lays out checked against the IR it came from: every layer a node and every IR edge an edge (layers detail), one
 * box per block instance with its trainable parameters (blocks detail), shortcuts dashed where the IR has them,
 * shapes on the edges, the legend listing only the kinds drawn; the PNG and the own-file markers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { numel, type IrNetwork } from '../../src/compiler/ir.js';
import {
  DRAW_DETAILS,
  LEGEND_ID,
  networkDot,
  shapeText,
  shortCount,
  type DrawDetail,
} from '../../src/reports/draw/dot.js';
import { isNetspecDrawing, withPngMarker } from '../../src/reports/draw/marker.js';
import { DRAW_FORMATS, drawNetwork, layoutSvg, svgToDrawingPng } from '../../src/reports/draw/render.js';
import { findShortcuts } from '../../src/reports/draw/shortcuts.js';
import { DRAW_DETAIL_CHOICES, DRAW_FORMAT_CHOICES } from '../../src/cli/draw.js';
import { expectGolden } from '../support/golden.js';
import { compileFile, ROOT } from './compile-spec.js';

const GOLDEN = path.join(ROOT, 'test/fixtures/draw');

/** What an SVG Graphviz wrote holds: its nodes (title and text) and edges (tail, head, dashed, text). */
interface SvgGraph {
  readonly nodes: Map<string, string>;
  readonly edges: { tail: string; head: string; dashed: boolean; text: string }[];
}

const unescape = (s: string): string =>
  s
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** The text of the `<text>` elements of an SVG fragment, joined by spaces. */
const textsOf = (fragment: string): string =>
  [...fragment.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => unescape(m[1] ?? '').trim()).join(' ');

function parseSvg(svg: string): SvgGraph {
  const nodes = new Map<string, string>();
  const edges: SvgGraph['edges'] = [];
  for (const m of svg.matchAll(
    /<g id="[^"]*" class="(node|edge)">\s*<title>([^<]*)<\/title>([\s\S]*?)<\/g>/g,
  )) {
    const [, cls, title = '', body = ''] = m;
    const name = unescape(title);
    if (cls === 'node') nodes.set(name, textsOf(body));
    else {
      const [tail = '', head = ''] = name.split('->');
      // A head port shows as `block:e`; node names hold no colon.
      edges.push({
        tail,
        head: head.replace(/:.*$/, ''),
        dashed: /stroke-dasharray/.test(body),
        text: textsOf(body),
      });
    }
  }
  return { nodes, edges };
}

const drawSvg = async (ir: IrNetwork, detail: DrawDetail, modules?: string[]): Promise<SvgGraph> =>
  parseSvg(await layoutSvg(networkDot(ir, { detail, ...(modules ? { modules } : {}) })));

/** Trainable parameters of the nodes inside block instance `group` (nested ones included), from the IR. */
const trainableIn = (ir: IrNetwork, group: string): number =>
  ir.nodes
    .filter((n) => n.group === group || n.group?.startsWith(`${group}.`))
    .flatMap((n) => n.params.filter((p) => p.trainable))
    .reduce((sum, p) => sum + numel(p.shape), 0);

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('networkDot goldens', () => {
  for (const [spec, detail] of [
    ['specs/resnet18.net', 'blocks'],
    ['specs/resnet18-plain.net', 'blocks'],
    ['specs/lenet5.net', 'layers'],
  ] as const)
    it(`${spec} at ${detail} detail`, () => {
      const name = path.basename(spec, '.net');
      expectGolden(path.join(GOLDEN, `${name}.${detail}.dot`), networkDot(compileFile(spec), { detail }));
    });

  it('the YAML and DSL forms of a network draw the same DOT', () => {
    for (const detail of DRAW_DETAILS)
      expect(networkDot(compileFile('specs/resnet18.yaml'), { detail })).toBe(
        networkDot(compileFile('specs/resnet18.net'), { detail }),
      );
  });
});

describe('layers detail', () => {
  const specs = [
    'specs/lenet5.net',
    'specs/resnet18.net',
    'specs/zoo/googlenet.net',
    'specs/zoo/vit_b_16.net',
    'specs/zoo/shufflenet_v2_x1_0.net',
    'test/fixtures/kinds/every-kind.net',
    'test/fixtures/kinds/every-kind-tokens.net',
  ];
  for (const spec of specs)
    it(`${spec}: every IR node is a node, every IR edge an edge with its shape, nothing more`, async () => {
      const ir = compileFile(spec);
      const svg = await drawSvg(ir, 'layers');
      expect(sorted([...svg.nodes.keys()])).toEqual(
        sorted(['input', LEGEND_ID, ...ir.nodes.map((n) => n.path)]),
      );
      const irEdges = ir.nodes.flatMap((n) => n.inputs.map((i) => `${i}->${n.path}`));
      expect(sorted(svg.edges.map((e) => `${e.tail}->${e.head}`))).toEqual(sorted(irEdges));
      for (const node of ir.nodes)
        node.inputs.forEach((input, k) => {
          const labels = svg.edges.filter((e) => e.tail === input && e.head === node.path).map((e) => e.text);
          expect(
            labels.some((t) => t.includes(shapeText(node.inputShapes[k] ?? []))),
            `${input}->${node.path}`,
          ).toBe(true);
        });
    });

  it('resnet18: identity shortcuts and the projection chains are dashed, the main path solid', async () => {
    const svg = await drawSvg(compileFile('specs/resnet18.net'), 'layers');
    const dashed = svg.edges.filter((e) => e.dashed).map((e) => `${e.tail}->${e.head}`);
    expect(sorted(dashed)).toEqual(
      sorted([
        'stem.3->stage2.0.add',
        'stage2.0.relu_2->stage2.1.add',
        'stage3.0.relu_2->stage3.1.add',
        'stage4.0.relu_2->stage4.1.add',
        'stage5.0.relu_2->stage5.1.add',
        ...['stage3', 'stage4', 'stage5'].flatMap((s, i) => [
          `${['stage2', 'stage3', 'stage4'][i]}.1.relu_2->${s}.0.shortcut`,
          `${s}.0.shortcut->${s}.0.bn3`,
          `${s}.0.bn3->${s}.0.add`,
        ]),
      ]),
    );
    expect(svg.edges.find((e) => e.tail === 'stem.3' && e.head === 'stage2.0.add')?.text).toBe(
      'identity · 64×8×8',
    );
    expect(svg.edges.find((e) => e.tail === 'stage3.0.bn3')?.text).toBe('projection · 128×4×4');
    // Boxes show the kind and its main arguments.
    expect(svg.nodes.get('stage3.0.conv1')).toBe('conv1 conv 3×3 /2, 128');
    expect(svg.nodes.get('stem.3')).toBe('stem.3 maxpool 3×3 /2');
  });

  it('googlenet: the four branches of an Inception block are parallel paths from its input to its concat', async () => {
    const ir = compileFile('specs/zoo/googlenet.net');
    const svg = await drawSvg(ir, 'layers', ['inception3']);
    const block = 'inception3.inception3a';
    const concat = ir.nodes.find((n) => n.path === `${block}.concat`);
    expect(concat?.inputs.map((i) => i.slice(block.length + 1))).toEqual([
      'branch1.relu',
      'branch2.1.relu',
      'branch3.1.relu',
      'branch4.1.relu',
    ]);
    const fromInput = svg.edges.filter((e) => e.tail === 'stem.maxpool2').map((e) => e.head);
    expect(sorted(fromInput)).toEqual(
      sorted([
        `${block}.branch1.conv`,
        `${block}.branch2.0.conv`,
        `${block}.branch3.0.conv`,
        `${block}.branch4.0`,
      ]),
    );
    // What feeds the drawn module from elsewhere is an ellipse naming it; no concat input is a shortcut.
    expect(svg.nodes.get('stem.maxpool2')).toBe('from stem.maxpool2 192×28×28');
    expect(svg.edges.filter((e) => e.dashed)).toEqual([]);
    expect(svg.nodes.has('input')).toBe(false);
  });
});

describe('blocks detail', () => {
  it('resnet18: one box per block instance with its output shape and trainable parameters, a dashed shortcut into each', async () => {
    const ir = compileFile('specs/resnet18.net');
    const svg = await drawSvg(ir, 'blocks');
    const blocks = ir.groups.filter((g) => g.parent === null);
    expect(blocks).toHaveLength(8);
    const moduleLevel = ir.nodes.filter((n) => n.group === null).map((n) => n.path);
    expect(sorted([...svg.nodes.keys()])).toEqual(
      sorted(['input', LEGEND_ID, ...moduleLevel, ...blocks.map((g) => g.path)]),
    );
    for (const g of blocks) {
      const text = svg.nodes.get(g.path) ?? '';
      expect(text).toContain(`${g.path} · ResBlock`);
      expect(text).toContain(`${shapeText(g.outputShape)} · ${shortCount(trainableIn(ir, g.path))} params`);
      const into = svg.edges.filter((e) => e.head === g.path);
      expect(into.filter((e) => !e.dashed)).toHaveLength(1);
      expect(into.filter((e) => e.dashed)).toHaveLength(1);
    }
    expect(svg.nodes.get('stage2.0')).toContain('64×8×8 · 74.0K params');
    expect(svg.nodes.get('stage3.0')).toContain('128×4×4 · 230.1K params');
    const projection = svg.edges.find((e) => e.dashed && e.head === 'stage3.0');
    expect(projection).toMatchObject({ tail: 'stage2.1', text: 'conv 1×1 /2, 128 → batchnorm · 128×4×4' });
    expect(svg.edges.find((e) => e.dashed && e.head === 'stage2.1')?.text).toBe('identity · 64×8×8');
    // IR edges mapped to boxes: no self loops, no duplicates.
    const solid = svg.edges.filter((e) => !e.dashed).map((e) => `${e.tail}->${e.head}`);
    expect(new Set(solid).size).toBe(solid.length);
    expect(svg.edges.every((e) => e.tail !== e.head)).toBe(true);
  });

  it('resnet18-plain: the same boxes, no shortcut (its block has no add)', async () => {
    const ir = compileFile('specs/resnet18-plain.net');
    expect(ir.nodes.some((n) => n.kind === 'add')).toBe(false);
    const svg = await drawSvg(ir, 'blocks');
    expect(svg.edges.filter((e) => e.dashed)).toEqual([]);
    expect(svg.nodes.get('stage3.0')).toContain(
      `128×4×4 · ${shortCount(trainableIn(ir, 'stage3.0'))} params`,
    );
    expect(svg.nodes.get(LEGEND_ID)).not.toContain('shortcut');
  });

  it('googlenet: nested blocks fold into their Inception box, whose parameters count them all', async () => {
    const ir = compileFile('specs/zoo/googlenet.net');
    const svg = await drawSvg(ir, 'blocks');
    const top = ir.groups.filter((g) => g.parent === null).map((g) => g.path);
    expect(top).toContain('inception4.inception4a');
    for (const g of ir.groups.filter((x) => x.parent !== null)) expect(svg.nodes.has(g.path)).toBe(false);
    const text = svg.nodes.get('inception4.inception4a') ?? '';
    expect(text).toContain(`512×14×14 · ${shortCount(trainableIn(ir, 'inception4.inception4a'))} params`);
    expect(trainableIn(ir, 'inception4.inception4a')).toBe(
      ir.nodes
        .filter((n) => n.path.startsWith('inception4.inception4a.'))
        .reduce((s, n) => s + n.params.filter((p) => p.trainable).reduce((t, p) => t + numel(p.shape), 0), 0),
    );
  });
});

describe('modules detail and the legend', () => {
  it('one box per module; edges between modules with their shapes', async () => {
    const ir = compileFile('specs/resnet18.net');
    const svg = await drawSvg(ir, 'modules');
    expect(sorted([...svg.nodes.keys()])).toEqual(sorted(['input', LEGEND_ID, ...ir.modules]));
    expect(svg.edges.map((e) => `${e.tail}->${e.head} ${e.text}`)).toEqual([
      'input->stem 1×32×32',
      'stem->stage2 64×8×8',
      'stage2->stage3 64×8×8',
      'stage3->stage4 128×4×4',
      'stage4->stage5 256×2×2',
      'stage5->head 512×1×1',
    ]);
  });

  it('lists only the kinds drawn, with the units', async () => {
    const lenet = (await drawSvg(compileFile('specs/lenet5.net'), 'layers')).nodes.get(LEGEND_ID) ?? '';
    expect(lenet).toContain('activation: relu');
    expect(lenet).toContain('pool: maxpool');
    expect(lenet).not.toMatch(/norm|merge|block|shortcut/);
    expect(lenet).toContain('edges: shapes C×H×W, batch omitted');
    expect(lenet).toContain('params: trainable parameters');
    const blocks = (await drawSvg(compileFile('specs/resnet18.net'), 'blocks')).nodes.get(LEGEND_ID) ?? '';
    // At blocks detail batchnorm shows only in the stem, add only inside the blocks.
    expect(blocks).toContain('block instance');
    expect(blocks).toContain('norm: batchnorm');
    expect(blocks).not.toContain('merge:');
    expect(blocks).toContain('shortcut');
  });
});

describe('shortcuts', () => {
  const kinds = (spec: string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const s of findShortcuts(compileFile(spec)).shortcuts) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
    return counts;
  };
  it('finds ResNet identity and projection shortcuts, transformer residuals, and none in Inception or plain nets', () => {
    expect(kinds('specs/resnet18.net')).toEqual({ identity: 5, projection: 3 });
    expect(kinds('specs/resnet50.net')).toEqual({ identity: 12, projection: 4 });
    expect(kinds('specs/resnet18-plain.net')).toEqual({});
    expect(kinds('specs/zoo/googlenet.net')).toEqual({});
    // Two residual adds per encoder block; the class token and position embedding are parameters, not shortcuts.
    expect(kinds('specs/zoo/vit_b_16.net')).toEqual({ identity: 24 });
  });
});

describe('rendering', () => {
  it('every canonical and zoo spec lays out at every detail', async () => {
    const specs = [
      ...fs.readdirSync(path.join(ROOT, 'specs')).map((f) => `specs/${f}`),
      ...fs.readdirSync(path.join(ROOT, 'specs/zoo')).map((f) => `specs/zoo/${f}`),
    ].filter((f) => f.endsWith('.net'));
    for (const spec of specs) {
      const ir = compileFile(spec);
      for (const detail of DRAW_DETAILS) {
        const svg = await layoutSvg(networkDot(ir, { detail }));
        expect(svg, `${spec} ${detail}`).toMatch(/<\/svg>\n?$/);
      }
    }
  });

  it("docs/pictures' SVGs are what netspec draw draws now (docs/pictures/README.md has the commands)", async () => {
    for (const name of ['resnet18', 'resnet18-plain']) {
      const svg = await drawNetwork(compileFile(`specs/${name}.net`), { detail: 'blocks', format: 'svg' });
      const committed = fs.readFileSync(path.join(ROOT, 'docs/pictures', `${name}.svg`), 'utf8');
      expect(svg === committed, `docs/pictures/${name}.svg: redraw it with the command in its README`).toBe(
        true,
      );
    }
  });

  it('the SVG is marked as netspec drew it and names DejaVu Sans first; the PNG has its tEXt chunk', async () => {
    const ir = compileFile('specs/lenet5.net');
    const svg = (await drawNetwork(ir, { detail: 'blocks', format: 'svg' })) as string;
    expect(svg.split('\n').slice(0, 2)).toEqual([
      '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
      '<!-- netspec draw -->',
    ]);
    expect(svg).toContain('font-family="DejaVu Sans, Verdana, sans-serif"');
    expect(isNetspecDrawing(new TextEncoder().encode(svg))).toBe(true);
    expect(isNetspecDrawing(new TextEncoder().encode(svg.replace('<!-- netspec draw -->\n', '')))).toBe(
      false,
    );
    const dot = (await drawNetwork(ir, { detail: 'blocks', format: 'dot' })) as string;
    expect(dot.startsWith('// netspec draw: lenet5, blocks detail\n')).toBe(true);
    expect(isNetspecDrawing(new TextEncoder().encode(dot))).toBe(true);
    expect(isNetspecDrawing(new TextEncoder().encode('digraph { a -> b }'))).toBe(false);

    const png = await svgToDrawingPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer, png.byteOffset);
    // The tEXt chunk follows IHDR; the picture is at least as large as the SVG at 2 pixels per CSS pixel.
    expect(new TextDecoder('latin1').decode(png.subarray(37, 41))).toBe('tEXt');
    const width = Number(/width="([\d.]+)pt"/.exec(svg)?.[1]) * (4 / 3);
    expect(Math.abs(view.getUint32(16) - Math.round(width * 2))).toBeLessThanOrEqual(2);
    expect(isNetspecDrawing(png.subarray(0, 4096))).toBe(true);
    // A PNG netspec did not mark is not its own; the marker chunk's CRC is what zlib computes.
    const unmarked = Buffer.concat([png.subarray(0, 33), png.subarray(33 + 12 + 21)]);
    expect(isNetspecDrawing(unmarked)).toBe(false);
    const remarked = withPngMarker(unmarked);
    expect(Buffer.from(remarked).equals(Buffer.from(png))).toBe(true);
    const zlib = await import('node:zlib');
    if (typeof zlib.crc32 === 'function')
      expect(view.getUint32(33 + 8 + 21)).toBe(zlib.crc32(png.subarray(33 + 4, 33 + 8 + 21)));
  });

  it('draws cluster labels last, over a halo of their cluster colour, so that edges pass beneath them', async () => {
    const svg = await layoutSvg(networkDot(compileFile('specs/resnet18.net'), { detail: 'blocks' }));
    const labels = svg.indexOf('<g class="cluster-labels">');
    expect(labels).toBeGreaterThan(svg.lastIndexOf('class="edge"'));
    const lifted = svg.slice(labels);
    expect(lifted).toMatch(
      /<text stroke-width="4" stroke-linejoin="round" fill="#f7f7f7" stroke="#f7f7f7" [^>]*>stage2<\/text>/,
    );
    expect(lifted.match(/>stage2<\/text>/g)).toHaveLength(2);
    for (const cluster of svg.slice(0, labels).matchAll(/<g id="clust\d+" class="cluster">[\s\S]*?<\/g>/g))
      expect(cluster[0]).not.toContain('<text');
  });

  it("the command's written-out choices are the library's", () => {
    expect(DRAW_DETAIL_CHOICES).toEqual(DRAW_DETAILS);
    expect(DRAW_FORMAT_CHOICES).toEqual(DRAW_FORMATS);
  });
});

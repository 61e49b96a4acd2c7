/**
 * Laying out and rendering the DOT of `dot.ts`: Graphviz (the WebAssembly build of @viz-js/viz) lays it out as
 * SVG, and resvg rasterizes that SVG to PNG with the font `findChartFont` finds, as the training curves are. Same
 * DOT, same SVG bytes; the PNG also depends on the font file found.
 */
import fs from 'node:fs';
import { instance, type Viz } from '@viz-js/viz';
import type { IrNetwork } from '../../compiler/ir.js';
import type { ChartFont } from '../fonts.js';
import { DRAW_FONT, networkDot, type DrawOptions } from './dot.js';
import { SVG_MARKER, withPngMarker } from './marker.js';

/** The formats `netspec draw` writes. */
export type DrawFormat = 'svg' | 'png' | 'dot';

/** The formats, as file name endings. */
export const DRAW_FORMATS: readonly DrawFormat[] = ['svg', 'png', 'dot'];

/** Options of {@link svgToDrawingPng}. */
export interface PngOptions {
  /** The font; default `findChartFont()` (with its bold face when one lies beside it). `null`: system fonts. */
  readonly font?: ChartFont | null;
  /** PNG pixels per SVG pixel (4/3 of a Graphviz point); default 2, less for pictures over {@link MAX_PIXELS}. */
  readonly pixelRatio?: number;
}

/** The most pixels a PNG gets (its scale shrinks to fit): 40 million, 160 MB of pixel buffer while rendering. */
export const MAX_PIXELS = 40_000_000;

/** The family list written into the SVG: DejaVu Sans (whose metrics Graphviz laid the text out with) first. */
const SVG_FONTS = `${DRAW_FONT}, Verdana, sans-serif`;

let viz: Promise<Viz> | undefined;

/** Lays out `dot` with Graphviz (dot engine) as SVG, marked as netspec's (see marker.ts). */
export async function layoutSvg(dot: string): Promise<string> {
  viz ??= instance();
  const svg = (await viz).renderString(dot, { format: 'svg', engine: 'dot' });
  const marked = svg.replace(/^(<\?xml[^>]*\?>)\r?\n/, `$1\n${SVG_MARKER}\n`);
  if (marked === svg) throw new Error('internal: Graphviz wrote no XML declaration');
  return liftClusterLabels(marked.replaceAll(`font-family="${DRAW_FONT}"`, `font-family="${SVG_FONTS}"`));
}

/**
 * Moves the text of every cluster's label to the end of the picture, drawn over a halo of the cluster's fill: an
 * edge that runs under a module's or block's name (Graphviz places labels without regard to edges) is then hidden
 * beneath the text instead of striking through it.
 */
export function liftClusterLabels(svg: string): string {
  const halos: string[] = [];
  const texts: string[] = [];
  const out = svg.replace(/<g id="clust\d+" class="cluster">[\s\S]*?<\/g>\n/g, (group) => {
    const fill = /<path fill="([^"]+)"/.exec(group)?.[1] ?? 'white';
    return group.replace(/<text [^>]*>[^<]*<\/text>\n/g, (text) => {
      // Every halo first, then every text: a line's halo never covers the line above it.
      const halo = text
        .replace(/ fill="[^"]*"/, '')
        .replace('<text ', `<text fill="${fill}" stroke="${fill}" `);
      halos.push(halo.replace('<text ', '<text stroke-width="4" stroke-linejoin="round" '));
      texts.push(text);
      return '';
    });
  });
  const end = out.lastIndexOf('</g>\n</svg>');
  if (end < 0 || texts.length === 0) return out;
  return `${out.slice(0, end)}<g class="cluster-labels">\n${halos.join('')}${texts.join('')}</g>\n${out.slice(end)}`;
}

/** The SVG's size in CSS pixels, from its `width`/`height` in points. */
function svgSize(svg: string): { width: number; height: number } {
  const size = (name: string): number => {
    const m = new RegExp(`<svg[^>]*\\s${name}="([\\d.]+)pt"`).exec(svg);
    return m ? (Number(m[1]) * 4) / 3 : 1000;
  };
  return { width: size('width'), height: size('height') };
}

/** The bold face of `font` when its file lies beside it (`DejaVuSans-Bold.ttf` beside `DejaVuSans.ttf`). */
function boldBeside(font: ChartFont): string | undefined {
  const bold = font.file.replace(/(-Regular)?\.ttf$/i, '-Bold.ttf');
  return bold !== font.file && fs.existsSync(bold) ? bold : undefined;
}

/** Rasterizes a drawing's SVG on white, with netspec's tEXt chunk (marker.ts). */
export async function svgToDrawingPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  // resvg loads only for a PNG.
  const { Resvg } = await import('@resvg/resvg-js');
  const font = options.font === undefined ? (await import('../fonts.js')).findChartFont() : options.font;
  const { width, height } = svgSize(svg);
  const ratio = Math.min(options.pixelRatio ?? 2, Math.sqrt(MAX_PIXELS / (width * height)));
  const bold = font ? boldBeside(font) : undefined;
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: ratio },
    background: 'white',
    font: font
      ? {
          loadSystemFonts: false,
          fontFiles: bold ? [font.file, bold] : [font.file],
          defaultFontFamily: font.family,
          sansSerifFamily: font.family,
        }
      : { loadSystemFonts: true },
    logLevel: 'off',
  });
  return withPngMarker(new Uint8Array(resvg.render().asPng()));
}

/** The picture of `ir` in `format`: DOT text, SVG text or PNG bytes. */
export async function drawNetwork(
  ir: IrNetwork,
  options: DrawOptions & { readonly format: DrawFormat; readonly png?: PngOptions },
): Promise<string | Uint8Array> {
  const dot = networkDot(ir, options);
  if (options.format === 'dot') return dot;
  const svg = await layoutSvg(dot);
  return options.format === 'svg' ? svg : svgToDrawingPng(svg, options.png);
}

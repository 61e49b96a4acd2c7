/**
 * Training curves as SVG and PNG: the seed's two plots of one run (train loss per step with dev loss at the
 * evaluation steps; dev accuracy at the evaluation steps), and overlays of several runs for comparisons.
 * Charts are vega-lite specs compiled to vega, rendered headless (`renderer: 'none'`) to SVG, and rasterized by
 * resvg. Same metrics, same SVG bytes; the PNG also depends on the font file found (see {@link findChartFont}).
 */
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunMetrics } from '../runtime/train/metrics.js';
import { findChartFont, type ChartFont } from './fonts.js';

export { findChartFont, type ChartFont } from './fonts.js';

/** The two charts of a run (or of a comparison), each as SVG text and PNG bytes. */
export interface CurveImages {
  readonly lossSvg: string;
  readonly lossPng: Uint8Array;
  readonly accuracySvg: string;
  readonly accuracyPng: Uint8Array;
}

/** A font file for the PNGs and the family name it provides. */
/** Options of the renderers. */
export interface CurveOptions {
  /** Prefix of the chart titles (e.g. the network name). */
  readonly title?: string;
  /** The font for the PNGs; default {@link findChartFont}(). `null` lets resvg search the system fonts. */
  readonly font?: ChartFont | null;
  /** PNG pixels per SVG unit; default 2. */
  readonly pixelRatio?: number;
}

/** One run among several in an overlay; runs with the same label are seeds of one variant. */
export interface OverlayRun {
  readonly label: string;
  readonly metrics: RunMetrics;
}

/** The statistics of one variant at one step: mean, min and max over the runs that have that step. */
export interface BandPoint {
  readonly variant: string;
  readonly step: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** How many runs contributed. */
  readonly n: number;
}

/**
 * The font family list written into every SVG. It is fixed (not the font found) so that the SVG is the same on
 * every machine; a browser picks the first it has, resvg the file it was given.
 */
const SVG_FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

const LOSS_TITLE = 'loss (cross-entropy, nats)';
const ACCURACY_TITLE = 'accuracy (fraction correct)';
const STEP_TITLE = 'step';
const SIZE = { width: 520, height: 280 } as const;
const BLUE = '#4c78a8';
const RED = '#e45756';
const PALETTE = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#b279a2',
  '#eeca3b',
  '#9d755d',
  '#ff9da6',
  '#bab0ac',
];

/** The rows of the loss chart: every step's train loss, and the dev loss of every evaluation. */
export function lossRows(
  metrics: RunMetrics,
): { step: number; loss: number; series: 'train loss' | 'dev loss' }[] {
  return [
    ...metrics.steps
      .filter((s) => finite(s.loss))
      .map((s) => ({ step: s.step, loss: s.loss, series: 'train loss' as const })),
    ...metrics.evaluations
      .filter((e) => finite(e.loss))
      .map((e) => ({ step: e.step, loss: e.loss, series: 'dev loss' as const })),
  ];
}

/** The rows of the accuracy chart: dev accuracy at every evaluation. */
export function accuracyRows(metrics: RunMetrics): { step: number; accuracy: number }[] {
  return metrics.evaluations.filter((e) => finite(e.score)).map((e) => ({ step: e.step, accuracy: e.score }));
}

/**
 * The step axis of charts of `runs`: from 0 to the planned number of steps (so a run's two charts, and charts of
 * runs that stopped early, share one scale), or to the last recorded step when that is later.
 */
function stepAxis(runs: readonly RunMetrics[]) {
  let end = 1;
  for (const m of runs) {
    if (finite(m.totalSteps)) end = Math.max(end, m.totalSteps);
    for (const s of m.steps) end = Math.max(end, s.step);
    for (const e of m.evaluations) end = Math.max(end, e.step);
  }
  return {
    field: 'step',
    type: 'quantitative' as const,
    title: STEP_TITLE,
    scale: { domain: [0, end] },
    axis: { format: 'd', tickMinStep: 1 },
  };
}

const fixed4 = (x: number): string => x.toFixed(4);

function titled(
  prefix: string | undefined,
  text: string,
  subtitle: string[],
): { text: string; subtitle?: string[]; anchor: 'start' } {
  return {
    text: prefix ? `${prefix}: ${text}` : text,
    ...(subtitle.length ? { subtitle } : {}),
    anchor: 'start',
  };
}

const BASE = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  ...SIZE,
  background: 'white',
  config: {
    font: SVG_FONT,
    legend: { orient: 'bottom', title: null, symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2 },
  },
} as const;

/** The vega-lite spec of a run's loss chart. */
export function lossChartSpec(metrics: RunMetrics, title?: string): TopLevelSpec {
  const rows = lossRows(metrics);
  const series = (['train loss', 'dev loss'] as const).filter((s) => rows.some((r) => r.series === s));
  const x = stepAxis([metrics]);
  const y = { field: 'loss', type: 'quantitative', title: LOSS_TITLE } as const;
  const color = {
    field: 'series',
    type: 'nominal',
    scale: { domain: series, range: PALETTE.slice(0, series.length) },
  } as const;
  return {
    ...BASE,
    title: titled(title, 'training and dev loss', rows.length ? [] : ['no steps recorded']),
    data: { values: rows },
    layer: [
      { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color } },
      {
        transform: [{ filter: "datum.series === 'dev loss'" }],
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x, y, color },
      },
    ],
  };
}

/** The vega-lite spec of a run's dev accuracy chart, with the best evaluation marked. */
export function accuracyChartSpec(metrics: RunMetrics, title?: string): TopLevelSpec {
  const rows = accuracyRows(metrics);
  const best = metrics.best && finite(metrics.best.score) ? metrics.best : null;
  const subtitle = [
    rows.length === 0
      ? 'no dev evaluations'
      : best
        ? `best dev accuracy ${fixed4(best.score)} at step ${best.step}`
        : 'no evaluation improved on 0',
    ...(metrics.test && finite(metrics.test.accuracy)
      ? [
          `test accuracy ${fixed4(metrics.test.accuracy)} (${metrics.test.model} model, ${metrics.test.count} images)`,
        ]
      : []),
  ];
  const x = stepAxis([metrics]);
  const y = {
    field: 'accuracy',
    type: 'quantitative' as const,
    title: ACCURACY_TITLE,
    scale: { domain: [0, 1] },
  };
  return {
    ...BASE,
    title: titled(title, 'dev accuracy', subtitle),
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 1.5, color: BLUE },
        encoding: { x, y },
      },
      {
        data: {
          values: best
            ? [{ step: best.step, accuracy: best.score, label: `best ${fixed4(best.score)}` }]
            : [],
        },
        layer: [
          {
            mark: { type: 'point', shape: 'diamond', filled: true, size: 120, color: RED },
            encoding: { x, y },
          },
          { mark: { type: 'text', dy: -12, color: RED }, encoding: { x, y, text: { field: 'label' } } },
        ],
      },
    ],
  };
}

/**
 * Per variant and step, the mean, min and max of `pick` over the runs of that variant that have the step.
 * Variants keep the order of their first run; steps ascend.
 */
export function aggregateRuns(
  runs: readonly OverlayRun[],
  pick: (metrics: RunMetrics) => readonly { step: number; value: number }[],
): BandPoint[] {
  const variants = new Map<string, Map<number, number[]>>();
  for (const run of runs) {
    let bySteps = variants.get(run.label);
    if (!bySteps) variants.set(run.label, (bySteps = new Map()));
    for (const { step, value } of pick(run.metrics)) {
      if (!finite(value)) continue;
      const values = bySteps.get(step);
      if (values) values.push(value);
      else bySteps.set(step, [value]);
    }
  }
  const out: BandPoint[] = [];
  for (const [variant, bySteps] of variants)
    for (const step of [...bySteps.keys()].sort((a, b) => a - b)) {
      const values = bySteps.get(step) ?? [];
      out.push({
        variant,
        step,
        mean: values.reduce((a, b) => a + b, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        n: values.length,
      });
    }
  return out;
}

const trainLoss = (m: RunMetrics) => m.steps.map((s) => ({ step: s.step, value: s.loss }));
const devAccuracy = (m: RunMetrics) => m.evaluations.map((e) => ({ step: e.step, value: e.score }));

function overlaySpec(
  runs: readonly OverlayRun[],
  points: BandPoint[],
  chart: { title: string; yTitle: string; domain?: [number, number]; markPoints: boolean },
  prefix: string | undefined,
): TopLevelSpec {
  const labels = [...new Set(runs.map((r) => r.label))];
  const seeds = labels.map((l) => runs.filter((r) => r.label === l).length);
  const many = seeds.some((n) => n > 1);
  // One short line per variant: vega sizes the canvas from an estimate of text width that runs long.
  const subtitle = many
    ? ['lines: mean over seeds; bands: min to max', ...labels.map((l, i) => `${l}: ${seeds[i]} runs`)]
    : [];
  const x = stepAxis(runs.map((r) => r.metrics));
  const scale = chart.domain ? { domain: chart.domain } : { zero: false };
  const y = { field: 'mean', type: 'quantitative', title: chart.yTitle, scale } as const;
  const color = {
    field: 'variant',
    type: 'nominal',
    scale: { domain: labels, range: PALETTE.slice(0, labels.length) },
  } as const;
  return {
    ...BASE,
    title: titled(prefix, chart.title, subtitle),
    data: { values: points },
    layer: [
      ...(many
        ? [
            {
              mark: { type: 'area', opacity: 0.18 },
              encoding: {
                x,
                y: { field: 'min', type: 'quantitative', title: chart.yTitle, scale },
                y2: { field: 'max' },
                color,
              },
            } as const,
          ]
        : []),
      {
        mark: {
          type: 'line',
          strokeWidth: 1.5,
          ...(chart.markPoints ? { point: { filled: true, size: 30 } } : {}),
        },
        encoding: { x, y, color },
      },
    ],
  } as TopLevelSpec;
}

/** The vega-lite spec of the train-loss overlay of several runs (mean per variant, min–max band). */
export function overlayLossSpec(runs: readonly OverlayRun[], title?: string): TopLevelSpec {
  return overlaySpec(
    runs,
    aggregateRuns(runs, trainLoss),
    { title: 'training loss', yTitle: LOSS_TITLE, markPoints: false },
    title,
  );
}

/** The vega-lite spec of the dev-accuracy overlay of several runs (mean per variant, min–max band). */
export function overlayAccuracySpec(runs: readonly OverlayRun[], title?: string): TopLevelSpec {
  return overlaySpec(
    runs,
    aggregateRuns(runs, devAccuracy),
    { title: 'dev accuracy', yTitle: ACCURACY_TITLE, domain: [0, 1], markPoints: true },
    title,
  );
}

/** Collects vega's log; errors throw (they are bugs in a spec built here), the rest is dropped: no printing. */
const quietLogger = {
  level(): number {
    return 0;
  },
  error(...args: unknown[]) {
    throw new Error(`internal: vega: ${args.map(String).join(' ')}`);
  },
  warn() {
    return this;
  },
  info() {
    return this;
  },
  debug() {
    return this;
  },
};

/** Renders a vega-lite spec to SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec, { logger: quietLogger }).spec;
  const view = new View(parse(vgSpec), { renderer: 'none', logger: quietLogger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG with resvg at `pixelRatio` pixels per unit, on white. */
export function svgToPng(svg: string, font: ChartFont | null, pixelRatio = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: pixelRatio },
    background: 'white',
    font: font
      ? {
          loadSystemFonts: false,
          fontFiles: [font.file],
          defaultFontFamily: font.family,
          sansSerifFamily: font.family,
        }
      : { loadSystemFonts: true },
    logLevel: 'off',
  });
  return new Uint8Array(resvg.render().asPng());
}

async function renderPair(
  lossSpec: TopLevelSpec,
  accuracySpec: TopLevelSpec,
  options: CurveOptions,
): Promise<CurveImages> {
  const font = options.font === undefined ? findChartFont() : options.font;
  const ratio = options.pixelRatio ?? 2;
  const lossSvg = await renderSvg(lossSpec);
  const accuracySvg = await renderSvg(accuracySpec);
  return {
    lossSvg,
    lossPng: svgToPng(lossSvg, font, ratio),
    accuracySvg,
    accuracyPng: svgToPng(accuracySvg, font, ratio),
  };
}

/** The two plots of one run: train loss per step with dev loss at evaluations, and dev accuracy. */
export async function renderCurves(metrics: RunMetrics, options: CurveOptions = {}): Promise<CurveImages> {
  return renderPair(
    lossChartSpec(metrics, options.title),
    accuracyChartSpec(metrics, options.title),
    options,
  );
}

/** Train loss and dev accuracy of several runs, one line per variant (mean over its seeds, min–max band). */
export async function overlayCurves(
  runs: readonly OverlayRun[],
  options: CurveOptions = {},
): Promise<CurveImages> {
  return renderPair(overlayLossSpec(runs, options.title), overlayAccuracySpec(runs, options.title), options);
}

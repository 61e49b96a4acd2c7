import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import {
  accuracyRows,
  aggregateRuns,
  findChartFont,
  lossRows,
  overlayCurves,
  renderCurves,
  renderSvg,
  lossChartSpec,
  type OverlayRun,
} from '../../src/reports/curves.js';
import type { RunMetrics } from '../../src/runtime/train/metrics.js';
import { syntheticMetrics } from './synthetic-metrics.js';

/** A small run stated by hand: 4 steps, evaluations at steps 2 and 3. */
function tinyRun(losses: number[], evals: { step: number; score: number; loss: number }[]): RunMetrics {
  const base = syntheticMetrics();
  let best = 0;
  const evaluations = evals.map((e) => {
    const improved = e.score > best;
    if (improved) best = e.score;
    return { ...e, epoch: 0, improved };
  });
  return {
    ...base,
    totalSteps: losses.length,
    steps: losses.map((loss, step) => ({ step, epoch: 0, loss, lr: 0.1 })),
    evaluations,
    best: null,
  };
}

/** PNG width and height from the IHDR chunk. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const svgSize = (svg: string) => {
  const m = /<svg[^>]* width="(\d+)" height="(\d+)"/.exec(svg);
  return { width: Number(m?.[1]), height: Number(m?.[2]) };
};

/** Text lines of the SVG: each <text> element, or each <tspan> line of a multi-line one. */
const texts = (svg: string) =>
  [...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].flatMap((m) => {
    const body = m[1] ?? '';
    return body.startsWith('<tspan')
      ? [...body.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1])
      : [body];
  });

describe('curve data', () => {
  it('takes every step for train loss and every evaluation for dev loss and accuracy, skipping non-finite values', () => {
    const m = tinyRun(
      [2.5, 2.0, Number.NaN, 1.25],
      [
        { step: 2, score: 0.5, loss: 1.5 },
        { step: 3, score: 0.625, loss: 1.375 },
      ],
    );
    expect(lossRows(m)).toEqual([
      { step: 0, loss: 2.5, series: 'train loss' },
      { step: 1, loss: 2.0, series: 'train loss' },
      { step: 3, loss: 1.25, series: 'train loss' },
      { step: 2, loss: 1.5, series: 'dev loss' },
      { step: 3, loss: 1.375, series: 'dev loss' },
    ]);
    expect(accuracyRows(m)).toEqual([
      { step: 2, accuracy: 0.5 },
      { step: 3, accuracy: 0.625 },
    ]);
  });

  it('aggregates runs per variant and step: mean, min, max over the runs that have the step', () => {
    const runs: OverlayRun[] = [
      { label: 'b', metrics: tinyRun([3, 2], []) },
      { label: 'a', metrics: tinyRun([1, 0.5, 0.25], []) },
      { label: 'a', metrics: tinyRun([2, 1.5], []) },
      // metrics.json writes NaN as null; such points are skipped, not averaged as 0
      { label: 'a', metrics: tinyRun([null as unknown as number, 1], []) },
    ];
    const points = aggregateRuns(runs, (m) => m.steps.map((s) => ({ step: s.step, value: s.loss })));
    expect(points).toEqual([
      { variant: 'b', step: 0, mean: 3, min: 3, max: 3, n: 1 },
      { variant: 'b', step: 1, mean: 2, min: 2, max: 2, n: 1 },
      { variant: 'a', step: 0, mean: 1.5, min: 1, max: 2, n: 2 },
      { variant: 'a', step: 1, mean: 1, min: 0.5, max: 1.5, n: 3 },
      { variant: 'a', step: 2, mean: 0.25, min: 0.25, max: 0.25, n: 1 },
    ]);
  });
});

describe('renderCurves', () => {
  const metrics = syntheticMetrics({ seed: 3 });

  it('draws the two seed plots with unit-labelled axes, the best point and the test result', async () => {
    const c = await renderCurves(metrics, { title: 'resnet18' });
    const lossTexts = texts(c.lossSvg);
    expect(lossTexts).toContain('resnet18: training and dev loss');
    expect(lossTexts).toContain('step');
    expect(lossTexts).toContain('loss (cross-entropy, nats)');
    expect(lossTexts).toEqual(expect.arrayContaining(['train loss', 'dev loss']));
    const accTexts = texts(c.accuracySvg);
    expect(accTexts).toContain('accuracy (fraction correct)');
    const best = metrics.best;
    if (!best || !metrics.test) throw new Error('synthetic run has no best or test');
    expect(accTexts).toContain(`best dev accuracy ${best.score.toFixed(4)} at step ${best.step}`);
    expect(accTexts).toContain(`test accuracy ${metrics.test.accuracy.toFixed(4)} (best model, 200 images)`);
    expect(accTexts).toContain(`best ${best.score.toFixed(4)}`);
    // the step axis runs 0..totalSteps on both charts
    expect(lossTexts).toEqual(expect.arrayContaining(['0', '80']));
    expect(accTexts).toEqual(expect.arrayContaining(['0', '80']));

    for (const [svg, png] of [
      [c.lossSvg, c.lossPng],
      [c.accuracySvg, c.accuracyPng],
    ] as const) {
      const s = svgSize(svg);
      expect(pngSize(png)).toEqual({ width: 2 * s.width, height: 2 * s.height });
    }
  });

  it('gives byte-identical SVG for the same metrics', async () => {
    const a = await renderCurves(metrics, { pixelRatio: 1 });
    const b = await renderCurves(structuredClone(metrics), { pixelRatio: 1 });
    expect(b.lossSvg).toBe(a.lossSvg);
    expect(b.accuracySvg).toBe(a.accuracySvg);
    expect(b.lossPng).toEqual(a.lossPng);
  });

  it('renders runs without evaluations or steps, saying so', async () => {
    const empty: RunMetrics = { ...metrics, steps: [], evaluations: [], best: null, test: null };
    const c = await renderCurves(empty, { pixelRatio: 1 });
    expect(texts(c.lossSvg)).toContain('no steps recorded');
    expect(texts(c.accuracySvg)).toContain('no dev evaluations');
  });

  it('draws label text into the PNG with the font it finds', async (ctx) => {
    const font = findChartFont();
    if (!font) ctx.skip('no known sans-serif font file (on Debian: apt-get install fonts-dejavu-core)');
    const svg = await renderSvg(lossChartSpec(metrics));
    // The y-axis title is the only thing in the leftmost 20 units; count its dark pixels with and without a font.
    const darkPixelsLeft = (fontFiles: string[]) => {
      const image = new Resvg(svg, {
        font: { loadSystemFonts: false, fontFiles, defaultFontFamily: font?.family ?? '' },
      }).render();
      const pixels = image.pixels; // a getter that copies the whole image: read it once
      let dark = 0;
      for (let y = 0; y < image.height; y++)
        for (let x = 0; x < 20; x++) {
          const i = 4 * (y * image.width + x);
          if ((pixels[i + 3] ?? 0) > 0 && (pixels[i] ?? 255) < 128) dark++;
        }
      return dark;
    };
    expect(darkPixelsLeft([])).toBe(0);
    expect(darkPixelsLeft([font?.file ?? ''])).toBeGreaterThan(100);
  });

  it('finds fonts from its candidate list only', () => {
    expect(findChartFont(() => false)).toBeNull();
    expect(findChartFont((f) => f.endsWith('LiberationSans-Regular.ttf'))).toEqual({
      file: '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
      family: 'Liberation Sans',
    });
  });
});

describe('overlayCurves', () => {
  it('draws one line per variant, in input order, with a min–max band when a variant has several seeds', async () => {
    const runs: OverlayRun[] = [0, 1, 2].flatMap((seed) => [
      { label: 'resnet18', metrics: syntheticMetrics({ seed }) },
      { label: 'resnet18-plain', metrics: syntheticMetrics({ seed: seed + 10, plateau: 0.8 }) },
    ]);
    const c = await overlayCurves(runs, { pixelRatio: 1 });
    for (const svg of [c.lossSvg, c.accuracySvg]) {
      const t = texts(svg);
      expect(t).toContain('lines: mean over seeds; bands: min to max');
      expect(t).toContain('resnet18: 3 runs');
      expect(t).toContain('resnet18-plain: 3 runs');
      expect(t.indexOf('resnet18')).toBeLessThan(t.indexOf('resnet18-plain'));
      expect(svg).toContain('mark-area');
    }
    expect(texts(c.lossSvg)).toContain('loss (cross-entropy, nats)');
    expect(texts(c.accuracySvg)).toContain('accuracy (fraction correct)');
  });

  it('draws no band with one run per variant', async () => {
    const c = await overlayCurves(
      [
        { label: 'a', metrics: syntheticMetrics({ seed: 0 }) },
        { label: 'b', metrics: syntheticMetrics({ seed: 1 }) },
      ],
      { pixelRatio: 1 },
    );
    expect(c.lossSvg).not.toContain('mark-area');
    expect(texts(c.lossSvg)).not.toContain('lines: mean over seeds; bands: min to max');
  });
});

/**
 * The confusion matrix of a split (rows: true class, columns: predicted class, as scikit-learn's
 * `confusion_matrix`) and its chart: a vega-lite heat map rendered to SVG and rasterized by resvg, as the loss and
 * accuracy curves are (`src/reports/curves.ts`).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartFont } from '../../reports/curves.js';

/**
 * Counts of (true class, predicted class): `matrix[t][p]` examples of class `t` were predicted as `p`. Throws a
 * RangeError for arrays of different lengths or a class outside 0..classes-1 (the caller's bug, not the user's).
 */
export function confusionMatrix(predictions: Int32Array, labels: Int32Array, classes: number): number[][] {
  if (!Number.isSafeInteger(classes) || classes < 1)
    throw new RangeError(`confusionMatrix: classes must be a positive integer, got ${classes}`);
  if (predictions.length !== labels.length)
    throw new RangeError(
      `confusionMatrix: ${predictions.length} predictions for ${labels.length} labels; they must match`,
    );
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i] as number;
    const p = predictions[i] as number;
    if (t < 0 || t >= classes || p < 0 || p >= classes)
      throw new RangeError(
        `confusionMatrix: example ${i} has label ${t} and prediction ${p}, expected 0..${classes - 1}`,
      );
    (matrix[t] as number[])[p] = ((matrix[t] as number[])[p] as number) + 1;
  }
  return matrix;
}

/** Options of the confusion chart. */
export interface ConfusionChartOptions {
  /** Prefix of the title (the network's name). */
  readonly title?: string;
  /** The classes' names in index order; default the indices. */
  readonly classNames?: readonly string[];
  /** What was evaluated, for the subtitle (`test split`). */
  readonly split?: string;
  /** The font for the PNG; default the curves' (`findChartFont`); null lets resvg search the system fonts. */
  readonly font?: ChartFont | null;
  /** PNG pixels per SVG unit; default 2. */
  readonly pixelRatio?: number;
}

/** The chart as SVG text and PNG bytes. */
export interface ConfusionImages {
  readonly svg: string;
  readonly png: Uint8Array;
}

/** The vega-lite spec of the heat map: one cell per (true, predicted) pair with its count written in it. */
export function confusionChartSpec(
  matrix: readonly (readonly number[])[],
  options: ConfusionChartOptions = {},
): TopLevelSpec {
  const classes = matrix.length;
  const names = Array.from({ length: classes }, (_, i) => options.classNames?.[i] ?? String(i));
  const rows = matrix.flatMap((row, t) =>
    row.map((count, p) => ({ true: names[t] as string, predicted: names[p] as string, count })),
  );
  const total = rows.reduce((n, r) => n + r.count, 0);
  const right = matrix.reduce((n, row, t) => n + (row[t] ?? 0), 0);
  const max = Math.max(1, ...rows.map((r) => r.count));
  const side = Math.max(240, Math.min(640, 32 * classes));
  const subtitle =
    `${total} examples${options.split ? ` of the ${options.split}` : ''}, ${right} right` +
    (total ? ` (accuracy ${(right / total).toFixed(4)})` : '') +
    '; rows: true class, columns: predicted class';
  const axis = (field: 'true' | 'predicted', title: string) =>
    ({ field, type: 'ordinal', sort: names, title, axis: { labelAngle: 0 } }) as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: side,
    height: side,
    background: 'white',
    config: { font: 'DejaVu Sans, Verdana, Arial, sans-serif', view: { stroke: null } },
    title: {
      text: options.title ? `${options.title}: confusion matrix` : 'confusion matrix',
      subtitle: [subtitle],
      anchor: 'start',
    },
    data: { values: rows },
    encoding: { x: axis('predicted', 'predicted class'), y: axis('true', 'true class') },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          color: {
            field: 'count',
            type: 'quantitative',
            title: 'examples',
            legend: { format: 'd', tickMinStep: 1 },
            scale: { scheme: 'blues', domain: [0, max] },
          },
        },
      },
      {
        mark: { type: 'text', fontSize: classes > 20 ? 7 : 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

/** Draws `matrix` as SVG and PNG (vega-lite, rendered and rasterized as the training curves are). */
export async function renderConfusion(
  matrix: readonly (readonly number[])[],
  options: ConfusionChartOptions = {},
): Promise<ConfusionImages> {
  // The renderer loads vega and resvg: only when a chart is drawn.
  const { findChartFont, renderSvg, svgToPng } = await import('../../reports/curves.js');
  const svg = await renderSvg(confusionChartSpec(matrix, options));
  const font = options.font === undefined ? findChartFont() : options.font;
  return { svg, png: svgToPng(svg, font, options.pixelRatio ?? 2) };
}

/** The confusion matrix against a hand-computed one, and its chart's structure (SVG) and PNG. */
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  confusionChartSpec,
  confusionMatrix,
  renderConfusion,
} from '../../../src/runtime/session/confusion.js';

describe('confusionMatrix', () => {
  it('counts (true, predicted) pairs: rows are true classes, as scikit-learn', () => {
    //                 example: 0  1  2  3  4  5  6
    const labels = Int32Array.of(0, 1, 1, 2, 0, 0, 2);
    const predictions = Int32Array.of(0, 1, 2, 2, 1, 0, 2);
    // By hand: class 0 was predicted 0, 1, 0; class 1 was 1, 2; class 2 was 2, 2.
    expect(confusionMatrix(predictions, labels, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 2],
    ]);
    expect(confusionMatrix(new Int32Array(0), new Int32Array(0), 2)).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('refuses mismatched lengths and classes out of range', () => {
    expect(() => confusionMatrix(Int32Array.of(0), Int32Array.of(0, 1), 2)).toThrow(
      '1 predictions for 2 labels',
    );
    expect(() => confusionMatrix(Int32Array.of(0, 3), Int32Array.of(0, 1), 3)).toThrow(
      'example 1 has label 1 and prediction 3, expected 0..2',
    );
    expect(() => confusionMatrix(Int32Array.of(), Int32Array.of(), 0)).toThrow(RangeError);
  });
});

describe('the confusion chart', () => {
  const matrix = [
    [2, 1, 0],
    [0, 1, 1],
    [0, 0, 2],
  ];

  it('has one cell per pair, in class order, and says what it counts', () => {
    const spec = confusionChartSpec(matrix, {
      classNames: ['cat', 'dog', 'fox'],
      title: 'net',
      split: 'test split',
    });
    const values = (spec.data as { values: { true: string; predicted: string; count: number }[] }).values;
    expect(values).toHaveLength(9);
    expect(values[1]).toEqual({ true: 'cat', predicted: 'dog', count: 1 });
    expect(spec.title).toEqual({
      text: 'net: confusion matrix',
      subtitle: [
        '7 examples of the test split, 5 right (accuracy 0.7143); rows: true class, columns: predicted class',
      ],
      anchor: 'start',
    });
  });

  it('renders an SVG with 9 cells, the counts, the class names and the axis titles, and a PNG of it', async () => {
    const { svg, png } = await renderConfusion(matrix, { classNames: ['cat', 'dog', 'fox'], title: 'net' });
    expect(svg.startsWith('<svg')).toBe(true);
    // vega draws each cell as a path labelled with its pair and count.
    expect(svg.match(/aria-roledescription="rect mark"/g)).toHaveLength(9);
    expect(svg).toContain('aria-label="predicted class: dog; true class: cat; examples: 1"');
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const word of ['cat', 'dog', 'fox', 'predicted class', 'true class', 'net: confusion matrix'])
      expect(texts).toContain(word);
    // The cells' counts come first, row by row.
    expect(texts.slice(0, 9)).toEqual(matrix.flat().map(String));
    const image = PNG.sync.read(Buffer.from(png));
    expect(image.width).toBeGreaterThan(200);
    expect(image.height).toBeGreaterThan(200);
    // The same matrix gives the same SVG, but for the id vega numbers its legend gradients with, process-wide.
    const again = (await renderConfusion(matrix, { classNames: ['cat', 'dog', 'fox'], title: 'net' })).svg;
    const unnumbered = (text: string): string => text.replace(/gradient_\d+/g, 'gradient');
    expect(unnumbered(again)).toBe(unnumbered(svg));
  });
});

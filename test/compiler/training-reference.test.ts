import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainingReference, withTrainingReference } from '../../src/compiler/training-reference.js';
import { TRAINING_SETTINGS } from '../../src/training-settings.js';

describe('docs/language.md: the table of training settings', () => {
  const doc = fs.readFileSync('docs/language.md', 'utf8');

  it('is the one written from the settings table (scripts/generate.sh rewrites it)', () => {
    expect(doc).toContain(trainingReference());
    expect(withTrainingReference(doc)).toBe(doc);
  });

  it('lists every key once, with its default', () => {
    const rows = trainingReference()
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    expect(rows.map((r) => /^\| `([^`]+)`/.exec(r)?.[1])).toEqual(TRAINING_SETTINGS.map((d) => d.key));
    expect(rows.find((r) => r.startsWith('| `epochs`'))).toBe(
      '| `epochs` | integer | ≥ 1 | `5` | training epochs |',
    );
    expect(rows.find((r) => r.startsWith('| `data`'))).toContain('mnist-sample \\| idx:DIR');
  });
});

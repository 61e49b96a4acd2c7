import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { layerReference } from '../../../src/compiler/ops/reference.js';
import { LAYERS, MERGES } from '../../../src/compiler/ops/index.js';
import { MERGE_WORDS } from '../../../src/parser/ast.js';

describe('docs/layers.md', () => {
  it('is the reference written from the definitions (npm run generate rewrites it)', () => {
    expect(fs.readFileSync('docs/layers.md', 'utf8')).toBe(layerReference());
  });
  it('documents every layer kind and merge with each of its arguments', () => {
    const text = layerReference();
    for (const d of [...Object.values(LAYERS), ...Object.values(MERGES)]) {
      expect(text).toContain(`### \`${d.name}\``);
      for (const a of d.args) expect(text).toContain(`| \`${a.name}\``);
    }
  });
});

describe('the merge words of the YAML front end', () => {
  it('are the compiler merges', () => expect([...MERGE_WORDS].sort()).toEqual(Object.keys(MERGES).sort()));
});

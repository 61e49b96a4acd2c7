import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParseResult } from '../../src/parser/ast.js';
import { parseYaml } from '../../src/parser/yaml/index.js';

const CANON = readFileSync(new URL('../../specs/resnet18.yaml', import.meta.url), 'utf8');
const PLAIN = readFileSync(new URL('../../specs/resnet18-plain.yaml', import.meta.url), 'utf8');

/** Parses without throwing, and every diagnostic's span lies inside the text. */
function checkTotal(text: string): ParseResult {
  const r = parseYaml(text, 'fuzz.yaml');
  for (const d of r.diagnostics) {
    expect(typeof d.message).toBe('string');
    if (!d.span) continue;
    expect(d.span.offset).toBeGreaterThanOrEqual(0);
    expect(d.span.endOffset).toBeGreaterThanOrEqual(d.span.offset);
    expect(d.span.endOffset).toBeLessThanOrEqual(text.length);
    expect(d.span.line).toBeGreaterThanOrEqual(1);
    expect(d.span.col).toBeGreaterThanOrEqual(1);
  }
  expect(r.ast === undefined || !r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  return r;
}

/** A random edit of `base`: delete, duplicate or insert a YAML-significant snippet at some position. */
const mutation = (base: string) =>
  fc
    .tuple(
      fc.nat({ max: base.length }),
      fc.nat({ max: 40 }),
      fc.constantFrom(
        '',
        ':',
        '- ',
        '[',
        ']',
        '{',
        '}',
        ',',
        '\n',
        '  ',
        '\t',
        '$',
        '&a ',
        '*a',
        '"',
        "'",
        '#',
        '.nan',
        '__proto__: 1\n',
        '? ',
        '!!int ',
      ),
    )
    .map(([at, len, insert]) => base.slice(0, at) + insert + base.slice(Math.min(base.length, at + len)));

describe('parseYaml never throws', () => {
  it('on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => void checkTotal(s)),
      { numRuns: 300 },
    );
  });

  it('on random YAML-ish text', () => {
    const piece = fc.constantFrom(
      'netspec: 1\n',
      'name: x\n',
      'input: [',
      ']',
      '\n',
      '  - ',
      'modules:',
      ' relu',
      'conv: {',
      '}',
      '$a',
      ': ',
      '&x ',
      '*x',
      '"',
      '- ',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => void checkTotal(parts.join(''))),
      { numRuns: 300 },
    );
  });

  it('on mutated canonical specs', () => {
    fc.assert(
      fc.property(mutation(CANON), (s) => void checkTotal(s)),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(mutation(PLAIN), (s) => void checkTotal(s)),
      { numRuns: 50 },
    );
  });

  it('on doubly mutated canonical specs', () => {
    fc.assert(
      fc.property(
        mutation(CANON).chain((s) => mutation(s)),
        (s) => void checkTotal(s),
      ),
      { numRuns: 100 },
    );
  });

  it('on deeply nested collections', () => {
    const nested = (n: number) =>
      `netspec: 1\nname: n\ninput: [1]\nmodules: []\nparams: {a: ${'['.repeat(n)}${']'.repeat(n)}}\n`;
    expect(checkTotal(nested(150)).diagnostics.map((d) => d.code)).toEqual(['TOO_LARGE']);
    // Refused by the pre-scan, at the first bracket too many (the 101st level), before yaml builds anything.
    expect(
      checkTotal(nested(3000)).diagnostics.map((d) => `${d.code} ${d.span?.line}:${d.span?.col}`),
    ).toEqual(['TOO_LARGE 5:112']);
  });
});

/**
 * The whole compile (read, parse, resolve `extends`, lower, infer shapes, count parameters) on randomly mutated
 * canonical specs in both formats: only diagnostics, never an exception or a hang; every position lies inside
 * the file it names, with line and column agreeing with the offset; an IR exactly when there is no error.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSpec, type CompileResult } from '../../src/compiler/index.js';
import { LineMap } from '../../src/diagnostics.js';

const runs = Number(process.env['FC_RUNS'] ?? 100);
const SPECS = fs
  .readdirSync('specs')
  .filter((f) => /\.(yaml|net)$/.test(f))
  .sort()
  .map((f) => path.join('specs', f));
const TEXTS = new Map(SPECS.map((f) => [f, fs.readFileSync(f, 'utf8')]));

/** Compiles `file` with its text replaced by `text` (files it extends come from disk), checking every promise. */
function checkCompile(file: string, text: string, set: readonly string[] = []): CompileResult {
  const host = {
    readFile: (f: string) => (f === file ? text : fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : undefined),
  };
  const start = performance.now();
  const result = compileSpec(file, host, { set });
  expect(performance.now() - start).toBeLessThan(5000);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  expect(result.ir === undefined).toBe(errors.length > 0);
  for (const d of result.diagnostics) {
    expect(d.message.length).toBeGreaterThan(0);
    expect(d.message).not.toMatch(/\bNaN\b|undefined|\[object Object\]/);
    if (!d.span) continue;
    const source = result.sources.get(d.span.file);
    expect(source, `diagnostic ${d.code} names ${d.span.file}, which was not read`).toBeDefined();
    if (source === undefined) continue;
    expect(d.span.offset).toBeGreaterThanOrEqual(0);
    expect(d.span.endOffset).toBeGreaterThanOrEqual(d.span.offset);
    expect(d.span.endOffset).toBeLessThanOrEqual(source.length);
    const again = new LineMap(d.span.file, source).span(d.span.offset);
    expect([d.span.line, d.span.col]).toEqual([again.line, again.col]);
  }
  if (result.ir) expect(result.ir.nodes.length).toBeGreaterThan(0);
  return result;
}

const NUMBERS = [
  '0',
  '-1',
  '2.5',
  '1e309',
  '1000000000',
  '99999999999999999999',
  '.nan',
  '-.inf',
  '3 / 0',
  '$nope',
];
const YAML_BITS = [
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
  '&a ',
  '*a',
  '"',
  '#',
  '__proto__: 1\n',
  'repeat: 100000000',
  'name: x',
  '!!int ',
];
const DSL_BITS = [
  '',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  ';',
  '=',
  '*',
  '* 100000000',
  '@',
  '"',
  '\n',
  'module',
  'block',
  'x',
  'conv(',
  'constructor = ',
  '//',
  '/*',
];

/** One random edit of a canonical spec: replace a number, or delete a range and insert a snippet there. */
function mutation(file: string) {
  const text = TEXTS.get(file) ?? '';
  const numbers = [...text.matchAll(/\d+/g)].map((m) => [m.index, m[0].length] as const);
  const bits = file.endsWith('.net') ? DSL_BITS : YAML_BITS;
  return fc.oneof(
    fc
      .tuple(fc.nat({ max: Math.max(0, numbers.length - 1) }), fc.constantFrom(...NUMBERS))
      .map(([i, value]) => {
        const [at, len] = numbers[i] ?? [0, 0];
        return text.slice(0, at) + value + text.slice(at + len);
      }),
    fc
      .tuple(fc.nat({ max: text.length }), fc.nat({ max: 30 }), fc.constantFrom(...bits))
      .map(([at, len, insert]) => text.slice(0, at) + insert + text.slice(Math.min(text.length, at + len))),
  );
}

const mutated = (ext: string) =>
  fc
    .constantFrom(...SPECS.filter((f) => f.endsWith(ext)))
    .chain((file) => fc.tuple(fc.constant(file), fc.array(mutation(file), { minLength: 1, maxLength: 1 })));

describe('compileSpec never throws and keeps every position inside its file', () => {
  it('covers every canonical spec in both formats', () => {
    expect(SPECS.filter((f) => f.endsWith('.yaml')).length).toBeGreaterThanOrEqual(7);
    expect(SPECS.filter((f) => f.endsWith('.net')).length).toBeGreaterThanOrEqual(7);
    for (const f of SPECS) expect(checkCompile(f, TEXTS.get(f) ?? '').diagnostics).toEqual([]);
  });

  it('on mutated YAML specs', () => {
    fc.assert(
      fc.property(mutated('.yaml'), ([file, [text]]) => void checkCompile(file, text ?? '')),
      { numRuns: runs },
    );
  });

  it('on mutated DSL specs', () => {
    fc.assert(
      fc.property(mutated('.net'), ([file, [text]]) => void checkCompile(file, text ?? '')),
      { numRuns: runs },
    );
  });

  it('on canonical specs with random --set values', () => {
    const assignment = fc
      .tuple(
        fc.constantFrom('in_channels', 'num_classes', 'residual', 'width', 'nope', '__proto__', ''),
        fc.constantFrom(...NUMBERS, 'true', 'false', 'abc', ''),
      )
      .map(([k, v]) => `${k}=${v}`);
    fc.assert(
      fc.property(fc.constantFrom(...SPECS), fc.array(assignment, { maxLength: 3 }), (file, set) => {
        checkCompile(file, TEXTS.get(file) ?? '', set);
      }),
      { numRuns: runs },
    );
  });
});

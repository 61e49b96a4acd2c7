/**
 * Weight maps on RE2: the shipped maps rename exactly as they did with JavaScript's RegExp, a pattern that makes
 * a backtracking engine explode runs in linear time, what RE2 cannot run is an error at its position, and the
 * map's size, its rules and the names they produce are bounded.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileIr } from '../../support/compile.js';
import type { DecodedSafetensors } from '../../../src/runtime/weights/safetensors.js';
import {
  applyRenameRules,
  importStateDict,
  MAP_LIMITS,
  parseWeightMap,
  renameTensor,
} from '../../../src/runtime/weights/state-dict-io.js';

const MAPS = fs
  .readdirSync('maps')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => `maps/${f}`);

/** The state-dict names of torchvision's resnet18 and of the NNDL seed's Model_ResNet18 (with its shortcuts). */
function foreignNames(): string[] {
  const bn = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];
  const names = ['conv1.weight', ...bn.map((p) => `bn1.${p}`), 'fc.weight', 'fc.bias'];
  for (let layer = 1; layer <= 4; layer++)
    for (let block = 0; block < 2; block++) {
      const at = `layer${layer}.${block}`;
      names.push(`${at}.conv1.weight`, `${at}.conv2.weight`);
      for (const b of ['bn1', 'bn2']) names.push(...bn.map((p) => `${at}.${b}.${p}`));
      if (layer > 1 && block === 0)
        names.push(`${at}.downsample.0.weight`, ...bn.map((p) => `${at}.downsample.1.${p}`));
    }
  names.push(
    'net.0.0.weight',
    'net.0.0.bias',
    ...bn.map((p) => `net.0.1.${p}`),
    'net.7.weight',
    'net.7.bias',
  );
  for (let stage = 1; stage <= 4; stage++)
    for (let block = 0; block < 2; block++)
      for (const part of ['conv1', 'conv2', 'bn1', 'bn2', 'shortcut', 'bn3'])
        names.push(`net.${stage}.${block}.${part}.weight`, `net.${stage}.${block}.${part}.bias`);
  return names;
}

/** What a map did before RE2: JavaScript RegExp with the global flag, String.prototype.replace. */
function jsRename(file: string): { rename: (n: string) => string; ignored: (n: string) => boolean } {
  const raw = parse(fs.readFileSync(file, 'utf8')) as {
    rename: { from: string; to: string }[];
    ignore?: string[];
  };
  const rules = raw.rename.map((r) => ({ from: new RegExp(r.from, 'g'), to: r.to }));
  const ignore = (raw.ignore ?? []).map((p) => new RegExp(p));
  return {
    rename: (n) => rules.reduce((s, r) => s.replace(r.from, r.to), n),
    ignored: (n) => ignore.some((r) => r.test(n)),
  };
}

/** A safetensors file as decoded, with one float tensor per name. */
function fileOf(names: readonly string[]): DecodedSafetensors {
  return {
    metadata: {},
    tensors: new Map(names.map((n) => [n, { dtype: 'F32', shape: [1], data: new Float32Array(1) }])),
  } as DecodedSafetensors;
}

const lenet = compileIr('specs/lenet5.yaml');

describe('the shipped maps on RE2', () => {
  it.each(MAPS)('%s: parses cleanly and renames and ignores real names exactly as RegExp did', (file) => {
    const map = parseWeightMap(fs.readFileSync(file, 'utf8'), file);
    expect(map.diagnostics).toEqual([]);
    expect(map.rules.length).toBeGreaterThan(0);
    const js = jsRename(file);
    let changed = 0;
    for (const name of foreignNames()) {
      expect(renameTensor(name, map.rules), name).toBe(js.rename(name));
      expect(
        map.ignore.some((r) => r.test(name)),
        name,
      ).toBe(js.ignored(name));
      if (js.rename(name) !== name) changed += 1;
    }
    expect(changed).toBeGreaterThan(10); // the names do exercise the rules
  });

  it.each(MAPS)('%s: the same results as RegExp on random names made of its pieces', (file) => {
    const map = parseWeightMap(fs.readFileSync(file, 'utf8'), file);
    const js = jsRename(file);
    const piece = fc.constantFrom(
      'net',
      'conv1',
      'bn1',
      'fc',
      'layer1',
      'downsample',
      'shortcut',
      'bn3',
      '0',
      '1',
      '4',
      '7',
      '.',
      '..',
      'weight',
      'x',
      '$1',
      '\u00e9',
      '',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const name = pieces.join('');
        expect(renameTensor(name, map.rules)).toBe(js.rename(name));
        expect(map.ignore.some((r) => r.test(name))).toBe(js.ignored(name));
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});

describe('patterns that would backtrack catastrophically', () => {
  it('^(a+)+b$ against a 34-character name finishes at once (the name is then reported as unused)', () => {
    const text = "rename:\n  - {from: '^(a+)+b$', to: 'x'}\nignore: ['(x+x+)+y']\n";
    const map = parseWeightMap(text, 'evil.yaml');
    expect(map.diagnostics).toEqual([]);
    const name = 'a'.repeat(34);
    const started = performance.now();
    const { diagnostics } = importStateDict(fileOf([name, 'x'.repeat(40)]), map, lenet, 'w.safetensors');
    expect(performance.now() - started).toBeLessThan(500);
    expect(diagnostics.map((d) => d.message)).toContain(
      `w.safetensors: tensor '${name}' is not used by 'lenet5'`,
    );
  });
});

describe('what RE2 cannot run is an error at its position', () => {
  it.each([
    ['a backreference', '(a)\\1', 'invalid escape sequence'],
    ['a lookahead', 'a(?=b)', 'invalid or unsupported Perl syntax'],
    ['a negative lookahead', 'a(?!b)', 'invalid or unsupported Perl syntax'],
    ['a syntax error', '[ab', 'missing closing ]'],
  ])('%s', (_, pattern, why) => {
    const text = `rename:\n  - {from: '^net\\.', to: ''}\n  - {from: '${pattern}', to: 'x'}\n`;
    const { diagnostics, rules } = parseWeightMap(text, 'm.yaml');
    expect(rules).toHaveLength(1);
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0];
    expect(d?.code).toBe('BAD_VALUE');
    expect(d?.message).toContain(`invalid regular expression: error parsing regexp: ${why}`);
    expect(d?.hint).toBe(
      'patterns run on RE2 (linear-time matching): backreferences and lookaround are not supported',
    );
    expect(d?.span).toMatchObject({
      file: 'm.yaml',
      line: 3,
      col: (text.split('\n')[2]?.indexOf("'") ?? 0) + 1,
    });
  });

  it('an ignore pattern too', () => {
    const { diagnostics } = parseWeightMap("rename: []\nignore:\n  - '(?<=a)b'\n", 'm.yaml');
    expect(diagnostics.map((d) => [d.code, d.span?.line, d.span?.col])).toEqual([['BAD_VALUE', 3, 5]]);
  });
});

describe('bounds', () => {
  it('refuses a map file over the size limit without parsing it', () => {
    const text = `rename: []\n# ${'x'.repeat(MAP_LIMITS.chars)}\n`;
    const { diagnostics } = parseWeightMap(text, 'big.yaml');
    expect(diagnostics).toEqual([
      {
        code: 'TOO_LARGE',
        severity: 'error',
        message: `big.yaml: ${text.length} characters; a weight map may have at most ${MAP_LIMITS.chars}`,
      },
    ]);
  });

  it('refuses too many rules or ignore patterns, at the list', () => {
    const rules = Array.from({ length: MAP_LIMITS.rules + 1 }, (_, i) => `  - {from: 'a${i}', to: b}`);
    const many = parseWeightMap(`rename:\n${rules.join('\n')}\n`, 'm.yaml');
    expect(many.rules).toEqual([]);
    expect(many.diagnostics.map((d) => [d.code, d.message, d.span?.line])).toEqual([
      ['TOO_LARGE', `${MAP_LIMITS.rules + 1} rename rules; a weight map may have at most 1000`, 2],
    ]);
    const ignores = Array.from({ length: MAP_LIMITS.rules + 1 }, (_, i) => `  - 'a${i}'`);
    const manyIgnores = parseWeightMap(`rename: []\nignore:\n${ignores.join('\n')}\n`, 'm.yaml');
    expect(manyIgnores.diagnostics.map((d) => [d.code, d.span?.line])).toEqual([['TOO_LARGE', 3]]);
  });

  it('refuses an overlong pattern or replacement, at it', () => {
    const long = 'a'.repeat(MAP_LIMITS.patternChars + 1);
    const { diagnostics } = parseWeightMap(
      `rename:\n  - {from: '${long}', to: b}\n  - {from: a, to: '${long}'}\n`,
      'm.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.message, d.span?.line])).toEqual([
      ['TOO_LARGE', `a pattern of ${long.length} characters; at most ${MAP_LIMITS.patternChars}`, 2],
      ['TOO_LARGE', `a replacement of ${long.length} characters; at most ${MAP_LIMITS.replacementChars}`, 3],
    ]);
  });

  it('stops rules that match the empty string from multiplying a name, naming the rule and the tensor', () => {
    const to = 'x'.repeat(200);
    const text = `rename:\n  - {from: '^conv', to: c}\n  - {from: '', to: '${to}'}\n  - {from: '', to: '${to}'}\n`;
    const map = parseWeightMap(text, 'm.yaml');
    expect(map.diagnostics).toEqual([]);
    // 'c1.weight' (9 characters) gets 200 characters at each of its 10 positions.
    expect(applyRenameRules('conv1.weight', map.rules)).toEqual({ overflow: 1, length: 9 + 10 * 200 });
    const { diagnostics, dict } = importStateDict(fileOf(['conv1.weight']), map, lenet, 'w.safetensors');
    expect(dict.size).toBe(0);
    expect(diagnostics[0]?.message).toBe(
      `w.safetensors: rename rule 2 makes tensor 'conv1.weight' ${9 + 10 * 200} characters long; ` +
        `a renamed name may have at most ${MAP_LIMITS.nameChars}`,
    );
    expect(() => renameTensor('conv1.weight', map.rules)).toThrow('rename rule 2 makes');
  });
});

describe('shapes that differ only by axes of size 1', () => {
  const ir = compileIr('u.net', {
    'u.net':
      'network u {\n  input [4, 2, 2]\n  module m { conv(3, kernel = 1, bias = false); flatten(); linear(2, bias = false) }\n}\n',
  });
  const file = (shapes: Record<string, number[]>): DecodedSafetensors => ({
    metadata: {},
    tensors: new Map(
      Object.entries(shapes).map(([name, shape]) => [
        name,
        {
          dtype: 'F32',
          shape,
          data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
        },
      ]),
    ),
  });
  const noMap = parseWeightMap('rename: []\n', 'none.yaml');

  it('are the same elements in the same order: imported under the network shape', () => {
    // A linear's [out, in] weight as the 1x1 convolution, and the linear's [2, 12] with a leading 1.
    const { dict, diagnostics } = importStateDict(
      file({ 'm.0.weight': [3, 4], 'm.2.weight': [1, 2, 12] }),
      noMap,
      ir,
      'w.safetensors',
    );
    expect(diagnostics).toEqual([]);
    expect(dict.get('m.0.weight')?.shape).toEqual([3, 4, 1, 1]);
    expect(Array.from(dict.get('m.0.weight')?.data ?? [])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(dict.get('m.2.weight')?.shape).toEqual([2, 12]);
  });
  it('any other difference is a mismatch naming both shapes', () => {
    const { diagnostics } = importStateDict(
      file({ 'm.0.weight': [4, 3, 1, 1], 'm.2.weight': [2, 12] }),
      noMap,
      ir,
      'w.safetensors',
    );
    expect(diagnostics.map((d) => d.message)).toEqual([
      "w.safetensors: tensor 'm.0.weight' has shape [4, 3, 1, 1], the network needs [3, 4, 1, 1]",
    ]);
  });
});

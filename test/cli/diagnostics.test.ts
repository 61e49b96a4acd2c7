/**
 * Golden diagnostics: every folder in test/fixtures/diagnostics holds a bad spec (`spec.yaml` or `spec.net`),
 * optionally `set.txt` (one --set assignment per line), and `expected.txt`: exactly what `netspec check` prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { error, LineMap } from '../../src/diagnostics.js';
import { renderDiagnostics } from '../../src/cli/render.js';
import { expectGolden } from '../support/golden.js';
import { cli } from '../support/cli.js';

const root = 'test/fixtures/diagnostics';
const cases = fs
  .readdirSync(root)
  .filter((d) => fs.statSync(path.join(root, d)).isDirectory())
  .sort();

describe('diagnostics of bad specs', () => {
  it('has the cases the language promises', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    it(name, async () => {
      const dir = path.join(root, name);
      const spec = fs.existsSync(path.join(dir, 'spec.yaml'))
        ? path.join(dir, 'spec.yaml')
        : path.join(dir, 'spec.net');
      const setFile = path.join(dir, 'set.txt');
      const sets = fs.existsSync(setFile)
        ? fs
            .readFileSync(setFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .flatMap((s) => ['--set', s])
        : [];
      const run = await cli('check', spec, ...sets);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(/\n\s+at /); // never a stack trace
      expect(run.stderr).toMatch(/^\S+:\d+:\d+: error [A-Z_]+: /m);
      expectGolden(path.join(dir, 'expected.txt'), run.stderr);
    });
  }
});

describe('canonical specs', () => {
  const specs = fs
    .readdirSync('specs')
    .filter((f) => /\.(ya?ml|net)$/.test(f))
    .sort();
  for (const spec of specs)
    it(`${spec} passes check`, async () => {
      const run = await cli('check', path.join('specs', spec));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    });
});

describe('rendering bounds what it prints (items 26, 30, 35)', () => {
  const at = (file: string, text: string, offset: number, length: number, message = 'bad'): string => {
    const span = new LineMap(file, text).span(offset, offset + length);
    return renderDiagnostics([error('BAD_VALUE', message, span)], new Map([[file, text]]));
  };

  it('shows a window of at most 120 columns around the span of a 1.2M-character line, caret under it', () => {
    const line = `${'a'.repeat(600_000)}XYZ${'b'.repeat(600_000)}`;
    const out = at('long.yaml', `k: 1\n${line}\n`, 5 + 600_000, 3);
    expect(out.length).toBeLessThan(400);
    const [, source = '', caret = ''] = out.split('\n');
    expect(source).toBe(`2 | …${'a'.repeat(40)}XYZ${'b'.repeat(77)}…`);
    expect(caret.indexOf('^')).toBe(source.indexOf('XYZ'));
    expect(caret.trimEnd().endsWith('^^^')).toBe(true);
  });

  it('cuts a span that runs past the window, and a window at the end of a line has no trailing mark', () => {
    const text = `${'x'.repeat(1000)}`;
    const whole = at('w.net', text, 0, 1000).split('\n');
    expect(whole[1]).toBe(`1 | ${'x'.repeat(120)}…`);
    expect(whole[2]).toBe(`  | ${'^'.repeat(120)}`);
    const end = at('w.net', text, 1000, 0).split('\n');
    expect(end[1]).toBe(`1 | …${'x'.repeat(120)}`);
    expect(end[2]?.indexOf('^')).toBe(end[1]?.length);
  });

  it('bounds a message that quotes a megabyte, whatever the caller did', () => {
    const out = at('m.yaml', 'k: 1\n', 0, 1, `unknown layer '${'a'.repeat(1_000_000)}'`);
    expect(out.length).toBeLessThan(2300);
  });

  it('CR-only and CRLF files: the right line, and no raw CR in the output', () => {
    for (const eol of ['\r', '\r\n']) {
      const text = ['a: 1', 'b: 2', 'bad: 3'].join(eol) + eol;
      const out = at('cr.yaml', text, text.indexOf('bad'), 3);
      expect(out).toBe('cr.yaml:3:1: error BAD_VALUE: bad\n3 | bad: 3\n  | ^^^\n');
    }
  });

  it('a byte-order mark is neither counted as a column nor printed', () => {
    const text = '\uFEFFbad: 1\n';
    expect(at('bom.yaml', text, 1, 3)).toBe('bom.yaml:1:1: error BAD_VALUE: bad\n1 | bad: 1\n  | ^^^\n');
  });

  it('control characters in a source line are shown as spaces, so the caret stays under its column', () => {
    const out = at('c.net', 'a\tb\u001b[31mc', 8, 1);
    expect(out).toBe('c.net:1:9: error BAD_VALUE: bad\n1 | a b [31mc\n  |         ^\n');
  });
});

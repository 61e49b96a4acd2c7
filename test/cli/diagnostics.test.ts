/**
 * Golden diagnostics: every folder in test/fixtures/diagnostics holds a bad spec (`spec.yaml` or `spec.net`),
 * optionally `set.txt` (one --set assignment per line), and `expected.txt`: exactly what `netspec check` prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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

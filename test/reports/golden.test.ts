/**
 * Golden reports: every canonical spec (specs/*.yaml) and every layer-kind fixture (test/fixtures/kinds/*.yaml: a
 * row for every op kind) has its summary and stat outputs in test/fixtures/reports/<spec>/. `npm run test:update` (UPDATE_GOLDEN=1) rewrites them; review the diff.
 * A missing golden file is written outside CI and fails in CI. The .net twin of a spec must give the same reports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IrNetwork } from '../../src/compiler/ir.js';
import { stat } from '../../src/reports/stat.js';
import { summary } from '../../src/reports/summary.js';
import { compileFile, ROOT } from './compile-spec.js';

const REPORTS: Readonly<Record<string, (ir: IrNetwork) => string>> = {
  'summary.torchsummary.txt': (ir) => summary(ir, 'torchsummary'),
  'summary.keras.txt': (ir) => summary(ir, 'keras'),
  'summary.json': (ir) => summary(ir, 'json'),
  'stat.torchstat.txt': (ir) => stat(ir, 'torchstat'),
  'stat.json': (ir) => stat(ir, 'json'),
};

const update = process.env['UPDATE_GOLDEN'] === '1';
const ci = process.env['CI'] === 'true';
const specsIn = (folder: string): { name: string; file: string }[] =>
  fs
    .readdirSync(path.join(ROOT, folder))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ name: f.slice(0, -'.yaml'.length), file: `${folder}/${f}` }))
    .sort((a, b) => a.name.localeCompare(b.name));
const canonical = specsIn('specs');
const specs = [...canonical, ...specsIn('test/fixtures/kinds')];

describe('golden reports', () => {
  it('covers the canonical specs', () => {
    expect(canonical.map((s) => s.name)).toEqual(expect.arrayContaining(['resnet18', 'resnet18-plain']));
    expect(specs.map((s) => s.name)).toContain('every-kind');
  });

  describe.each(specs)('$name', ({ name, file }) => {
    const ir = compileFile(file);
    const dir = path.join(ROOT, 'test/fixtures/reports', name);

    it.each(Object.keys(REPORTS))('%s', (file) => {
      const actual = (REPORTS[file] ?? (() => ''))(ir);
      const golden = path.join(dir, file);
      if (update || (!fs.existsSync(golden) && !ci)) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(golden, actual);
      }
      expect(
        fs.existsSync(golden),
        `missing golden file ${path.relative(ROOT, golden)}; run npm run test:update`,
      ).toBe(true);
      expect(actual).toBe(fs.readFileSync(golden, 'utf8'));
    });

    const twin = file.replace(/\.yaml$/, '.net');
    it.runIf(fs.existsSync(path.join(ROOT, twin)))(`gives the same reports from ${twin}`, () => {
      const other = compileFile(twin);
      for (const render of Object.values(REPORTS)) expect(render(other)).toBe(render(ir));
    });
  });
});

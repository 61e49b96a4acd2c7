/**
 * Golden reports: every canonical spec (specs/*.yaml) has its summary and stat outputs in
 * test/fixtures/reports/<spec>/. `npm run test:update` (UPDATE_GOLDEN=1) rewrites them; review the diff.
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
const specs = fs
  .readdirSync(path.join(ROOT, 'specs'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

describe('golden reports', () => {
  it('covers the canonical specs', () => {
    expect(specs).toEqual(expect.arrayContaining(['resnet18', 'resnet18-plain']));
  });

  describe.each(specs)('%s', (name) => {
    const ir = compileFile(`specs/${name}.yaml`);
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

    const twin = `specs/${name}.net`;
    it.runIf(fs.existsSync(path.join(ROOT, twin)))(`gives the same reports from ${twin}`, () => {
      const other = compileFile(twin);
      for (const render of Object.values(REPORTS)) expect(render(other)).toBe(render(ir));
    });
  });
});

/** Golden-file comparison: `UPDATE_GOLDEN=1` rewrites the file; in CI a missing golden file fails. */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/** Asserts `actual` equals the content of `file`, or writes it when updating (or when absent outside CI). */
export function expectGolden(file: string, actual: string): void {
  const update = process.env.UPDATE_GOLDEN === '1';
  if (update || (!fs.existsSync(file) && process.env.CI !== 'true')) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, actual);
    return;
  }
  if (!fs.existsSync(file))
    throw new Error(`missing golden file ${file}; run npm run test:update and review it`);
  expect(actual).toBe(fs.readFileSync(file, 'utf8'));
}

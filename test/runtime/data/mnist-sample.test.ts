import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mnistDigitsDir, scanDigitBytes } from '../../../src/runtime/data/mnist-sample.js';

describe('the fast reader of the mnist package files', () => {
  it('gives the same bytes as JSON.parse + Math.round(v * 255) on a real file', () => {
    const text = readFileSync(join(mnistDigitsDir(), '5.json'), 'utf8');
    const slow = Uint8Array.from((JSON.parse(text) as { data: number[] }).data, (v) => Math.round(v * 255));
    const fast = scanDigitBytes(text);
    expect(fast?.length).toBe(863 * 784);
    expect(Buffer.from(fast ?? []).equals(Buffer.from(slow))).toBe(true);
  });

  it('reads plain decimals exactly', () => {
    expect(
      Array.from(scanDigitBytes('{ "data": [0, 1, 0.2, 0.624, 1.0, 0.001960784313725] }\n') ?? []),
    ).toEqual([0, 255, 51, 159, 255, 0]);
  });

  it.each([
    '{"data": [1e-3]}',
    '{"data": [-0.5]}',
    '{"data": [2]}',
    '{"data": [0.5,]}',
    '{"x": [0.5]}',
    '{"data": [0.5]} x',
    '[0.5]',
  ])('leaves %j to the validating JSON.parse path', (text) => {
    expect(scanDigitBytes(text)).toBeUndefined();
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizationTable } from '../../../src/runtime/data/preprocess.js';
import { bilinearCoefficients, resizeBilinear, resizedSize } from '../../../src/runtime/data/resize.js';

interface FixtureCase {
  name: string;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  pixels: number[];
  expected: number[];
  normalized?: number[];
}

// Made by test/fixtures/data/make-pil-resize-fixture.py with Debian's Pillow; see the script for how.
const fixture = JSON.parse(readFileSync('test/fixtures/data/pil-resize.json', 'utf8')) as {
  generator: string;
  cases: FixtureCase[];
};

describe('Pillow bilinear resize', () => {
  it('has the fixture it is checked against', () => {
    expect(fixture.generator).toMatch(/^Pillow \d+\.\d+/);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(14);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('matches Pillow exactly: %s', (_name, c) => {
    const out = resizeBilinear(Uint8Array.from(c.pixels), 1, c.height, c.width, c.outHeight, c.outWidth);
    expect(Array.from(out)).toEqual(c.expected);
  });

  it('resizes a batch like one image at a time', () => {
    const cases = fixture.cases.filter((c) => c.height === 28 && c.width === 28 && c.outHeight === 32);
    const batch = Uint8Array.from(cases.flatMap((c) => c.pixels));
    const out = resizeBilinear(batch, cases.length, 28, 28, 32, 32);
    expect(Array.from(out)).toEqual(cases.flatMap((c) => c.expected));
  });

  it('matches ToTensor + Normalize(0.5, 0.5) in float32 bit for bit', () => {
    const table = normalizationTable(0.5, 0.5);
    for (const c of fixture.cases.filter((c) => c.normalized)) {
      expect(Array.from(c.expected, (v) => table[v])).toEqual(c.normalized);
    }
    expect([table[0], table[255], table[128]]).toEqual([
      -1,
      1,
      Math.fround(Math.fround(Math.fround(128 / 255) - 0.5) / 0.5),
    ]);
  });

  it('uses Pillow coefficients: 28 -> 32 edge outputs read one input, weights sum to 2^22', () => {
    const k = bilinearCoefficients(28, 32);
    expect(k.taps).toBe(3);
    expect([k.start[0], k.count[0], k.start[31], k.count[31]]).toEqual([0, 1, 27, 1]);
    for (let o = 0; o < 32; o++) {
      let sum = 0;
      for (let t = 0; t < (k.count[o] ?? 0); t++) sum += k.weights[o * k.taps + t] ?? 0;
      expect(Math.abs(sum - (1 << 22))).toBeLessThanOrEqual(1);
    }
  });

  it('sizes like torchvision Resize(int): the shorter side becomes the size', () => {
    expect(resizedSize(28, 28, 32)).toEqual([32, 32]);
    expect(resizedSize(20, 30, 32)).toEqual([32, 48]);
    expect(resizedSize(30, 20, 32)).toEqual([48, 32]);
    expect(resizedSize(7, 5, 9)).toEqual([12, 9]);
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatExponent,
  formatFixed,
  groupFloat,
  groupThousands,
  pandasFloatColumn,
  pandasObjectColumn,
  pandasTable,
  pythonFloatRepr,
  stringifyJson,
} from '../../src/reports/format.js';
import { readRepoFile } from './compile-spec.js';
import { parseTorchstat } from './torchstat-table.js';

// Expected strings below were produced by CPython 3 ('%.2f' % x, '%.6e' % x, repr(x), '{:,}'.format(x)).
describe('formatFixed (Python %.Nf)', () => {
  it.each([
    [0.0625, 2, '0.06'],
    [0.015625, 2, '0.02'],
    [0.0078125, 2, '0.01'],
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [2.675, 2, '2.67'],
    [1.005, 2, '1.00'],
    [-0.001, 2, '-0.00'],
    [2.5, 0, '2'],
    [3.5, 0, '4'],
    [42.63044738769531, 2, '42.63'],
    [1e22, 1, '10000000000000000000000.0'],
    [0, 2, '0.00'],
  ])('%s with %i digits is %s', (x, digits, expected) => {
    expect(formatFixed(x, digits)).toBe(expected);
  });

  it('rounds ties half to even where toFixed rounds them up', () => {
    expect((0.125).toFixed(2)).toBe('0.13');
    expect(formatFixed(0.125, 2)).toBe('0.12');
  });
});

describe('formatExponent (Python %.Ne)', () => {
  it.each([
    [1383575440, 6, '1.383575e+09'],
    [12345665, 6, '1.234566e+07'],
    [12345675, 6, '1.234568e+07'],
    [0.000001234, 3, '1.234e-06'],
    [9999999.5, 2, '1.00e+07'],
    [0, 3, '0.000e+00'],
  ])('%s with %i digits is %s', (x, digits, expected) => {
    expect(formatExponent(x, digits)).toBe(expected);
  });
});

describe('pythonFloatRepr', () => {
  it.each([
    [71.04, '71.04'],
    [5, '5.0'],
    [1e16, '1e+16'],
    [1.5e16, '1.5e+16'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [123456789.123, '123456789.123'],
    [-0, '-0.0'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('repr(%s) is %s', (x, expected) => {
    expect(pythonFloatRepr(x)).toBe(expected);
  });
});

describe('thousands separators', () => {
  it('groups integers like {:,}', () => {
    expect(groupThousands(11175434)).toBe('11,175,434');
    expect(groupThousands(999)).toBe('999');
    expect(groupThousands(0)).toBe('0');
    expect(groupThousands(-1234)).toBe('-1,234');
  });

  it('groups floats like {:,} (repr digits)', () => {
    expect(groupFloat(1605632)).toBe('1,605,632.0');
    expect(groupFloat(0)).toBe('0.0');
    expect(groupFloat(1e16)).toBe('1e+16');
    expect(groupFloat(1234.5)).toBe('1,234.5');
  });
});

describe('pandas column formatting', () => {
  it('trims trailing zeros alike in every cell and keeps one decimal', () => {
    expect(pandasFloatColumn([3200, 128, 11175434])).toEqual([' 3200.0', ' 128.0', ' 11175434.0']);
    expect(pandasFloatColumn([1.5, 2.25])).toEqual([' 1.50', ' 2.25']);
    expect(pandasFloatColumn([-1, 2])).toEqual(['-1.0', ' 2.0']);
  });

  it('switches to exponent notation for long values above 1e6', () => {
    expect(pandasFloatColumn([1383575440, 1])).toEqual([' 1.383575e+09', ' 1.000000e+00']);
    expect(pandasFloatColumn([123456789, 1])).toEqual([' 123456789.0', ' 1.0']);
  });

  it("reproduces the seed's torchstat table byte for byte from its own values", () => {
    const seed = readRepoFile('test/fixtures/seed/torchstat-resnet18.txt');
    const parsed = parseTorchstat(seed);
    const body = parsed.rows.filter((r) => r.index !== 'total');
    const total = parsed.rows.find((r) => r.index === 'total');
    expect(body).toHaveLength(45);
    expect(total).toBeDefined();
    const all = [...body, ...(total ? [total] : [])];
    const text = (h: string): string[] => pandasObjectColumn(all.map((r) => r.cells[h] ?? ''));
    const shape = (h: string): string[] =>
      pandasObjectColumn(
        all.map((r) =>
          r.cells[h]
            ? (r.cells[h] ?? '')
                .split(/\s+/)
                .map((d) => d.padStart(3))
                .join(' ')
            : ' ',
        ),
      );
    const float = (h: string): string[] => pandasFloatColumn(all.map((r) => Number(r.cells[h])));
    const name = pandasObjectColumn([...body.map((r) => r.cells['module name'] ?? ''), ' ']);
    const lines = pandasTable(
      all.map((r) => r.index),
      [
        { header: 'module name', cells: name },
        { header: 'input shape', cells: shape('input shape') },
        { header: 'output shape', cells: shape('output shape') },
        { header: 'params', numeric: true, cells: float('params') },
        { header: 'memory(MB)', cells: text('memory(MB)') },
        { header: 'MAdd', cells: text('MAdd') },
        { header: 'Flops', cells: text('Flops') },
        { header: 'MemRead(B)', numeric: true, cells: float('MemRead(B)') },
        { header: 'MemWrite(B)', numeric: true, cells: float('MemWrite(B)') },
        { header: 'duration[%]', cells: text('duration[%]') },
        { header: 'MemR+W(B)', numeric: true, cells: float('MemR+W(B)') },
      ],
    );
    const seedLines = seed.split('\n');
    const start = seedLines.indexOf(parsed.header);
    expect(lines).toEqual(seedLines.slice(start, start + 47));
  });
});

describe('stringifyJson', () => {
  it('keeps flat arrays on one line and otherwise matches JSON.stringify', () => {
    const value = { a: [1, 2], b: [[1, 2], [3]], c: [{ d: null }], e: {}, f: [] };
    const text = stringifyJson(value);
    expect(text).toBe(
      '{\n  "a": [1, 2],\n  "b": [[1, 2], [3]],\n  "c": [\n    {\n      "d": null\n    }\n  ],\n  "e": {},\n  "f": []\n}\n',
    );
    expect(JSON.parse(text)).toEqual(value);
  });
});

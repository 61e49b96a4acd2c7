import { describe, expect, it } from 'vitest';
import {
  stat,
  torchstatRoundValue,
  torchstatRows,
  torchstatTable,
  torchstatTotals,
} from '../../src/reports/stat.js';
import { compileFile, readRepoFile } from './compile-spec.js';
import { IrBuilder } from './ir-builder.js';
import { parseTorchstat, type ParsedRow } from './torchstat-table.js';

const resnet18 = compileFile('specs/resnet18.yaml');
const seed = parseTorchstat(readRepoFile('test/fixtures/seed/torchstat-resnet18.txt'));
const ours = parseTorchstat(torchstatTable(resnet18));

/** The seed's module names (`net.<module>.<block>.<layer>`) as netspec layer paths. */
function seedPath(name: string): string {
  const [net, module, ...rest] = name.split('.');
  expect(net).toBe('net');
  const m = Number(module);
  if (m === 0) return `stem.${rest.join('.')}`;
  if (m >= 1 && m <= 4) return `stage${m + 1}.${rest.join('.')}`;
  return `head.${m - 5}`;
}

const COMPARED = [
  'input shape',
  'output shape',
  'params',
  'memory(MB)',
  'MAdd',
  'Flops',
  'MemRead(B)',
  'MemWrite(B)',
  'MemR+W(B)',
];
const cellsOf = (row: ParsedRow | undefined): Record<string, string> =>
  Object.fromEntries(COMPARED.map((h) => [h, (row?.cells[h] ?? '').replace(/\s+/g, ' ')]));

describe('stat --format torchstat on specs/resnet18.yaml', () => {
  it('lists the same 45 modules as the seed, in execution order, named by path', () => {
    const seedPaths = seed.rows
      .filter((r) => r.index !== 'total')
      .map((r) => seedPath(r.cells['module name'] ?? ''));
    const ourPaths = ours.rows.filter((r) => r.index !== 'total').map((r) => r.cells['module name']);
    expect(ourPaths).toHaveLength(45);
    expect([...ourPaths].sort()).toEqual([...seedPaths].sort());
    expect(ourPaths.slice(12, 18)).toEqual([
      'stage3.0.conv1',
      'stage3.0.bn1',
      'stage3.0.conv2',
      'stage3.0.bn2',
      'stage3.0.shortcut',
      'stage3.0.bn3',
    ]);
    expect(ours.rows.map((r) => r.index)).toEqual([
      ...Array.from({ length: 45 }, (_, i) => String(i)),
      'total',
    ]);
  });

  it("matches every number of the seed's table, layer by layer", () => {
    const byPath = new Map(ours.rows.map((r) => [r.cells['module name'], r]));
    for (const row of seed.rows.filter((r) => r.index !== 'total')) {
      const path = seedPath(row.cells['module name'] ?? '');
      expect({ path, ...cellsOf(byPath.get(path)) }).toEqual({ path, ...cellsOf(row) });
    }
  });

  it("matches the seed's total row (MemRead/MemWrite repeat the last row, as in torchstat) and footer", () => {
    const total = (t: typeof seed): Record<string, string> =>
      cellsOf(t.rows.find((r) => r.index === 'total'));
    expect(total(ours)).toEqual(total(seed));
    expect(total(ours)).toMatchObject({
      params: '11175434.0',
      'memory(MB)': '0.47',
      MAdd: '71,039,478.0',
      Flops: '35,561,472.0',
      'MemRead(B)': '22568.0',
      'MemWrite(B)': '40.0',
      'MemR+W(B)': '45695056.0',
    });
    const text = (lines: string[]): string[] => lines.filter((l) => !/^[=-]+$/.test(l));
    expect(text(ours.footer)).toEqual(text(seed.footer));
    expect(text(ours.footer)).toEqual([
      'Total params: 11,175,434',
      'Total memory: 0.47MB',
      'Total MAdd: 71.04MMAdd',
      'Total Flops: 35.56MFlops',
      'Total MemR+W: 43.58MB',
    ]);
    expect(ours.footer[0]).toBe('='.repeat(ours.header.length));
    expect(ours.footer[2]).toBe('-'.repeat(ours.header.length));
  });

  it('says what the seed\'s "not supported" messages say in its notes, once per kind, not above the table', () => {
    expect(seed.messages).toEqual([
      '[MAdd]: AdaptiveAvgPool2d is not supported!',
      '[Flops]: AdaptiveAvgPool2d is not supported!',
      '[Memory]: AdaptiveAvgPool2d is not supported!',
      '[MAdd]: Flatten is not supported!',
      '[Flops]: Flatten is not supported!',
      '[Memory]: Flatten is not supported!',
    ]);
    expect(ours.messages).toEqual([]);
    const text = stat(resnet18, 'torchstat');
    expect(text.split('\n')[0]).toMatch(/^ +module name +input shape/);
    expect(text).not.toContain('is not supported!');
    const notes = text.slice(text.indexOf('Notes (netspec):'));
    expect(notes).toContain(
      '- torchstat counts no MAdd, Flops or Memory for AdaptiveAvgPool2d; netspec shows 0 as torchstat does.\n',
    );
    expect(notes).toContain(
      '- torchstat counts no MAdd, Flops or Memory for Flatten; netspec shows 0 as torchstat does.\n',
    );
  });

  it('has the columns of torchstat without duration[%]', () => {
    expect(ours.headers).toEqual(seed.headers.filter((h) => h !== 'duration[%]'));
  });

  it('states its conventions and differences in notes', () => {
    const text = stat(resnet18, 'torchstat');
    expect(text.startsWith(torchstatTable(resnet18) + '\nNotes (netspec):\n')).toBe(true);
    expect(text).toContain('duration[%] column is left out');
    expect(text).toContain('counts multiply-accumulates (MACs)');
    expect(text).toContain('MiB (2^20 bytes)');
    expect(text).toContain('The true sums are MemRead 45,207,592 B and MemWrite 487,464 B');
    expect(text).toContain('execution order');
    const t = torchstatTotals(torchstatRows(resnet18));
    expect(t.memReadBytes + t.memWriteBytes).toBe(t.memRWBytes);
  });

  it('gives the plain variant the same totals minus its shortcut layers', () => {
    const plain = torchstatTotals(torchstatRows(compileFile('specs/resnet18-plain.yaml')));
    const shortcuts = torchstatRows(resnet18).filter((r) => /shortcut|bn3/.test(r.path));
    const sum = (f: (r: (typeof shortcuts)[number]) => number): number =>
      shortcuts.reduce((n, r) => n + f(r), 0);
    expect(plain.madd).toBe(71_039_478 - sum((r) => r.madd));
    expect(plain.flops).toBe(35_561_472 - sum((r) => r.flops));
    expect(plain.params).toBe(11_001_610);
  });
});

describe("torchstat's formulas for other layers", () => {
  const b = new IrBuilder('synthetic', [4, 8, 8]);
  b.startModule('m')
    .conv('m.0', { out: 8, kernel: 3, padding: 1, groups: 2 })
    .pool('m.1', 'avgpool', 2)
    .act('m.2', 'leaky_relu')
    .act('m.3', 'sigmoid')
    .batchnorm('m.4', false)
    .flatten('m.5')
    .batchnorm('m.6')
    .dropout('m.7')
    .linear('m.8', 10, false)
    .act('m.9', 'relu6');
  const rows = torchstatRows(b.build());
  const get = (path: string): Record<string, unknown> => {
    const r = rows.find((x) => x.path === path);
    return {
      params: r?.params,
      madd: r?.madd,
      flops: r?.flops,
      read: r?.memReadBytes,
      write: r?.memWriteBytes,
      notSupported: r?.notSupported,
    };
  };

  it.each([
    // grouped conv: MAdd (9*2 mul + 9*2-1+1 add) * 8*8*4 * 2 groups; Flops use all 4 input channels (torchstat's overcount)
    [
      'm.0',
      {
        params: 152,
        madd: 18432,
        flops: 9 * 4 * 4 * 64 + 8 * 64,
        read: (256 + 152) * 4,
        write: 512 * 4,
        notSupported: [],
      },
    ],
    ['m.1', { params: 0, madd: 4 * 128, flops: 512, read: 512 * 4, write: 128 * 4, notSupported: [] }],
    ['m.2', { params: 0, madd: 0, flops: 128, read: 512, write: 512, notSupported: ['MAdd'] }],
    ['m.3', { params: 0, madd: 0, flops: 0, read: 0, write: 0, notSupported: ['MAdd', 'Flops', 'Memory'] }],
    // BatchNorm2d without affine: Flops count each element once; MemRead adds 2*C
    ['m.4', { params: 0, madd: 4 * 128, flops: 128, read: (128 + 16) * 4, write: 128 * 4, notSupported: [] }],
    ['m.5', { params: 0, madd: 0, flops: 0, read: 0, write: 0, notSupported: ['MAdd', 'Flops', 'Memory'] }],
    ['m.6', { params: 256, madd: 0, flops: 0, read: 0, write: 0, notSupported: ['MAdd', 'Flops', 'Memory'] }],
    ['m.7', { params: 0, madd: 0, flops: 0, read: 0, write: 0, notSupported: ['MAdd', 'Flops', 'Memory'] }],
    [
      'm.8',
      {
        params: 1280,
        madd: 10 * (128 + 127),
        flops: 1280,
        read: (128 + 1280) * 4,
        write: 40,
        notSupported: [],
      },
    ],
    ['m.9', { params: 0, madd: 10, flops: 10, read: 40, write: 40, notSupported: [] }],
  ])('%s', (path, expected) => {
    expect(get(path)).toEqual(expected);
  });

  it('names unsupported classes in its notes, once per kind, in execution order', () => {
    const text = stat(b.build(), 'torchstat');
    expect(parseTorchstat(text).messages).toEqual([]);
    const notes = text.split('\n').filter((l) => l.startsWith('- torchstat counts no'));
    expect(notes).toEqual([
      '- torchstat counts no MAdd for LeakyReLU; netspec shows 0 as torchstat does.',
      ...['Sigmoid', 'Flatten', 'BatchNorm1d', 'Dropout'].map(
        (c) => `- torchstat counts no MAdd, Flops or Memory for ${c}; netspec shows 0 as torchstat does.`,
      ),
    ]);
  });
});

describe('torchstatRoundValue', () => {
  it.each([
    [999, false, '999'],
    [1000, false, '1.0K'],
    [71_039_478, false, '71.04M'],
    [35_561_472, false, '35.56M'],
    [45_695_056, true, '43.58M'],
    [1.5e12, false, '1.5T'],
    [2.5e9, false, '2.5G'],
  ])('%d (binary %s) is %s', (value, binary, expected) => {
    expect(torchstatRoundValue(value, binary)).toBe(expected);
  });
});

describe('stat --format json', () => {
  const text = stat(resnet18, 'json');
  const doc = JSON.parse(text) as Record<string, unknown>;
  type Layer = {
    path: string;
    kind: string;
    functional: boolean;
    params: number;
    buffers: number;
    macs: number;
    flops: number;
    outputBytes: number;
    readBytes: number;
    writeBytes: number;
    torchstat: Record<string, unknown> | null;
  };
  const layers = doc['layers'] as Layer[];

  it('has a stable key order and one entry per IR layer', () => {
    expect(Object.keys(doc)).toEqual([
      'network',
      'inputShape',
      'conventions',
      'layers',
      'totals',
      'torchstat',
    ]);
    expect(Object.keys(layers[0] ?? {})).toEqual([
      'path',
      'kind',
      'torchClass',
      'functional',
      'inputShapes',
      'outputShape',
      'params',
      'buffers',
      'macs',
      'flops',
      'outputBytes',
      'readBytes',
      'writeBytes',
      'torchstat',
    ]);
    expect(layers.map((l) => l.path)).toEqual(resnet18.nodes.map((n) => n.path));
  });

  it('counts MACs and FLOPs = 2 x MACs for conv and linear, and bytes of float32', () => {
    const conv = layers.find((l) => l.path === 'stem.0');
    expect(conv).toMatchObject({
      params: 3200,
      buffers: 0,
      macs: 64 * 16 * 16 * 49,
      flops: 2 * 64 * 16 * 16 * 49,
      outputBytes: 65536,
      readBytes: (1024 + 3200) * 4,
      writeBytes: 65536,
    });
    expect(conv?.torchstat).toEqual({
      params: 3200,
      memoryMiB: 0.0625,
      madd: 1_605_632,
      flops: 819_200,
      memReadBytes: 16896,
      memWriteBytes: 65536,
      memRWBytes: 82432,
      notSupported: [],
    });
    expect(layers.find((l) => l.path === 'head.2')).toMatchObject({ macs: 5120, flops: 10240 });
    expect(layers.find((l) => l.path === 'stem.1')).toMatchObject({
      params: 128,
      buffers: 128,
      macs: 16384,
      flops: 32768,
      readBytes: (16384 + 256) * 4,
    });
    expect(layers.find((l) => l.path === 'stage3.0.add')).toMatchObject({
      functional: true,
      macs: 0,
      flops: 128 * 4 * 4,
      torchstat: null,
    });
  });

  it('totals its own columns and carries torchstat totals', () => {
    const sum = (f: (l: Layer) => number): number => layers.reduce((n, l) => n + f(l), 0);
    expect(doc['totals']).toEqual({
      params: 11_175_434,
      buffers: 9600,
      macs: sum((l) => l.macs),
      flops: sum((l) => l.flops),
      outputBytes: sum((l) => l.outputBytes),
      readBytes: sum((l) => l.readBytes),
      writeBytes: sum((l) => l.writeBytes),
    });
    expect(doc['torchstat']).toEqual({
      rows: 45,
      params: 11_175_434,
      memoryMiB: expect.closeTo(0.4688, 4) as unknown as number,
      madd: 71_039_478,
      flops: 35_561_472,
      memReadBytes: 45_207_592,
      memWriteBytes: 487_464,
      memRWBytes: 45_695_056,
      totalRowMemReadBytes: 22568,
      totalRowMemWriteBytes: 40,
    });
    const conventions = doc['conventions'] as Record<string, string>;
    expect(conventions['flops']).toContain('2 x MACs for conv, linear and batchnorm');
    expect(conventions['torchstat']).toContain('flops counts multiply-accumulates');
  });
});

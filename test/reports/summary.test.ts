import { describe, expect, it } from 'vitest';
import {
  summary,
  torchsummaryRows,
  torchsummaryTable,
  torchsummaryTotals,
} from '../../src/reports/summary.js';
import { compileFile, readRepoFile } from './compile-spec.js';
import { IrBuilder } from './ir-builder.js';

const resnet18 = compileFile('specs/resnet18.yaml');
const plain = compileFile('specs/resnet18-plain.yaml');

describe('summary --format torchsummary', () => {
  it("reproduces the seed's torchsummary table for specs/resnet18.yaml byte for byte", () => {
    expect(torchsummaryTable(resnet18)).toBe(readRepoFile('test/fixtures/seed/torchsummary-resnet18.txt'));
  });

  it('prints the table, then a blank line and notes stating its conventions', () => {
    const text = summary(resnet18, 'torchsummary');
    const table = torchsummaryTable(resnet18);
    expect(text.startsWith(`${table}\nNotes (netspec):\n`)).toBe(true);
    const notes = text.slice(table.length);
    expect(notes).toContain('MiB (2^20 bytes)');
    expect(notes).toContain('trainable parameters only');
    expect(notes).toContain('BatchNorm running statistics are buffers');
    expect(notes).toContain('(9,600 here;');
    expect(notes).toContain('2 x the sum of the output sizes of all rows');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('has 53 rows with totals 11,175,434 / 1.05 / 42.63 / 43.69 MiB', () => {
    expect(torchsummaryRows(resnet18)).toHaveLength(53);
    const t = torchsummaryTotals(resnet18);
    expect(t.totalParams).toBe(11_175_434);
    expect(t.inputBytes).toBe(4096);
    expect(t.forwardBackwardBytes).toBe(1_106_000);
    expect(t.paramsBytes).toBe(11_175_434 * 4);
  });

  it('shows no shortcut rows for the plain variant and counts 11,001,610 params', () => {
    const rows = torchsummaryRows(plain);
    expect(rows).toHaveLength(53 - 6);
    expect(rows.some((r) => /shortcut|bn3/.test(r.path))).toBe(false);
    expect(rows.filter((r) => r.kind === 'block').map((r) => r.name)).toEqual([
      'ResBlock-9',
      'ResBlock-14',
      'ResBlock-19',
      'ResBlock-24',
      'ResBlock-29',
      'ResBlock-34',
      'ResBlock-39',
      'ResBlock-44',
    ]);
    const table = torchsummaryTable(plain);
    expect(table).toContain('\nTotal params: 11,001,610\n');
    expect(table).toContain('\n         ResBlock-44            [-1, 512, 1, 1]               0\n');
  });

  it('names rows by torch class, puts inner blocks before outer ones, and skips functional layers', () => {
    const b = new IrBuilder('synthetic', [3, 8, 8]);
    b.startModule('body').conv('body.0', { out: 4, kernel: 3, padding: 1 });
    b.block('body.1', 'Outer', (outer) => {
      outer.conv('body.1.conv', { out: 4, kernel: 3, padding: 1, bias: false });
      outer.block('body.1.inner', 'Inner', (inner) => {
        inner.conv('body.1.inner.conv', { out: 4, kernel: 1 }).act('body.1.inner.act', 'gelu');
      });
    });
    b.startModule('head')
      .act('head.0', 'leaky_relu')
      .flatten('head.1')
      .batchnorm('head.2')
      .dropout('head.3')
      .linear('head.4', 2, false)
      .act('head.5', 'sigmoid');
    const ir = b.build();
    expect(torchsummaryRows(ir).map((r) => [r.name, r.path, r.params])).toEqual([
      ['Conv2d-1', 'body.0', 3 * 4 * 9 + 4],
      ['Conv2d-2', 'body.1.conv', 4 * 4 * 9],
      ['Conv2d-3', 'body.1.inner.conv', 4 * 4 + 4],
      ['Inner-4', 'body.1.inner', 0],
      ['Outer-5', 'body.1', 0],
      ['LeakyReLU-6', 'head.0', 0],
      ['Flatten-7', 'head.1', 0],
      ['BatchNorm1d-8', 'head.2', 2 * 256],
      ['Dropout-9', 'head.3', 0],
      ['Linear-10', 'head.4', 256 * 2],
      ['Sigmoid-11', 'head.5', 0],
    ]);
    expect(torchsummaryTable(ir)).toContain(
      '\n       BatchNorm1d-8                  [-1, 256]             512\n',
    );
  });
});

describe('summary --format keras', () => {
  const text = summary(resnet18, 'keras');
  const lines = text.split('\n');

  it('has one row per IR layer plus the input, with NHWC shapes and BN moving statistics counted', () => {
    const rowLines = lines.filter((l) => /^\S+ \(\w+\) +\[/.test(l));
    expect(rowLines).toHaveLength(resnet18.nodes.length + 1);
    expect(rowLines[0]).toMatch(/^input \(InputLayer\) +\[\[null,32,32,1\]\] +\[null,32,32,1\] +0$/);
    expect(rowLines[1]).toMatch(
      /^stem\.0 \(Conv2D\) +\[null,32,32,1\] +\[null,16,16,64\] +3200 +input\[0\]\[0\]$/,
    );
    expect(rowLines[2]).toMatch(
      /^stem\.1 \(BatchNormalization\) +\[null,16,16,64\] +\[null,16,16,64\] +256 +stem\.0\[0\]\[0\]$/,
    );
    expect(lines.find((l) => l.startsWith('stage3.0.add (Add)'))).toMatch(
      /\[\[null,4,4,128\],\[null,4,4,128\]\] +\[null,4,4,128\] +0 +stage3\.0\.bn2\[0\]\[0\]$/,
    );
    expect(lines[lines.findIndex((l) => l.startsWith('stage3.0.add (Add)')) + 1]).toMatch(
      /^ +stage3\.0\.bn3\[0\]\[0\]$/,
    );
    expect(lines.find((l) => l.startsWith('stage2.0.relu_2 '))).toContain('(ReLU)');
    expect(lines.find((l) => l.startsWith('head.2 '))).toMatch(/\(Dense\) +\[null,512\] +\[null,10\] +5130 /);
  });

  it('totals trainable and non-trainable parameters as tfjs does, with thousands separators', () => {
    expect(text).toContain(
      '\nTotal params: 11,185,034\nTrainable params: 11,175,434\nNon-trainable params: 9,600\n',
    );
    expect(summary(plain, 'keras')).toContain(
      '\nTotal params: 11,009,418\nTrainable params: 11,001,610\nNon-trainable params: 7,808\n',
    );
  });

  it('uses the sequential layout (no connections column) for the plain variant', () => {
    const plainLines = summary(plain, 'keras').split('\n');
    expect(plainLines[1]).toBe(
      'Layer (type)                      Input Shape               Output shape              Param #',
    );
    expect(lines[1]).toMatch(/Receives inputs$/);
  });

  it('says that shapes are NHWC while the other reports are NCHW', () => {
    expect(text).toContain('NHWC');
    expect(text).toContain("netspec's other\n  reports (torchsummary, torchstat, json) use PyTorch's NCHW");
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });
});

describe('summary --format json', () => {
  const doc = JSON.parse(summary(resnet18, 'json')) as Record<string, unknown>;

  it('has a stable key order', () => {
    expect(Object.keys(doc)).toEqual([
      'network',
      'inputShape',
      'conventions',
      'rows',
      'totals',
      'torchsummary',
    ]);
    const rows = doc['rows'] as Record<string, unknown>[];
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'path',
      'kind',
      'torchClass',
      'functional',
      'outputShape',
      'trainableParams',
      'bufferParams',
      'torchsummaryName',
    ]);
    expect(summary(resnet18, 'json')).toBe(summary(compileFile('specs/resnet18.yaml'), 'json'));
  });

  it('lists every layer and block with NCHW shapes, trainable and buffer params', () => {
    const rows = doc['rows'] as {
      path: string;
      kind: string;
      torchClass: string | null;
      functional: boolean;
      outputShape: number[];
      trainableParams: number;
      bufferParams: number;
      torchsummaryName: string | null;
    }[];
    expect(rows).toHaveLength(resnet18.nodes.length + resnet18.groups.length);
    expect(rows.find((r) => r.path === 'stem.1')).toEqual({
      path: 'stem.1',
      kind: 'batchnorm',
      torchClass: 'BatchNorm2d',
      functional: false,
      outputShape: [64, 16, 16],
      trainableParams: 128,
      bufferParams: 128,
      torchsummaryName: 'BatchNorm2d-2',
    });
    expect(rows.find((r) => r.path === 'stage3.0.add')).toMatchObject({
      kind: 'add',
      torchClass: null,
      functional: true,
      torchsummaryName: null,
    });
    expect(rows.find((r) => r.path === 'stage3.0')).toMatchObject({
      kind: 'block',
      torchClass: 'ResBlock',
      torchsummaryName: 'ResBlock-21',
    });
    expect(doc['network']).toBe('resnet18');
    expect(doc['inputShape']).toEqual([1, 32, 32]);
    expect(doc['totals']).toEqual({ trainableParams: 11_175_434, bufferParams: 9600, allParams: 11_185_034 });
    expect(doc['torchsummary']).toMatchObject({
      rows: 53,
      totalParams: 11_175_434,
      forwardBackwardBytes: 1_106_000,
      estimatedTotalBytes: 4096 + 1_106_000 + 44_701_736,
    });
  });
});

/**
 * Issue 13 part B's kinds and pooling's ceil_mode: the shape rules against their definitions over grids and against
 * PyTorch's numbers, the IR they lower to, and the errors for bad arguments with their positions.
 */
import { describe, expect, it } from 'vitest';
import { renderDiagnostics } from '../../../src/cli/render.js';
import { serializeIr } from '../../../src/compiler/ir.js';
import { chunkPiece, poolOutputLength, sliceRange } from '../../../src/compiler/shapes.js';
import { adaptivePoolMatrix, avgPoolAxisScale } from '../../../src/compiler/targets/tfjs/zoo-layers.js';
import { compile, compileIr } from '../../support/compile.js';

/**
 * PyTorch's pooling windows by definition: window i starts at i * stride (padded coordinates) and exists when it
 * starts inside the input or the left padding and, with ceil mode, when the window before it did not reach the end
 * of the padded input; without ceil mode it must fit inside the padded input.
 */
function bruteForcePoolLength(size: number, k: number, s: number, p: number, ceil: boolean): number {
  let count = 0;
  for (let start = 0; start < size + p; start += s) {
    if (ceil ? start > 0 && start - s + k >= size + 2 * p : start + k > size + 2 * p) break;
    count++;
  }
  return count;
}

describe('poolOutputLength (PyTorch pooling_output_shape)', () => {
  it('matches the window definition over sizes, kernels, strides, paddings, floor and ceil', () => {
    let checked = 0;
    for (let size = 1; size <= 14; size++)
      for (let k = 1; k <= 6; k++)
        for (let s = 1; s <= 4; s++)
          for (let p = 0; 2 * p <= k; p++)
            for (const ceil of [false, true]) {
              const length = poolOutputLength(size, k, s, p, ceil);
              if (length < 1) continue;
              expect(length, `${size} ${k} ${s} ${p} ${ceil}`).toBe(
                bruteForcePoolLength(size, k, s, p, ceil),
              );
              checked++;
            }
    expect(checked).toBeGreaterThan(1500);
  });

  it("gives PyTorch's sizes (nn.MaxPool2d(k, s, p, ceil_mode=True) on torch 1.13)", () => {
    // [size, kernel, stride, padding, ceil, floor]
    const torch = [
      [6, 3, 2, 1, 4, 3],
      [5, 2, 2, 0, 3, 2],
      [7, 3, 2, 1, 4, 4],
      [4, 3, 2, 1, 3, 2],
      [3, 2, 2, 0, 2, 1],
      [10, 4, 3, 2, 4, 4],
      [1, 2, 2, 1, 1, 1],
    ] as const;
    for (const [size, k, s, p, ceil, floor] of torch) {
      expect(poolOutputLength(size, k, s, p, true)).toBe(ceil);
      expect(poolOutputLength(size, k, s, p, false)).toBe(floor);
    }
    // A kernel larger than the input is allowed in ceil mode when it overhangs by less than the stride.
    expect(poolOutputLength(2, 3, 3, 0, true)).toBe(1);
  });

  it("avgpool's ceil-mode divisor excludes the overhang and counts the padding (PyTorch's last window on ones)", () => {
    // PyTorch: AvgPool2d(k, s, p, ceil_mode=True)(ones)[..., -1, -1] = (covered input cells) / divisor^2.
    const lastOnOnes = (size: number, k: number, s: number, p: number): number => {
      const scale = avgPoolAxisScale(size, k, s, p, true);
      const i = scale.length - 1;
      const start = i * s - p;
      const inside = Math.min(start + k, size) - Math.max(start, 0);
      return ((inside * inside) / (k * k)) * (scale[i] ?? 0) ** 2;
    };
    expect(lastOnOnes(6, 3, 2, 1)).toBeCloseTo(0.25, 7);
    expect(lastOnOnes(7, 3, 2, 1)).toBeCloseTo(0.4444444477558136, 7);
    expect(lastOnOnes(4, 3, 2, 1)).toBeCloseTo(0.25, 7);
    expect(lastOnOnes(10, 4, 3, 2)).toBeCloseTo(0.5625, 7);
    expect(lastOnOnes(1, 2, 2, 1)).toBeCloseTo(0.25, 7);
    expect(avgPoolAxisScale(6, 3, 2, 1, false)).toEqual([1, 1, 1]);
  });
});

describe('adaptive average pooling bins (PyTorch: start floor(i*H/h), end ceil((i+1)*H/h))', () => {
  it('each row averages its bin, over sizes smaller and larger than the output', () => {
    for (let size = 1; size <= 9; size++)
      for (let out = 1; out <= 9; out++) {
        const m = adaptivePoolMatrix(size, out);
        for (let i = 0; i < out; i++) {
          const row = m.slice(i * size, (i + 1) * size);
          const start = Math.floor((i * size) / out);
          const end = Math.ceil(((i + 1) * size) / out);
          row.forEach((v, j) => expect(v).toBe(j >= start && j < end ? 1 / (end - start) : 0));
        }
      }
    // alexnet's 6x6 of a 1x1 map: every output copies the one input.
    expect(adaptivePoolMatrix(1, 6)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('chunk and slice ranges', () => {
  it("chunkPiece gives torch.chunk's pieces (torch.chunk(torch.arange(7.), c) on torch 1.13)", () => {
    const torch: Record<number, number[]> = {
      1: [7],
      2: [4, 3],
      3: [3, 3, 1],
      4: [2, 2, 2, 1],
      5: [2, 2, 2, 1],
    };
    Object.assign(torch, { 6: [2, 2, 2, 1], 7: [1, 1, 1, 1, 1, 1, 1], 9: [1, 1, 1, 1, 1, 1, 1] });
    for (const [chunks, lengths] of Object.entries(torch)) {
      let start = 0;
      lengths.forEach((length, index) => {
        expect(chunkPiece(7, Number(chunks), index)).toEqual({ start, length });
        start += length;
      });
      expect(chunkPiece(7, Number(chunks), lengths.length)).toBeUndefined();
    }
  });

  it('slice counts negatives from the end, as Python, and refuses empty or out-of-range ranges', () => {
    expect(sliceRange([8, 4, 4], 1, 2, 5)).toEqual({ ok: true, start: 2, end: 5 });
    expect(sliceRange([8, 4, 4], 3, -3, 4)).toEqual({ ok: true, start: 1, end: 4 });
    expect(sliceRange([8, 4, 4], 1, 0, -1)).toEqual({ ok: true, start: 0, end: 7 });
    expect(sliceRange([8], 1, -8, 8)).toEqual({ ok: true, start: 0, end: 8 });
    for (const [start, end] of [
      [3, 3],
      [5, 2],
      [0, 9],
      [-9, 2],
      [2, -7],
    ] as const)
      expect(sliceRange([8, 4, 4], 1, start, end).ok).toBe(false);
  });
});

const spec = (layers: string, input = '[8, 6, 6]'): string =>
  ['netspec: 1', 'name: t', `input: ${input}`, 'modules:', `  - m: ${layers}`, ''].join('\n');

/** What `netspec check` prints for `text` as `spec.yaml`. */
function rendered(text: string, file = 'spec.yaml'): string {
  const r = compile(file, { [file]: text });
  expect(r.ir).toBeUndefined();
  return renderDiagnostics(r.diagnostics, r.sources).split('\n')[0] ?? '';
}

describe('lowering', () => {
  it('ceilMode is in the IR only when true, so existing networks keep their IR bytes', () => {
    const off = compileIr('a.yaml', { 'a.yaml': spec('[maxpool: {kernel: 3, stride: 2}]') });
    const on = compileIr('b.yaml', { 'b.yaml': spec('[maxpool: {kernel: 3, stride: 2, ceil_mode: true}]') });
    expect(serializeIr(off)).not.toContain('ceilMode');
    expect(off.nodes[0]?.outputShape).toEqual([8, 2, 2]);
    expect(on.nodes[0]).toMatchObject({ kernel: [3, 3], stride: [2, 2], padding: [0, 0], ceilMode: true });
    expect(on.nodes[0]?.outputShape).toEqual([8, 3, 3]);
  });

  it('lowers each kind with its shape and attributes (chunk records its piece, slice its resolved range)', () => {
    const ir = compileIr('k.yaml', {
      'k.yaml': spec(
        '[adaptive_avgpool: {out: [2, 9]}, chunk: {chunks: 3, index: 2}, slice: {start: -4, end: -1, dim: 3}, ' +
          'channel_shuffle: 2, stochastic_depth: 0.2]',
      ),
    });
    expect(ir.nodes.map((n) => [n.kind, n.outputShape])).toEqual([
      ['adaptive_avgpool', [8, 2, 9]],
      ['chunk', [2, 2, 9]],
      ['slice', [2, 2, 3]],
      ['channel_shuffle', [2, 2, 3]],
      ['stochastic_depth', [2, 2, 3]],
    ]);
    expect(ir.nodes[1]).toMatchObject({ chunks: 3, index: 2, dim: 1, start: 6, length: 2 });
    expect(ir.nodes[2]).toMatchObject({ dim: 3, start: 5, end: 8 });
    expect(ir.nodes[4]).toMatchObject({ p: 0.2 });
  });

  it('YAML and DSL give the same IR', () => {
    const yaml = spec(
      '[chunk: {chunks: 2, index: 1, dim: 2}, slice: {start: 1, end: 3}, channel_shuffle: 2]',
    );
    const dsl = [
      'network "t" {',
      '  input [8, 6, 6]',
      '  module m { chunk(2, index = 1, dim = 2); slice(start = 1, end = 3); channel_shuffle(2) }',
      '}',
      '',
    ].join('\n');
    expect(serializeIr(compileIr('t.yaml', { 't.yaml': yaml }))).toBe(
      serializeIr(compileIr('t.net', { 't.net': dsl })),
    );
  });
});

describe('errors name the position and what is wrong', () => {
  it.each([
    [
      '[chunk: {chunks: 5, index: 4}]',
      'spec.yaml:5:9: error BAD_VALUE: m.0: chunk index 4 has no piece: torch.chunk splits channels 8 (dim 1) into 4 pieces of at most 2 for chunks 5, indexes 0 to 3',
    ],
    [
      '[chunk: {chunks: 4, index: 1, dim: 0}]',
      "spec.yaml:5:43: error NON_POSITIVE: chunk argument 'dim' must be positive, found 0",
    ],
    [
      '[slice: {start: 0, end: 2, dim: 4}]',
      'spec.yaml:5:9: error BAD_VALUE: m.0: slice dim 4 is not an axis of its input [8, 6, 6]: dim 0 is the batch, this input has dims 1 to 3',
    ],
    [
      '[slice: {start: 4, end: -5, dim: 2}]',
      'spec.yaml:5:9: error BAD_VALUE: m.0: slice start 4 and end -5 (from the end: 4 to 1) are not a non-empty range of height 6 (dim 2): need 0 <= start < end <= 6, negatives counting from the end',
    ],
    [
      '[channel_shuffle: {groups: 3}]',
      'spec.yaml:5:9: error SHAPE_MISMATCH: m.0: channel_shuffle groups 3 must divide the channels 8 (input [8, 6, 6])',
    ],
    [
      '[stochastic_depth: {p: 1}]',
      "spec.yaml:5:31: error BAD_VALUE: stochastic_depth argument 'p' must be less than 1, found 1",
    ],
    [
      '[stochastic_depth: {p: 1.5}]',
      "spec.yaml:5:31: error BAD_VALUE: stochastic_depth argument 'p' must be less than 1, found 1.5",
    ],
    [
      '[adaptive_avgpool: {out: [2, 0]}]',
      "spec.yaml:5:33: error NON_POSITIVE: adaptive_avgpool argument 'out' must be positive, found 0",
    ],
    [
      '[maxpool: {kernel: 5, stride: 2, ceil_mode: true}]',
      'spec.yaml:5:9: error KERNEL_TOO_LARGE: m.0: maxpool kernel 5 is larger than its padded input height 3 (3 + 2*0) by 2; with ceil_mode it may hang over by less than the stride 2',
    ],
  ])('%s', (layers, message) => {
    const input = layers.startsWith('[maxpool') ? '[8, 3, 3]' : '[8, 6, 6]';
    expect(rendered(spec(layers, input))).toBe(message);
  });

  it('channel_shuffle and adaptive_avgpool want a feature map (DSL positions)', () => {
    const dsl = ['network "t" {', '  input [12]', '  module m { relu(); adaptive_avgpool(2) }', '}', ''].join(
      '\n',
    );
    expect(rendered(dsl, 'spec.net')).toBe(
      'spec.net:3:22: error SHAPE_MISMATCH: m.1: adaptive_avgpool expects a feature map [C, H, W], got [12]',
    );
  });
});

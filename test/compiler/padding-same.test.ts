/** `padding: same` / `valid` lower to the integer padding they mean: the IR equals the written integers. */
import { describe, expect, it } from 'vitest';
import { serializeIr } from '../../src/compiler/ir.js';
import { samePadding } from '../../src/compiler/ops/args.js';
import { compile, compileIr } from '../support/compile.js';

const yaml = (layers: string): string =>
  `netspec: 1\nname: p\ninput: [2, 9, 9]\nmodules:\n  - m: [${layers}]\n  - head: [flatten, linear: {out: 3}]\n`;
const dsl = (layers: string): string =>
  `network p {\n  input [2, 9, 9]\n  module m { ${layers} }\n  module head { flatten(); linear(3) }\n}\n`;

describe('padding same and valid', () => {
  it('same is dilation * (kernel - 1) / 2 per axis at stride 1, for conv, maxpool and avgpool, in both formats', () => {
    const written = compileIr('a.yaml', {
      'a.yaml': yaml(
        'conv: {out: 4, kernel: [5, 3], dilation: [1, 2], padding: [2, 2]}, maxpool: {kernel: 3, stride: 1, padding: 1}, avgpool: {kernel: 3, stride: 1, padding: 1}, conv: {out: 4, kernel: 3, padding: 0}',
      ),
    });
    const same = compileIr('b.yaml', {
      'b.yaml': yaml(
        'conv: {out: 4, kernel: [5, 3], dilation: [1, 2], padding: same}, maxpool: {kernel: 3, stride: 1, padding: same}, avgpool: {kernel: 3, stride: 1, padding: same}, conv: {out: 4, kernel: 3, padding: valid}',
      ),
    });
    const net = compileIr('c.net', {
      'c.net': dsl(
        'conv(4, kernel = [5, 3], dilation = [1, 2], padding = "same"); maxpool(3, stride = 1, padding = "same"); avgpool(3, stride = 1, padding = "same"); conv(4, kernel = 3, padding = "valid")',
      ),
    });
    expect(serializeIr(same)).toBe(serializeIr(written));
    expect(serializeIr(net)).toBe(serializeIr(written));
    expect(same.nodes[0]?.outputShape).toEqual([4, 9, 9]);
  });

  it("refuses a stride above 1 and an even extent, saying what to write in the file's syntax", () => {
    const errors = (file: string, text: string): string[] =>
      compile(file, { [file]: text }).diagnostics.map(
        (d) => `${d.span?.line}:${d.span?.col} ${d.message} | ${d.hint}`,
      );
    expect(errors('s.yaml', yaml('conv: {out: 4, kernel: 3, stride: 2, padding: same}'))).toEqual([
      "5:55 conv argument 'padding': 'same' keeps the size only with stride 1, and the stride along the height is 2 | write 'padding: 1' ((kernel - 1) / 2): with stride 2 it gives ceil(size / 2)",
    ]);
    expect(errors('e.net', dsl('conv(4, kernel = 2, padding = "same")'))).toEqual([
      "3:44 conv argument 'padding': 'same' with the even kernel 2 along the height needs 1 zero in all, which do not split evenly between the two sides (PyTorch pads 0 before and 1 after); netspec pads both sides alike | use an odd kernel, or write 'padding = 0' (the output 1 smaller) or 'padding = 1' (1 larger)",
    ]);
  });

  it('samePadding per axis', () => {
    expect(samePadding([3, 5], [1, 1], [2, 1])).toEqual({ ok: true, padding: [2, 2] });
    expect(samePadding([3, 3], [1, 2])).toEqual({ ok: false, problem: 'stride', axis: 1, stride: 2 });
    expect(samePadding([3, 4], [1, 1])).toEqual({ ok: false, problem: 'even', axis: 1, extent: 3 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../../src/runtime/errors.js';
import {
  decodeSafetensors,
  dtypeSize,
  encodeSafetensors,
  type SafetensorsDtype,
  type TensorInput,
} from '../../../src/runtime/weights/safetensors.js';

const F = 'w.safetensors';

/** A file made of a header text exactly as given (no padding) and data bytes. */
function fileOf(header: string, data: ArrayLike<number> = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** The thrown DataError, checked to have the `file: byte N: ` prefix, split into offset and detail. */
function decodeError(bytes: Uint8Array): { offset: number; detail: string; message: string } {
  try {
    decodeSafetensors(bytes, F);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    const m = /^w\.safetensors: byte (\d+): (.*)$/s.exec(e.message);
    if (!m || e.file !== F || e.offset !== Number(m[1])) throw new Error(`malformed error: ${e.message}`);
    return { offset: Number(m[1]), detail: m[2] ?? '', message: e.message };
  }
  throw new Error('decoded without error');
}

/** File byte offset of `needle` inside `header` (headers in these tests are ASCII). */
function at(header: string, needle: string): number {
  const i = header.indexOf(needle);
  if (i < 0) throw new Error(`'${needle}' not in header`);
  return 8 + i;
}

const f32 = (values: number[]) => new Float32Array(values);

describe('encodeSafetensors: byte-for-byte with the reference crate (its own test vectors)', () => {
  it('serializes one F32 tensor (test_serialization)', () => {
    const out = encodeSafetensors(
      new Map([['attn.0', { dtype: 'F32', shape: [1, 2, 3], data: f32([0, 1, 2, 3, 4, 5]) }]]),
    );
    expect([...out]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101,
      34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34,
      100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0,
      0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('pads the header with spaces to 8 bytes (test_serialization_forced_alignement)', () => {
    const out = encodeSafetensors(
      new Map([['attn0', { dtype: 'F32', shape: [1, 1, 2, 3], data: f32([0, 1, 2, 3, 4, 5]) }]]),
    );
    expect([...out]).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34,
      58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44,
      34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125,
      32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
      160, 64,
    ]);
  });

  it('writes empty files with and without metadata (test_empty)', () => {
    expect([...encodeSafetensors(new Map())]).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    expect([...encodeSafetensors(new Map(), { framework: 'pt' })]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34,
      102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  it('orders tensors by descending dtype rank, then by name, with contiguous offsets', () => {
    const tensors = new Map<string, TensorInput>([
      ['b.flag', { dtype: 'BOOL', shape: [1], data: new Uint8Array([1]) }],
      ['a.half', { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) }],
      ['z.w', { dtype: 'F32', shape: [2], data: f32([1, 2]) }],
      ['a.w', { dtype: 'F32', shape: [1], data: f32([3]) }],
      ['bn.num_batches_tracked', { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) }],
      ['c.brain', { dtype: 'BF16', shape: [1], data: new Uint16Array([0x3f80]) }],
      ['d.idx', { dtype: 'I32', shape: [1], data: new Int32Array([-1]) }],
      ['e.bytes', { dtype: 'U8', shape: [2], data: new Uint8Array([9, 8]) }],
      ['f.double', { dtype: 'F64', shape: [1], data: new Float64Array([0.1]) }],
    ]);
    const out = encodeSafetensors(tensors, { format: 'pt', alpha: 'x' });
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(out.subarray(8, 8 + n));
    expect(n % 8).toBe(0);
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"alpha":"x","format":"pt"},' +
        '"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
        '"f.double":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},' +
        '"a.w":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
        '"z.w":{"dtype":"F32","shape":[2],"data_offsets":[20,28]},' +
        '"d.idx":{"dtype":"I32","shape":[1],"data_offsets":[28,32]},' +
        '"c.brain":{"dtype":"BF16","shape":[1],"data_offsets":[32,34]},' +
        '"a.half":{"dtype":"F16","shape":[1],"data_offsets":[34,36]},' +
        '"e.bytes":{"dtype":"U8","shape":[2],"data_offsets":[36,38]},' +
        '"b.flag":{"dtype":"BOOL","shape":[1],"data_offsets":[38,39]}}',
    );
    expect(out.length).toBe(8 + n + 39);

    const back = decodeSafetensors(out, F);
    expect(back.metadata).toEqual({ alpha: 'x', format: 'pt' });
    expect([...back.tensors.keys()]).toEqual([
      'bn.num_batches_tracked',
      'f.double',
      'a.w',
      'z.w',
      'd.idx',
      'c.brain',
      'a.half',
      'e.bytes',
      'b.flag',
    ]);
    const nbt = back.tensors.get('bn.num_batches_tracked');
    expect(nbt?.data).toBeInstanceOf(BigInt64Array);
    expect(nbt?.shape).toEqual([]);
    expect([...(nbt?.data as BigInt64Array)]).toEqual([7n]);
    expect(back.tensors.get('z.w')?.data).toEqual(f32([1, 2]));
    expect(back.tensors.get('f.double')?.data).toEqual(new Float64Array([0.1]));
    expect(back.tensors.get('d.idx')?.data).toEqual(new Int32Array([-1]));
    expect(back.tensors.get('c.brain')?.data).toEqual(new Uint16Array([0x3f80]));
    expect(back.tensors.get('b.flag')?.data).toEqual(new Uint8Array([1]));
  });

  it('sorts names by code point (UTF-8 byte order), not UTF-16 units', () => {
    // U+FF61 is one UTF-16 unit above the surrogate U+D83D of U+1F600, but below it in code points and UTF-8.
    const out = encodeSafetensors(
      new Map<string, TensorInput>([
        ['\u{1F600}', { dtype: 'U8', shape: [1], data: new Uint8Array([1]) }],
        ['\uFF61', { dtype: 'U8', shape: [1], data: new Uint8Array([2]) }],
      ]),
    );
    expect([...decodeSafetensors(out, F).tensors.keys()]).toEqual(['\uFF61', '\u{1F600}']);
  });

  it('accepts raw little-endian bytes for any dtype, and refuses mismatched data as a bug', () => {
    const raw = new Uint8Array(new Float32Array([1.5]).buffer);
    const out = encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [1], data: raw }]]));
    expect(decodeSafetensors(out, F).tensors.get('w')?.data).toEqual(f32([1.5]));
    expect(() => encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [2], data: f32([1]) }]]))).toThrow(
      /needs 8 bytes, has 4/,
    );
    expect(() =>
      encodeSafetensors(new Map([['w', { dtype: 'F32', shape: [1], data: new Float64Array([1]) }]])),
    ).toThrow(/Float64Array/);
    expect(() =>
      encodeSafetensors(new Map([['__metadata__', { dtype: 'U8', shape: [0], data: new Uint8Array() }]])),
    ).toThrow(/cannot name/);
  });
});

describe('decodeSafetensors: typed arrays', () => {
  it('returns a Float32Array view on aligned data and a copy when the bytes are misaligned', () => {
    const out = encodeSafetensors(
      new Map([['w', { dtype: 'F32', shape: [2, 2], data: f32([1, -2, 3.5, 4]) }]]),
    );
    const aligned = decodeSafetensors(out, F).tensors.get('w');
    expect(aligned?.data).toBeInstanceOf(Float32Array);
    expect(aligned?.data.buffer).toBe(out.buffer);

    const shifted = new Uint8Array(out.length + 1);
    shifted.set(out, 1);
    const misaligned = decodeSafetensors(shifted.subarray(1), F).tensors.get('w');
    expect(misaligned?.data).toBeInstanceOf(Float32Array);
    expect(misaligned?.data).toEqual(f32([1, -2, 3.5, 4]));
    expect(misaligned?.data.buffer).not.toBe(shifted.buffer);
    expect(misaligned?.shape).toEqual([2, 2]);
  });

  it('reads unpadded headers, whitespace, and zero-sized tensors', () => {
    const header =
      ' { "e" : {"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}, "x":{"data_offsets":[0,4],"shape":[1],"dtype":"I32"} } ';
    const out = decodeSafetensors(fileOf(header, [5, 0, 0, 0]), F);
    expect(out.tensors.get('e')?.data).toEqual(new Float32Array(0));
    expect(out.tensors.get('x')?.data).toEqual(new Int32Array([5]));
    expect(out.metadata).toEqual({});
  });

  it('round-trips random tensors of every dtype (property)', () => {
    const dtypes: SafetensorsDtype[] = ['F32', 'F64', 'I64', 'I32', 'U8', 'BOOL', 'F16', 'BF16'];
    const tensor = fc
      .record({
        dtype: fc.constantFrom(...dtypes),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        seed: fc.integer({ min: 0, max: 255 }),
      })
      .map(({ dtype, shape, seed }) => {
        const numel = shape.reduce((a, b) => a * b, 1);
        const bytes = Uint8Array.from({ length: numel * dtypeSize(dtype) }, (_, i) =>
          dtype === 'BOOL' ? (seed + i) % 2 : (seed * 31 + i * 7) % 256,
        );
        return { dtype, shape, data: bytes } satisfies TensorInput;
      });
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== '__proto__' && s !== '__metadata__'),
          tensor,
          { maxKeys: 6 },
        ),
        (dict) => {
          const input = new Map(Object.entries(dict));
          const back = decodeSafetensors(encodeSafetensors(input), F);
          expect(back.tensors.size).toBe(input.size);
          for (const [name, t] of input) {
            const got = back.tensors.get(name);
            expect(got?.dtype).toBe(t.dtype);
            expect(got?.shape).toEqual(t.shape);
            const d = got?.data;
            expect(d && new Uint8Array(d.buffer, d.byteOffset, d.byteLength)).toEqual(t.data);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('decodeSafetensors: strict validation, errors name the file and byte', () => {
  const t = (name: string, dtype: string, shape: string, offsets: string) =>
    `"${name}":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;

  it('rejects a file shorter than the length field, and a header length beyond the file', () => {
    expect(decodeError(new Uint8Array(5)).message).toBe(
      `${F}: byte 0: file is 5 bytes, too short for the 8-byte header length`,
    );
    const bytes = fileOf('{}');
    new DataView(bytes.buffer).setBigUint64(0, 3n, true);
    expect(decodeError(bytes).message).toBe(
      `${F}: byte 0: header length 3 goes beyond the end of the file (10 bytes)`,
    );
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(decodeError(bytes).offset).toBe(0);
  });

  it('rejects a header that is not UTF-8, not JSON, or not an object', () => {
    const bad = fileOf('{}  ');
    bad[9] = 0xff;
    expect(decodeError(bad).message).toBe(`${F}: byte 8: header is not valid UTF-8`);
    const header = '{"a": {"dtype": "F32",]';
    const e = decodeError(fileOf(header));
    expect(e.offset).toBe(at(header, ']'));
    expect(e.message).toMatch(/not valid JSON/);
    expect(decodeError(fileOf('[1, 2]'))).toMatchObject({
      offset: 8,
      detail: 'header must be a JSON object, found an array',
    });
    expect(decodeError(fileOf('{} x'))).toMatchObject({
      offset: 11,
      detail: 'unexpected text after the header JSON',
    });
    expect(decodeError(fileOf('{"a":1e5x}')).offset).toBe(at('{"a":1e5x}', 'x'));
  });

  it('counts byte offsets in UTF-8, past multi-byte names', () => {
    const header = `{"é€":{"dtype":"F99","shape":[],"data_offsets":[0,0]}}`;
    const e = decodeError(fileOf(header));
    expect(e.offset).toBe(8 + Buffer.byteLength(header.slice(0, header.indexOf('"F99"'))));
    expect(e.offset).toBe(at(header, '"F99"') + 3);
    expect(e.detail).toBe('tensor "é€" has unknown dtype "F99"');
  });

  it('names dtypes that are valid safetensors but not read by netspec', () => {
    const header = `{${t('q', 'I8', '[1]', '[0,1]')}}`;
    expect(decodeError(fileOf(header, [1]))).toMatchObject({
      offset: at(header, '"I8"'),
      detail: expect.stringMatching(/^tensor "q" has dtype I8, which netspec does not read/),
    });
  });

  it('rejects shapes that are not non-negative integers', () => {
    for (const [shape, bad] of [
      ['[2,-1]', '-1'],
      ['[1.5]', '1.5'],
      ['["2"]', '"2"'],
      ['[1e2]', '1e2'],
      ['[99999999999999999999]', '99999999999999999999'],
    ] as const) {
      const header = `{${t('w', 'F32', shape, '[0,4]')}}`;
      const e = decodeError(fileOf(header, [0, 0, 0, 0]));
      expect(e.offset, shape).toBe(at(header, bad));
      expect(e.detail, shape).toMatch(/dimension of "w"/);
    }
    const header = `{${t('w', 'F32', '4', '[0,4]')}}`;
    expect(decodeError(fileOf(header, [0, 0, 0, 0]))).toMatchObject({
      offset: at(header, '4,'),
      detail: 'shape of "w" must be an array, found 4',
    });
  });

  it('rejects a size that is not numel * dtype size', () => {
    const header = `{${t('w', 'F32', '[2,2]', '[0,12]')}}`;
    expect(decodeError(fileOf(header, new Array(12).fill(0)))).toMatchObject({
      offset: at(header, '[0,12]'),
      detail: 'tensor "w" is F32 [2, 2] = 16 bytes, but its data_offsets span 12',
    });
  });

  it('rejects offsets out of range, reversed, overlapping, or leaving gaps, and trailing bytes', () => {
    let header = `{${t('w', 'U8', '[4]', '[0,4]')}}`;
    expect(decodeError(fileOf(header, [1, 2]))).toMatchObject({
      offset: at(header, '[0,4]'),
      detail: 'data_offsets [0, 4] of "w" go beyond the 2 data bytes',
    });

    header = `{${t('w', 'U8', '[0]', '[3,2]')}}`;
    expect(decodeError(fileOf(header, [1, 2, 3])).offset).toBe(at(header, '[3,2]'));

    header = `{${t('a', 'U8', '[4]', '[0,4]')},${t('b', 'U8', '[4]', '[2,6]')}}`;
    const dataStart = 8 + header.length;
    expect(decodeError(fileOf(header, new Array(6).fill(0)))).toMatchObject({
      offset: dataStart + 2,
      detail: '"b" overlaps "a" (data_offsets [2, 6], previous ends at 4)',
    });

    header = `{${t('a', 'U8', '[2]', '[0,2]')},${t('b', 'U8', '[2]', '[3,5]')}}`;
    expect(decodeError(fileOf(header, new Array(5).fill(0)))).toMatchObject({
      offset: 8 + header.length + 2,
      detail: '1 bytes of data before "b" belong to no tensor',
    });

    header = `{${t('a', 'U8', '[2]', '[1,3]')}}`;
    expect(decodeError(fileOf(header, [0, 0, 0])).offset).toBe(8 + header.length);

    header = `{${t('a', 'U8', '[2]', '[0,2]')}}`;
    expect(decodeError(fileOf(header, [0, 0, 9, 9]))).toMatchObject({
      offset: 8 + header.length + 2,
      detail: '2 trailing bytes after the last tensor',
    });
  });

  it('rejects duplicate names, __proto__, unknown or missing fields, and bad metadata', () => {
    let header = `{${t('w', 'U8', '[1]', '[0,1]')},${t('w', 'U8', '[1]', '[1,2]')}}`;
    expect(decodeError(fileOf(header, [0, 0]))).toMatchObject({
      offset: 8 + header.lastIndexOf('"w"'),
      detail: 'duplicate name "w" in the header',
    });

    header = `{${t('__proto__', 'U8', '[1]', '[0,1]')}}`;
    expect(decodeError(fileOf(header, [0]))).toMatchObject({
      offset: 9,
      detail: "'__proto__' is not allowed as a tensor name",
    });

    header = `{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}}`;
    expect(decodeError(fileOf(header, [0]))).toMatchObject({
      offset: at(header, '"extra"'),
      detail: 'tensor "w" has unknown field "extra"',
    });

    header = `{"w":{"dtype":"U8"}}`;
    expect(decodeError(fileOf(header))).toMatchObject({
      offset: at(header, '{"dtype"'),
      detail: 'tensor "w" lacks shape, data_offsets',
    });

    header = `{"__metadata__":{"epoch":3}}`;
    expect(decodeError(fileOf(header))).toMatchObject({
      offset: at(header, '3'),
      detail: '__metadata__ "epoch" must be a string, found 3',
    });
  });

  it('rejects BOOL bytes other than 0 and 1', () => {
    const header = `{${t('m', 'BOOL', '[3]', '[0,3]')}}`;
    expect(decodeError(fileOf(header, [1, 0, 2]))).toMatchObject({
      offset: 8 + header.length + 2,
      detail: 'BOOL tensor "m" holds byte 2, not 0 or 1',
    });
  });
});

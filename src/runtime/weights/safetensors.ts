/**
 * The safetensors format (https://github.com/huggingface/safetensors): 8 bytes little-endian header length N,
 * N bytes of JSON header, then the tensors' bytes, contiguous, little-endian, C order.
 *
 * Writing matches the reference implementation (the Rust crate's `serialize`) byte for byte: tensors sorted by
 * descending dtype rank (its `Dtype` enum order, which is increasing alignment) then by name, compact JSON with
 * `__metadata__` first, the header padded with spaces to a multiple of 8 so every tensor starts aligned.
 * Reading is strict: anything the reference would reject, and a few things it tolerates (duplicate names,
 * unknown fields), throw the data loaders' {@link DataError}, whose message names the file and the byte offset.
 */
import { DataError } from '../errors.js';

/** The dtypes netspec reads and writes. F16 and BF16 are carried as raw 16-bit patterns (Uint16Array). */
export type SafetensorsDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'U8' | 'BOOL' | 'F16' | 'BF16';

/** The typed array each dtype decodes to. */
export interface DtypeArrays {
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  I32: Int32Array;
  U8: Uint8Array;
  BOOL: Uint8Array;
  F16: Uint16Array;
  BF16: Uint16Array;
}

/** Any typed array a tensor's data may be given as. */
export type TensorData = DtypeArrays[SafetensorsDtype];

/** One tensor to write: `data` is the dtype's typed array, or the raw little-endian bytes as a Uint8Array. */
export interface TensorInput {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** One decoded tensor. `data` may share memory with the decoded file's bytes (it is copied only when misaligned). */
export type DecodedTensor = {
  [D in SafetensorsDtype]: { readonly dtype: D; readonly shape: number[]; readonly data: DtypeArrays[D] };
}[SafetensorsDtype];

/** What {@link decodeSafetensors} returns: tensors in file order (by data offset) and the `__metadata__` strings. */
export interface DecodedSafetensors {
  readonly tensors: Map<string, DecodedTensor>;
  readonly metadata: Record<string, string>;
}

/**
 * The reference crate's `Dtype` enum in declaration order (its derived `Ord`). Includes dtypes netspec does
 * not support so that their names get a precise message rather than "unknown".
 */
const REFERENCE_DTYPE_ORDER = [
  'BOOL',
  'F4',
  'F6_E2M3',
  'F6_E3M2',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'C64',
  'F64',
  'I64',
  'U64',
] as const;

const DTYPE_SIZE: Record<SafetensorsDtype, number> = {
  BOOL: 1,
  U8: 1,
  F16: 2,
  BF16: 2,
  I32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
};

const DTYPE_ARRAY: {
  [D in SafetensorsDtype]: { new (buffer: ArrayBuffer, offset: number, length: number): DtypeArrays[D] };
} = {
  F32: Float32Array,
  F64: Float64Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U8: Uint8Array,
  BOOL: Uint8Array,
  F16: Uint16Array,
  BF16: Uint16Array,
};

/** The reference reader refuses headers above 100 MB; so do we, before decoding anything. */
const MAX_HEADER_BYTES = 100_000_000;
const MAX_JSON_DEPTH = 64;

/** True for the dtypes netspec supports. */
export function isSafetensorsDtype(value: string): value is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_SIZE, value);
}

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: SafetensorsDtype): number {
  return DTYPE_SIZE[dtype];
}

function assertLittleEndianHost(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error('internal: safetensors needs a little-endian host; typed arrays here are big-endian');
}

function rank(dtype: SafetensorsDtype): number {
  return REFERENCE_DTYPE_ORDER.indexOf(dtype);
}

/** Compares by Unicode code point, which is the byte order of UTF-8 and so Rust's `str` order. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

function numelOf(shape: readonly number[], name: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new Error(`internal: tensor '${name}' has shape [${shape.join(', ')}]`);
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new Error(`internal: tensor '${name}' is too large`);
  return n;
}

function bytesOf(data: TensorData): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function checkArrayType(name: string, tensor: TensorInput): void {
  if (tensor.data instanceof Uint8Array) return; // raw bytes are allowed for every dtype
  if (!(tensor.data instanceof DTYPE_ARRAY[tensor.dtype]))
    throw new Error(
      `internal: tensor '${name}' is ${tensor.dtype} but its data is a ${tensor.data.constructor.name}`,
    );
}

/**
 * Serializes `tensors` (and optional string metadata) to safetensors bytes. Programming mistakes (a data length
 * that does not match the shape, a reserved name) throw plain errors: they are bugs, not user input.
 */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, TensorInput>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  assertLittleEndianHost();
  const entries = [...tensors].map(([name, tensor]) => {
    if (name === '__metadata__' || name === '__proto__')
      throw new Error(`internal: '${name}' cannot name a tensor`);
    if (!isSafetensorsDtype(tensor.dtype))
      throw new Error(`internal: tensor '${name}' has unsupported dtype ${String(tensor.dtype)}`);
    checkArrayType(name, tensor);
    const bytes = bytesOf(tensor.data);
    const expected = numelOf(tensor.shape, name) * DTYPE_SIZE[tensor.dtype];
    if (bytes.byteLength !== expected)
      throw new Error(
        `internal: tensor '${name}' (${tensor.dtype} [${tensor.shape.join(', ')}]) needs ${expected} bytes, has ${bytes.byteLength}`,
      );
    return { name, dtype: tensor.dtype, shape: [...tensor.shape], bytes };
  });
  entries.sort((a, b) => rank(b.dtype) - rank(a.dtype) || compareCodePoints(a.name, b.name));

  // Built as text because JSON.stringify's escaping is serde_json's (\" \\ \b \f \n \r \t, else \u00xx).
  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const fields = keys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') throw new Error(`internal: metadata '${k}' is not a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.bytes.byteLength;
    parts.push(
      `${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  let at = 8 + headerLength;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading. The header is parsed by a small strict JSON reader that keeps positions (to name the byte of a
// problem) and sees duplicate keys (JSON.parse silently keeps the last one).

type Json =
  | {
      readonly kind: 'object';
      readonly at: number;
      readonly entries: readonly { key: string; at: number; value: Json }[];
    }
  | { readonly kind: 'array'; readonly at: number; readonly items: readonly Json[] }
  | { readonly kind: 'string'; readonly at: number; readonly value: string }
  | { readonly kind: 'number'; readonly at: number; readonly raw: string }
  | { readonly kind: 'literal'; readonly at: number; readonly value: boolean | null };

/** A header problem at character `at` of the header text; converted to a file byte offset by the caller. */
class HeaderProblem extends Error {
  constructor(
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

class JsonReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): Json {
    this.skipSpace();
    const value = this.value(0);
    this.skipSpace();
    if (this.pos < this.text.length)
      throw new HeaderProblem(this.pos, 'unexpected text after the header JSON');
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  private value(depth: number): Json {
    if (depth > MAX_JSON_DEPTH) throw new HeaderProblem(this.pos, 'header JSON is nested too deeply');
    const at = this.pos;
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return { kind: 'string', at, value: this.string() };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { kind: 'literal', at, value };
      }
    }
    throw new HeaderProblem(
      at,
      c === undefined ? 'header JSON ends early' : `header is not valid JSON (unexpected '${c}')`,
    );
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) {
      const found = this.text[this.pos];
      throw new HeaderProblem(
        this.pos,
        found === undefined
          ? `header JSON ends early (expected '${char}')`
          : `header is not valid JSON (expected '${char}', found '${found}')`,
      );
    }
    this.pos++;
  }

  private object(depth: number): Json {
    const at = this.pos;
    this.pos++;
    const entries: { key: string; at: number; value: Json }[] = [];
    const seen = new Set<string>();
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', at, entries };
    }
    for (;;) {
      this.skipSpace();
      const keyAt = this.pos;
      if (this.text[this.pos] !== '"') this.expect('"');
      const key = this.string();
      if (seen.has(key))
        throw new HeaderProblem(keyAt, `duplicate name ${JSON.stringify(key)} in the header`);
      seen.add(key);
      this.skipSpace();
      this.expect(':');
      this.skipSpace();
      entries.push({ key, at: keyAt, value: this.value(depth + 1) });
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return { kind: 'object', at, entries };
    }
  }

  private array(depth: number): Json {
    const at = this.pos;
    this.pos++;
    const items: Json[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', at, items };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect(']');
      return { kind: 'array', at, items };
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (Number.isNaN(c)) throw new HeaderProblem(start, 'header JSON has an unterminated string');
      if (c < 0x20) throw new HeaderProblem(this.pos, 'header JSON has a control character inside a string');
      if (c === 0x22) break;
      if (c === 0x5c) {
        const e = this.text[this.pos + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6)))
            throw new HeaderProblem(this.pos, 'header JSON has a bad \\u escape');
          this.pos += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) this.pos += 2;
        else throw new HeaderProblem(this.pos, 'header JSON has a bad escape');
        continue;
      }
      this.pos++;
    }
    this.pos++;
    return JSON.parse(this.text.slice(start, this.pos)) as string;
  }

  private number(): Json {
    const at = this.pos;
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.pos, this.pos + 400));
    if (!m) throw new HeaderProblem(at, 'header JSON has a malformed number');
    this.pos += m[0].length;
    return { kind: 'number', at, raw: m[0] };
  }
}

function describe(value: Json): string {
  switch (value.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return `the string ${JSON.stringify(value.value)}`;
    case 'number':
      return value.raw;
    case 'literal':
      return String(value.value);
  }
}

/** A non-negative integer as the reference reads `usize` (no fraction, no exponent), within JS's exact range. */
function nonNegativeInt(value: Json, what: string): number {
  if (value.kind === 'number' && /^(0|[1-9]\d*)$/.test(value.raw)) {
    const n = Number(value.raw);
    if (Number.isSafeInteger(n)) return n;
    throw new HeaderProblem(value.at, `${what} ${value.raw} is too large`);
  }
  throw new HeaderProblem(value.at, `${what} must be a non-negative integer, found ${describe(value)}`);
}

interface HeaderTensor {
  readonly name: string;
  readonly at: number;
  readonly dtype: SafetensorsDtype;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
  /** Character position of the `data_offsets` value, for offset errors. */
  readonly offsetsAt: number;
}

function readTensorInfo(name: string, at: number, value: Json): HeaderTensor {
  if (value.kind !== 'object')
    throw new HeaderProblem(
      value.at,
      `tensor ${JSON.stringify(name)} must be an object, found ${describe(value)}`,
    );
  let dtype: SafetensorsDtype | undefined;
  let shape: number[] | undefined;
  let offsets: { begin: number; end: number; at: number } | undefined;
  for (const field of value.entries) {
    const v = field.value;
    if (field.key === 'dtype') {
      if (v.kind !== 'string')
        throw new HeaderProblem(
          v.at,
          `dtype of ${JSON.stringify(name)} must be a string, found ${describe(v)}`,
        );
      if (!isSafetensorsDtype(v.value)) {
        const known = (REFERENCE_DTYPE_ORDER as readonly string[]).includes(v.value);
        throw new HeaderProblem(
          v.at,
          known
            ? `tensor ${JSON.stringify(name)} has dtype ${v.value}, which netspec does not read (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`
            : `tensor ${JSON.stringify(name)} has unknown dtype ${JSON.stringify(v.value)}`,
        );
      }
      dtype = v.value;
    } else if (field.key === 'shape') {
      if (v.kind !== 'array')
        throw new HeaderProblem(
          v.at,
          `shape of ${JSON.stringify(name)} must be an array, found ${describe(v)}`,
        );
      shape = v.items.map((d) => nonNegativeInt(d, `a dimension of ${JSON.stringify(name)}`));
    } else if (field.key === 'data_offsets') {
      if (v.kind !== 'array' || v.items.length !== 2)
        throw new HeaderProblem(
          v.at,
          `data_offsets of ${JSON.stringify(name)} must be [begin, end], found ${describe(v)}`,
        );
      const [b, e] = v.items as [Json, Json];
      offsets = {
        begin: nonNegativeInt(b, `data_offsets begin of ${JSON.stringify(name)}`),
        end: nonNegativeInt(e, `data_offsets end of ${JSON.stringify(name)}`),
        at: v.at,
      };
      if (offsets.end < offsets.begin)
        throw new HeaderProblem(
          v.at,
          `data_offsets of ${JSON.stringify(name)} end (${offsets.end}) before they begin (${offsets.begin})`,
        );
    } else
      throw new HeaderProblem(
        field.at,
        `tensor ${JSON.stringify(name)} has unknown field ${JSON.stringify(field.key)}`,
      );
  }
  const missing = [
    dtype === undefined && 'dtype',
    shape === undefined && 'shape',
    offsets === undefined && 'data_offsets',
  ].filter(Boolean);
  if (dtype === undefined || shape === undefined || offsets === undefined)
    throw new HeaderProblem(value.at, `tensor ${JSON.stringify(name)} lacks ${missing.join(', ')}`);
  const numel = shape.reduce((a, b) => a * b, 1);
  const expected = numel * DTYPE_SIZE[dtype];
  if (!Number.isSafeInteger(expected))
    throw new HeaderProblem(value.at, `tensor ${JSON.stringify(name)} is too large`);
  if (offsets.end - offsets.begin !== expected)
    throw new HeaderProblem(
      offsets.at,
      `tensor ${JSON.stringify(name)} is ${dtype} [${shape.join(', ')}] = ${expected} bytes, but its data_offsets span ${offsets.end - offsets.begin}`,
    );
  return { name, at, dtype, shape, begin: offsets.begin, end: offsets.end, offsetsAt: offsets.at };
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Parses safetensors `bytes` read from `file` (the name is used in error messages only). Throws
 * {@link DataError} (`file: byte N: what is wrong`) for anything malformed; F32 comes back as Float32Array, I64 as BigInt64Array,
 * F16/BF16 as their raw bits in a Uint16Array.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): DecodedSafetensors {
  assertLittleEndianHost();
  const fail = (offset: number, detail: string): never => {
    throw new DataError(`${file}: byte ${offset}: ${detail}`, file, offset);
  };
  if (bytes.byteLength < 8)
    fail(0, `file is ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(bytes.byteLength - 8))
    fail(0, `header length ${n} goes beyond the end of the file (${bytes.byteLength} bytes)`);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(0, `header length ${n} is above the 100 MB limit`);
  const headerLength = Number(n);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    );
  } catch {
    fail(8, 'header is not valid UTF-8');
  }
  const byteAt = (charAt: number): number => 8 + utf8Length(text.slice(0, charAt));
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;

  let header: HeaderTensor[] = [];
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  try {
    const doc = new JsonReader(text).parseDocument();
    if (doc.kind !== 'object')
      throw new HeaderProblem(doc.at, `header must be a JSON object, found ${describe(doc)}`);
    for (const entry of doc.entries) {
      if (entry.key === '__metadata__') {
        const v = entry.value;
        if (v.kind !== 'object')
          throw new HeaderProblem(v.at, `__metadata__ must be an object of strings, found ${describe(v)}`);
        for (const m of v.entries) {
          if (m.value.kind !== 'string')
            throw new HeaderProblem(
              m.value.at,
              `__metadata__ ${JSON.stringify(m.key)} must be a string, found ${describe(m.value)}`,
            );
          if (m.key === '__proto__')
            throw new HeaderProblem(m.at, `'__proto__' is not allowed as a metadata key`);
          metadata[m.key] = m.value.value;
        }
        continue;
      }
      if (entry.key === '__proto__')
        throw new HeaderProblem(entry.at, `'__proto__' is not allowed as a tensor name`);
      header.push(readTensorInfo(entry.key, entry.at, entry.value));
    }
    for (const t of header)
      if (t.end > dataLength)
        throw new HeaderProblem(
          t.offsetsAt,
          `data_offsets [${t.begin}, ${t.end}] of ${JSON.stringify(t.name)} go beyond the ${dataLength} data bytes`,
        );
  } catch (e) {
    if (e instanceof HeaderProblem) fail(byteAt(e.at), e.message);
    throw e;
  }

  header = [...header].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  let previous: HeaderTensor | undefined;
  for (const t of header) {
    if (t.begin !== expectedBegin) {
      const where = dataStart + Math.min(t.begin, expectedBegin);
      if (t.begin > expectedBegin)
        fail(
          where,
          `${t.begin - expectedBegin} bytes of data before ${JSON.stringify(t.name)} belong to no tensor`,
        );
      fail(
        dataStart + t.begin,
        `${JSON.stringify(t.name)} overlaps ${JSON.stringify(previous?.name)} (data_offsets [${t.begin}, ${t.end}], previous ends at ${expectedBegin})`,
      );
    }
    expectedBegin = t.end;
    previous = t;
  }
  if (expectedBegin !== dataLength)
    fail(dataStart + expectedBegin, `${dataLength - expectedBegin} trailing bytes after the last tensor`);

  const tensors = new Map<string, DecodedTensor>();
  for (const t of header) {
    const start = dataStart + t.begin;
    const data = view(bytes, start, t.end - t.begin, t.dtype);
    if (t.dtype === 'BOOL') {
      const bad = (data as Uint8Array).findIndex((b) => b > 1);
      if (bad >= 0)
        fail(
          start + bad,
          `BOOL tensor ${JSON.stringify(t.name)} holds byte ${(data as Uint8Array)[bad]}, not 0 or 1`,
        );
    }
    tensors.set(t.name, { dtype: t.dtype, shape: t.shape, data } as DecodedTensor);
  }
  return { tensors, metadata: { ...metadata } };
}

/** A typed view of `length` bytes at `start`; copied when `start` is not a multiple of the element size. */
function view(bytes: Uint8Array, start: number, length: number, dtype: SafetensorsDtype): TensorData {
  const size = DTYPE_SIZE[dtype];
  const Ctor = DTYPE_ARRAY[dtype] as new (buffer: ArrayBuffer, offset: number, length: number) => TensorData;
  const absolute = bytes.byteOffset + start;
  if (absolute % size === 0 && bytes.buffer instanceof ArrayBuffer)
    return new Ctor(bytes.buffer, absolute, length / size);
  const copy = new ArrayBuffer(length);
  new Uint8Array(copy).set(bytes.subarray(start, start + length));
  return new Ctor(copy, 0, length / size);
}

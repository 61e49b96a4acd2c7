/**
 * NumPy's `.npy` files (format versions 1, 2 and 3): the magic `\x93NUMPY`, a version, a header length, a Python
 * dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }`, then the elements in C order.
 * Read here: float32 and uint8 images, and integer labels (int8 .. int64, uint8 .. uint64). Every header claim is
 * checked against the file before anything is allocated; errors name the file and the byte offset.
 */
import { READ_LIMITS, readRegularFile } from '../files/read.js';
import { DataError } from '../errors.js';
import type { RawImages } from './types.js';

/** A decoded .npy array: its NumPy dtype (`float32`, `uint8`, `int64`), shape, and values. */
export interface NpyArray {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Float32Array for float32, Uint8Array for uint8, Float64Array (exact integers) for the other integer types. */
  readonly data: Float32Array | Uint8Array | Float64Array;
  /** Where the elements start in the file. */
  readonly dataOffset: number;
  readonly itemSize: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** NumPy's type codes netspec reads: kind letter and item size → dtype name. */
const DTYPES: Readonly<Record<string, string>> = {
  f4: 'float32',
  u1: 'uint8',
  i1: 'int8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
};

/** True when `bytes` start with the .npy magic. */
export function isNpy(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && MAGIC.every((b, i) => bytes[i] === b);
}

function fail(file: string, offset: number, message: string): never {
  throw new DataError(`${file}: byte ${offset}: ${message}`, file, offset);
}

/** Parses a .npy file's bytes. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (!isNpy(bytes)) fail(file, 0, 'not a .npy file: expected the magic bytes \\x93NUMPY');
  if (bytes.length < 10) fail(file, bytes.length, 'truncated header');
  const major = bytes[6] as number;
  if (major < 1 || major > 3) fail(file, 6, `format version ${major}.${bytes[7] as number} is not 1, 2 or 3`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail(file, bytes.length, 'truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length)
    fail(file, bytes.length, `truncated header: it claims ${headerLength} bytes, the file ends first`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataOffset),
  );
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  if (!descr) fail(file, headerStart, `the header has no 'descr' NumPy reads: ${header.trim()}`);
  const code = `${descr[2]}${descr[3]}`;
  const dtype = DTYPES[code];
  if (dtype === undefined)
    fail(
      file,
      headerStart,
      `dtype '${descr[1]}${code}' is not read here: expected float32 or uint8 images, integer labels`,
    );
  if (/'fortran_order'\s*:\s*True/.test(header))
    fail(file, headerStart, 'fortran_order is True: save the array in C order (np.ascontiguousarray)');
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) fail(file, headerStart, `the header has no 'shape': ${header.trim()}`);
  const shape = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail(file, headerStart, `the shape (${shapeMatch[1]}) is not a tuple of sizes`);
  const itemSize = Number(descr[3]);
  const count = shape.reduce((a, b) => a * b, 1);
  const want = count * itemSize;
  const have = bytes.length - dataOffset;
  if (have < want)
    fail(
      file,
      bytes.length,
      `truncated data: the shape (${shape.join(', ')}) needs ${want} bytes after the ${dataOffset}-byte header, found ${have}`,
    );
  if (have > want) fail(file, dataOffset + want, `${have - want} unexpected bytes after the array`);
  const little = descr[1] !== '>';
  let data: Float32Array | Uint8Array | Float64Array;
  if (dtype === 'uint8' || dtype === 'int8') {
    const raw = bytes.subarray(dataOffset, dataOffset + want);
    data = dtype === 'uint8' ? raw : Float64Array.from(new Int8Array(raw.buffer, raw.byteOffset, raw.length));
  } else if (dtype === 'float32') {
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataOffset + 4 * i, little);
  } else {
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = dataOffset + itemSize * i;
      data[i] =
        dtype === 'int16'
          ? view.getInt16(at, little)
          : dtype === 'uint16'
            ? view.getUint16(at, little)
            : dtype === 'int32'
              ? view.getInt32(at, little)
              : dtype === 'uint32'
                ? view.getUint32(at, little)
                : dtype === 'int64'
                  ? Number(view.getBigInt64(at, little))
                  : Number(view.getBigUint64(at, little));
    }
  }
  return { dtype, shape, data, dataOffset, itemSize };
}

/** Reads and parses the .npy file `file`. */
export function readNpy(file: string): NpyArray {
  return parseNpy(readRegularFile(file, '.npy file', READ_LIMITS.tensors), file);
}

/**
 * An images array: float32 (ToTensor's [0, 1] scale; every value finite) or uint8 (0..255), of shape
 * [N, C, H, W], [N, H, W] (one channel) or, when `single` allows, [H, W] (one grey image).
 */
export function npyImages(array: NpyArray, file: string, single = false): RawImages {
  const { dtype, shape, data } = array;
  if (!(data instanceof Float32Array || data instanceof Uint8Array))
    fail(file, 8, `images must be float32 or uint8, found ${dtype}`);
  const forms = single ? '[N, C, H, W], [N, H, W] or [H, W]' : '[N, C, H, W] or [N, H, W]';
  let dims: [number, number, number, number];
  if (shape.length === 4) dims = shape as [number, number, number, number];
  else if (shape.length === 3) dims = [shape[0]!, 1, shape[1]!, shape[2]!];
  else if (shape.length === 2 && single) dims = [1, 1, shape[0]!, shape[1]!];
  else fail(file, 8, `images have shape (${shape.join(', ')}), expected ${forms}`);
  const [count, channels, height, width] = dims;
  if (count === 0 || channels === 0 || height === 0 || width === 0)
    fail(file, 8, `images have shape (${shape.join(', ')}): no pixels`);
  if (data instanceof Float32Array) {
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      fail(file, array.dataOffset + 4 * bad, `element ${bad} is ${String(data[bad])}: images must be finite`);
  }
  return { count, channels, height, width, pixels: data };
}

/** A labels array: integers of shape [N], each in 0..classes-1. */
export function npyLabels(array: NpyArray, file: string, classes: number): Uint8Array {
  const { dtype, shape, data } = array;
  if (dtype === 'float32') fail(file, 8, 'labels must be integers, found float32');
  if (shape.length !== 1) fail(file, 8, `labels have shape (${shape.join(', ')}), expected (N,)`);
  const labels = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v < 0 || v >= classes)
      fail(
        file,
        array.dataOffset + array.itemSize * i,
        `label ${v} of item ${i} is out of range: expected 0..${classes - 1}`,
      );
    labels[i] = v;
  }
  return labels;
}

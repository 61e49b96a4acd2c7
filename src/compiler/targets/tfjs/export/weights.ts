/**
 * Weight files of exported tfjs models: tensors packed into one little-endian buffer in manifest order and cut
 * into 4 MiB shards (`group1-shard1of3.bin`, ...), as tfjs's converter writes them; tfjs's loaders fetch every
 * shard of a group, join them and slice the tensors back out, so a tensor may straddle two shards.
 * Also the PyTorch → TensorFlow layout changes the graph format needs, and the netspec metadata both formats'
 * model.json carry. Pure: no tfjs, no I/O.
 */
import type { IrNetwork } from '../../../ir.js';
import type { StateTensor } from '../state-dict.js';

/**
 * What both formats' model.json say about the network under `userDefinedMetadata.netspec`: its name, shapes and
 * input layout, then `extra` (the format's own entries and the caller's metadata).
 */
export function netspecMetadata(
  ir: IrNetwork,
  extra: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return {
    network: ir.name,
    inputShape: [...ir.inputShape],
    outputShape: [...ir.outputShape],
    layout: 'NCHW',
    ...extra,
  };
}

/** The shard size of tfjs's converter (`--weight_shard_size_bytes`, default 4 MiB). */
export const SHARD_BYTES = 4 * 1024 * 1024;

/** One tensor of a weights manifest, as tfjs's `WeightsManifestEntry`. */
export interface ManifestEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
}

/** One group of a weights manifest: shard files, then the tensors they hold in order. */
export interface ManifestGroup {
  readonly paths: readonly string[];
  readonly weights: readonly ManifestEntry[];
}

/** A tensor to write: its manifest entry and its row-major values. */
export interface WeightTensor extends ManifestEntry {
  readonly data: Float32Array | Int32Array;
}

/** Shard files by name, and the manifest group naming them. */
export interface Shards {
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly group: ManifestGroup;
}

/** The bytes of `data` as stored in a weight file (little-endian, as every platform tfjs runs on). */
function bytesOf(data: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * `bytes` cut into shards of at most `shardBytes` (`group1-shard{i}of{n}.bin`; one empty shard for a model
 * without weights, which tfjs's loaders accept), with `weights` as the group's tensors.
 */
export function shardBytes(
  bytes: Uint8Array,
  weights: readonly ManifestEntry[],
  shardSize: number = SHARD_BYTES,
): Shards {
  const count = Math.max(1, Math.ceil(bytes.length / shardSize));
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++)
    files.set(`group1-shard${i + 1}of${count}.bin`, bytes.slice(i * shardSize, (i + 1) * shardSize));
  return { files, group: { paths: [...files.keys()], weights } };
}

/** The tensors packed in order and sharded; their manifest entries keep name, shape and dtype. */
export function shardTensors(tensors: readonly WeightTensor[], shardSize: number = SHARD_BYTES): Shards {
  const total = tensors.reduce((n, t) => n + t.data.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const t of tensors) {
    bytes.set(bytesOf(t.data), offset);
    offset += t.data.byteLength;
  }
  const weights = tensors.map(({ name, shape, dtype }) => ({ name, shape: [...shape], dtype }));
  return shardBytes(bytes, weights, shardSize);
}

/** A float32 tensor in memory: shape and row-major values. */
export type FloatTensor = StateTensor;

/** `t` transposed so that output axis k is input axis perm[k] (a new array). */
export function transposeTensor(t: FloatTensor, perm: readonly number[]): FloatTensor {
  const { shape, data } = t;
  const rank = shape.length;
  if (perm.length !== rank) throw new Error(`export: permutation of rank ${perm.length} for rank ${rank}`);
  const strides = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k--) strides[k] = (strides[k + 1] ?? 1) * (shape[k + 1] ?? 1);
  const outShape = perm.map((p) => shape[p] ?? 1);
  const step = perm.map((p) => strides[p] ?? 0);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[src] ?? 0;
    for (let k = rank - 1; k >= 0; k--) {
      const s = step[k] ?? 0;
      if ((index[k] ?? 0) + 1 < (outShape[k] ?? 1)) {
        index[k] = (index[k] ?? 0) + 1;
        src += s;
        break;
      }
      src -= s * (index[k] ?? 0);
      index[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** A PyTorch conv weight [out, in/groups, kh, kw] as TensorFlow's HWIO [kh, kw, in/groups, out]. */
export function convKernelHwio(weight: FloatTensor): FloatTensor {
  return transposeTensor(weight, [2, 3, 1, 0]);
}

/**
 * An HWIO kernel spread to its dilated extent with zeros between the taps, as TorchConv2d does at run time
 * (tfjs's conv2d refuses dilation together with stride).
 */
export function dilateHwio(kernel: FloatTensor, [dh, dw]: readonly [number, number]): FloatTensor {
  if (dh === 1 && dw === 1) return kernel;
  const [kh = 1, kw = 1, i = 1, o = 1] = kernel.shape;
  const eh = (kh - 1) * dh + 1;
  const ew = (kw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * i * o);
  const block = i * o;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      out.set(
        kernel.data.subarray((y * kw + x) * block, (y * kw + x + 1) * block),
        (y * dh * ew + x * dw) * block,
      );
  return { shape: [eh, ew, i, o], data: out };
}

/** An HWIO kernel's output channels cut into `groups` equal kernels (group g: channels g*o/groups ...). */
export function splitHwioOutputs(kernel: FloatTensor, groups: number): FloatTensor[] {
  const [kh = 1, kw = 1, i = 1, o = 1] = kernel.shape;
  const per = o / groups;
  return Array.from({ length: groups }, (_, g) => {
    const out = new Float32Array(kh * kw * i * per);
    for (let r = 0; r < kh * kw * i; r++)
      out.set(kernel.data.subarray(r * o + g * per, r * o + (g + 1) * per), r * per);
    return { shape: [kh, kw, i, per], data: out };
  });
}

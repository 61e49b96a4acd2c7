/**
 * Tile for the wasm backend as block copies in the wasm heap. tfjs-backend-wasm's Tile visits every output
 * element, which made broadcasting BN's per-channel factor to [N, H, W, C] in the BatchNorm gradient one of the
 * largest costs of a training step. Here each innermost row is written once and every repetition is a
 * copyWithin of an already written block, so the cost is that of a memcpy of the output.
 * String tensors are refused with an error (the built-in kernel aborts the WebAssembly module on them).
 */
import { getKernel, registerKernel, Tile, unregisterKernel, util } from '@tensorflow/tfjs-core';
import type {
  DataType,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
  TileAttrs,
  TileInputs,
  TypedArray,
} from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): TypedArray;
}

/** Tiles `src` (shape `shape`) by `reps` into `out` (row-major, already sized). */
export function tileInto(
  src: TypedArray,
  shape: readonly number[],
  reps: readonly number[],
  out: TypedArray,
): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[0] as number;
    return;
  }
  const inStrides = util.computeStrides(shape as number[]);
  const outShape = shape.map((d, i) => d * (reps[i] ?? 1));
  const outStrides = util.computeStrides(outShape);
  const inStride = (d: number): number => (d === rank - 1 ? 1 : (inStrides[d] as number));
  const outStride = (d: number): number => (d === rank - 1 ? 1 : (outStrides[d] as number));
  const fill = (d: number, from: number, to: number): void => {
    const size = shape[d] as number;
    const rep = reps[d] as number;
    if (d === rank - 1) {
      const row = src.subarray(from, from + size);
      for (let r = 0; r < rep; r++) out.set(row, to + r * size);
      return;
    }
    for (let i = 0; i < size; i++) fill(d + 1, from + i * inStride(d), to + i * outStride(d));
    const block = size * outStride(d);
    for (let r = 1; r < rep; r++) out.copyWithin(to + r * block, to, to + block);
  };
  fill(0, 0, 0);
}

/** The kernel function. */
export const tileWasm: KernelFunc = (args) => {
  const { x } = args.inputs as TileInputs;
  const { reps } = args.attrs as unknown as TileAttrs;
  if (x === undefined) throw new Error('Tile needs input x');
  if (x.dtype === 'string' || x.dtype === 'complex64')
    throw new Error(`wasm Tile does not support ${x.dtype}`);
  const backend = args.backend as WasmHeapBackend;
  const outShape = x.shape.map((d, i) => d * (reps[i] ?? 1));
  const out = backend.makeOutput(outShape, x.dtype);
  if (util.sizeFromShape(outShape) > 0)
    tileInto(backend.typedArrayFromHeap(x), x.shape, reps, backend.typedArrayFromHeap(out));
  return out;
};

/** Kernel config registered by {@link registerWasmTile}. */
export const tileWasmConfig: KernelConfig = { kernelName: Tile, backendName: BACKEND, kernelFunc: tileWasm };

/** Replaces wasm's own Tile with this one (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmTile(): boolean {
  const current = getKernel(Tile, BACKEND);
  if (current?.kernelFunc === tileWasm) return false;
  if (current !== undefined) unregisterKernel(Tile, BACKEND);
  registerKernel(tileWasmConfig);
  return true;
}

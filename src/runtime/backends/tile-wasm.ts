/**
 * Tile for the wasm backend as block copies in the wasm heap. tfjs-backend-wasm's Tile visits every output
 * element, which made broadcasting BN's per-channel factor to [N, H, W, C] in the BatchNorm gradient one of the
 * largest costs of a training step. Here each innermost row is written once and every repetition is a
 * copyWithin of an already written block, so the cost is that of a memcpy of the output.
 * String tensors are refused with an error (the built-in kernel aborts the WebAssembly module on them).
 */
import { Tile, util } from '@tensorflow/tfjs-core';
import { tileInto } from './array-kernels.js';
import { replaceWasmKernel } from './wasm-heap.js';
import type { KernelFunc, TileAttrs, TileInputs } from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from './wasm-heap.js';

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

/** Replaces wasm's own Tile with this one (after tfjs-backend-wasm is imported); true when this call did. */
export function registerWasmTile(): boolean {
  return replaceWasmKernel(Tile, tileWasm);
}

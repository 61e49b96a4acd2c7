/** The helpers netspec's wasm kernels share: replacing and restoring a built-in kernel, heap views, kernel calls. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import {
  builtinWasmKernel,
  heapFloat32,
  replaceWasmKernel,
  restoreWasmKernel,
  runWasmKernel,
  WASM_BACKEND,
} from '../../../src/runtime/backends/wasm-heap.js';
import type { WasmHeapBackend } from '../../../src/runtime/backends/wasm-heap.js';

beforeAll(async () => {
  tf.env().set('PROD', true);
  await selectBackend('wasm');
});

describe('replaceWasmKernel / restoreWasmKernel', () => {
  it('installs a replacement once, keeps the built-in with its setup, and puts it back', () => {
    const name = 'NetspecWasmHeapTestKernel';
    const setupFunc = vi.fn();
    const builtinFunc: tf.KernelFunc = () => [];
    const ours: tf.KernelFunc = () => [];
    tf.registerKernel({ kernelName: name, backendName: WASM_BACKEND, kernelFunc: builtinFunc, setupFunc });
    try {
      expect(restoreWasmKernel(name, ours)).toBe(false);
      expect(replaceWasmKernel(name, ours)).toBe(true);
      expect(replaceWasmKernel(name, ours)).toBe(false);
      const registered = tf.getKernel(name, WASM_BACKEND);
      expect(registered?.kernelFunc).toBe(ours);
      expect(registered?.setupFunc).toBe(setupFunc);
      expect(builtinWasmKernel(name)?.kernelFunc).toBe(builtinFunc);

      expect(restoreWasmKernel(name, ours)).toBe(true);
      expect(tf.getKernel(name, WASM_BACKEND)?.kernelFunc).toBe(builtinFunc);
      // The backend is already initialised, so restoring runs the built-in's setup itself.
      expect(setupFunc).toHaveBeenCalledWith(tf.findBackend(WASM_BACKEND));
      expect(restoreWasmKernel(name, ours)).toBe(false);
      expect(replaceWasmKernel(name, ours)).toBe(true);
    } finally {
      tf.unregisterKernel(name, WASM_BACKEND);
    }
  });

  it("holds wasm's own kernels for every one selectBackend('wasm') replaced, and none for Conv2DBackpropFilter", () => {
    for (const name of ['Conv2DBackpropInput', 'Tile', 'Slice', 'MaxPoolGrad', 'Sum', 'Mean']) {
      const builtin = builtinWasmKernel(name);
      expect(builtin, name).toBeDefined();
      expect(tf.getKernel(name, WASM_BACKEND)?.kernelFunc, name).not.toBe(builtin?.kernelFunc);
      expect(tf.getKernel(name, WASM_BACKEND)?.setupFunc, name).toBe(builtin?.setupFunc);
    }
    expect(builtinWasmKernel('Conv2DBackpropFilter')).toBeUndefined();
  });
});

describe('heapFloat32 and runWasmKernel', () => {
  it('views a float32 tensor in the heap and refuses other dtypes', () => {
    const backend = tf.backend() as unknown as WasmHeapBackend;
    const x = tf.tensor1d([1.5, -2, 3]);
    const ints = tf.tensor1d([1, 2], 'int32');
    try {
      const view = heapFloat32(backend, { dataId: x.dataId, shape: x.shape, dtype: x.dtype });
      expect(view).toBeInstanceOf(Float32Array);
      expect(Array.from(view)).toEqual([1.5, -2, 3]);
      expect(() =>
        heapFloat32(backend, { dataId: ints.dataId, shape: ints.shape, dtype: ints.dtype }),
      ).toThrow('expected a float32 tensor in the wasm heap, got int32');
    } finally {
      x.dispose();
      ints.dispose();
    }
  });

  it('runs another wasm kernel, and names one that wasm lacks', () => {
    const backend = tf.backend();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    try {
      const out = runWasmKernel('Transpose', { x }, { perm: [1, 0] }, backend);
      expect(out.shape).toEqual([3, 2]);
      expect(Array.from(backend.readSync(out.dataId) as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
      backend.disposeData(out.dataId);
      expect(() => runWasmKernel('NoSuchKernel', { x }, {}, backend)).toThrow(
        "the wasm backend has no 'NoSuchKernel' kernel",
      );
    } finally {
      x.dispose();
    }
  });
});

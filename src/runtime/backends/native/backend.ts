/** The native backend's class: tfjs-backend-cpu's storage under another name, with float32 arrays recycled. */
import { totalmem } from 'node:os';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { backend_util, DataId, DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { loadedNativeAddon } from './addon.js';

/** The tfjs backend name. */
export const NATIVE_BACKEND = 'native';

/** Smallest array (in floats) worth recycling; smaller ones cost little to allocate. */
const POOL_MIN_FLOATS = 16 * 1024;
/**
 * Most memory (bytes) kept for reuse: a quarter of the machine's memory, at least 1 GiB. A training step's
 * intermediate tensors are freed at its end and asked for again, size for size, by the next step, so the pool has
 * to hold a whole step's worth: MobileNetV2 on 112x112 at batch 64 allocates 6.9 GB a step, and with a 1 GiB pool
 * the 4.3 GB allocated afresh cost 3-4 s of CPU per step (steps of 10-18 s instead of 2-4 s).
 */
const POOL_MAX_BYTES = Math.max(1024 * 1024 * 1024, Math.floor(totalmem() / 4));

/**
 * The cpu backend under another name (so its kernels can be swapped without touching 'cpu'), plus recycling of
 * float32 arrays. Touching fresh memory costs a page fault per 4 KiB, which on virtual machines dominated the
 * elementwise kernels (~20 us per page measured here: 45 ms to first write 9 MiB, 3 ms to write it again). So
 * arrays of disposed tensors are kept by length and handed to the native kernels for their outputs.
 * Safe because: arrays that came from outside (write, move: a caller may still hold them) are never reused;
 * reads return copies, so no caller holds a reusable array; and an output of a delegated cpu kernel that
 * shares an input's buffer (a subarray view, as its contiguous Slice makes) is copied (see registerNativeBackend).
 */
export class NativeBackend extends MathBackendCPU {
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  private readonly foreign = new WeakSet<ArrayBufferLike>();
  /** Set while a kernel stores its output (makeTensorInfo calls write): those arrays are the kernel's own. */
  private kernelOutput = false;
  private readonly weightKeys = new Map<DataId, number>();
  private nextWeightKey = 1;

  /**
   * A number naming the data of `dataId` for the addon's filter cache. tfjs never changes the values of a data
   * id (a variable's assign takes the new value's id), so a key stands for fixed values until disposeData.
   */
  weightsKey(dataId: DataId): number {
    let key = this.weightKeys.get(dataId);
    if (key === undefined) {
      key = this.nextWeightKey++;
      this.weightKeys.set(dataId, key);
    }
    return key;
  }

  /** A float32 array of `length` elements with arbitrary contents, reused when one is free. */
  allocFloats(length: number): Float32Array {
    const reused = this.pool.get(length)?.pop();
    if (reused === undefined) return new Float32Array(length);
    this.pooledBytes -= reused.byteLength;
    return reused;
  }

  /** The same, zero-filled. */
  zeroFloats(length: number): Float32Array {
    const reused = this.pool.get(length)?.pop();
    if (reused === undefined) return new Float32Array(length);
    this.pooledBytes -= reused.byteLength;
    return reused.fill(0);
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    if (!this.kernelOutput) this.markForeign(values);
    return super.write(values, shape, dtype);
  }

  override makeTensorInfo(
    shape: number[],
    dtype: DataType,
    values?: backend_util.BackendValues | string[],
  ): TensorInfo {
    this.kernelOutput = true;
    try {
      return super.makeTensorInfo(shape, dtype, values);
    } finally {
      this.kernelOutput = false;
    }
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.markForeign(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    return values instanceof Float32Array ? values.slice() : values;
  }

  override async read(dataId: DataId): Promise<backend_util.BackendValues> {
    const values = await super.read(dataId);
    return values instanceof Float32Array ? values.slice() : values;
  }

  override disposeData(dataId: DataId, force?: boolean): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const gone = super.disposeData(dataId, force);
    const key = gone ? this.weightKeys.get(dataId) : undefined;
    if (key !== undefined) {
      loadedNativeAddon()?.forgetWeights(key);
      this.weightKeys.delete(dataId);
    }
    if (
      gone &&
      values instanceof Float32Array &&
      values.length >= POOL_MIN_FLOATS &&
      values.byteOffset === 0 &&
      values.byteLength === values.buffer.byteLength &&
      !this.foreign.has(values.buffer) &&
      this.pooledBytes + values.byteLength <= POOL_MAX_BYTES
    ) {
      const list = this.pool.get(values.length);
      if (list) list.push(values);
      else this.pool.set(values.length, [values]);
      this.pooledBytes += values.byteLength;
    }
    return gone;
  }

  override dispose(): void {
    for (const key of this.weightKeys.values()) loadedNativeAddon()?.forgetWeights(key);
    this.weightKeys.clear();
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }

  private markForeign(values: backend_util.BackendValues | null | undefined): void {
    if (values && ArrayBuffer.isView(values)) this.foreign.add(values.buffer);
  }
}

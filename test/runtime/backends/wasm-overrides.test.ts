/**
 * netspec's replacements for wasm kernels that are naive loops in tfjs-backend-wasm (Tile, Slice, MaxPoolGrad,
 * Sum and Mean over leading axes) against the cpu backend over grids of shapes, and for leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxPoolGradWasm } from '../../../src/runtime/backends/max-pool-grad-wasm.js';
import { meanWasm, sumWasm } from '../../../src/runtime/backends/reduce-wasm.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { sliceWasm } from '../../../src/runtime/backends/slice-wasm.js';
import { tileWasm } from '../../../src/runtime/backends/tile-wasm.js';
import { relativeError, values } from '../../support/values.js';

/** f's output on cpu and on wasm (shape and values), checking that wasm leaves no tensor or heap buffer behind. */
async function onBoth(f: () => tf.Tensor): Promise<{
  cpu: { shape: number[]; data: ArrayLike<number> };
  wasm: { shape: number[]; data: ArrayLike<number> };
}> {
  const run = (): { shape: number[]; data: ArrayLike<number> } =>
    tf.tidy(() => {
      const t = f();
      return { shape: t.shape, data: t.dataSync() };
    });
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  const wasm = run();
  expect(tf.memory().numTensors).toBe(tensors);
  expect(backend.numDataIds()).toBe(buffers);
  return { cpu, wasm };
}

beforeAll(async () => {
  tf.env().set('PROD', true);
  await selectBackend('wasm');
});

describe('the replacements are the registered wasm kernels', () => {
  it.each([
    ['Tile', tileWasm],
    ['Slice', sliceWasm],
    ['MaxPoolGrad', maxPoolGradWasm],
    ['Sum', sumWasm],
    ['Mean', meanWasm],
  ] as const)('%s', (name, kernelFunc) => {
    expect(tf.getKernel(name, 'wasm')?.kernelFunc).toBe(kernelFunc);
  });
});

describe('wasm Tile equals cpu', () => {
  const cases: [number[], number[], tf.DataType][] = [
    [[1, 1, 1, 64], [64, 16, 16, 1], 'float32'],
    [[2, 3], [3, 2], 'float32'],
    [[5], [4], 'int32'],
    [[2, 1, 3], [1, 4, 2], 'bool'],
    [[3, 2, 2, 1], [1, 1, 1, 1], 'float32'],
    [[2, 2, 2, 2, 3], [2, 1, 3, 1, 2], 'float32'],
    [[], [], 'float32'],
    [[0, 3], [2, 2], 'float32'],
  ];
  it.each(cases)('%j tiled by %j (%s)', async (shape, reps, dtype) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = Array.from(values(size, 9), (v) => (dtype === 'float32' ? v : v > 0 ? 1 : 0));
    const { cpu, wasm } = await onBoth(() => tf.tile(tf.tensor(data, shape, dtype), reps));
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
  });
  it('refuses strings with a message (the built-in kernel aborts the WebAssembly module on them)', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.tidy(() => tf.tile(tf.tensor(['a', 'b']), [2]))).toThrow(
      'wasm Tile does not support string',
    );
  });
});

describe('wasm Slice equals cpu', () => {
  const cases: [number[], number[], number[]][] = [
    [
      [64, 10, 10, 8],
      [0, 1, 1, 0],
      [64, 8, 8, 8],
    ],
    [
      [4, 6, 6, 3],
      [1, 2, 0, 1],
      [2, 3, 6, 2],
    ],
    [
      [3, 5, 4, 2],
      [0, 0, 0, 0],
      [3, 5, 4, 2],
    ],
    [
      [3, 5, 4, 2],
      [2, 0, 0, 0],
      [1, 5, 4, 2],
    ],
    [[7], [2], [3]],
    [
      [4, 5],
      [1, -1 + 1],
      [-1, 3],
    ],
    [
      [2, 3, 4, 5, 6],
      [1, 1, 2, 0, 3],
      [1, 2, 2, 5, 3],
    ],
    [
      [3, 3],
      [1, 1],
      [0, 2],
    ],
  ];
  it.each(cases)('%j from %j size %j', async (shape, begin, size) => {
    const x = values(
      shape.reduce((a, b) => a * b, 1),
      3,
    );
    const { cpu, wasm } = await onBoth(() => tf.slice(tf.tensor(x, shape), begin, size));
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
  });
  it('slices int32 tensors and leaves strings to the built-in kernel', async () => {
    await tf.setBackend('wasm');
    expect(tf.tidy(() => tf.slice(tf.tensor([1, 2, 3, 4], [4], 'int32'), [1], [2]).arraySync())).toEqual([
      2, 3,
    ]);
    expect(tf.tidy(() => tf.slice(tf.tensor(['a', 'b', 'c']), [1], [2]).arraySync())).toEqual(['b', 'c']);
  });
});

describe('wasm Sum and Mean equal cpu', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[64, 8, 8, 16], [0, 1, 2], false],
    [[64, 8, 8, 16], [0, 1, 2], true],
    [[4, 3, 5], [1, 0], false],
    [[4, 3, 5], 0, true],
    [[6, 7], [0], false],
    [[4, 3, 5], [2], false],
    [[4, 3, 5], [0, 2], true],
    [[4, 3, 5], [0, 1, 2], false],
    [[4, 3, 5], [-3, -2], false],
  ];
  it.each(cases)('%j over %j (keepDims %s)', async (shape, axis, keepDims) => {
    const x = values(
      shape.reduce((a, b) => a * b, 1),
      5,
    );
    for (const op of [tf.sum, tf.mean]) {
      const { cpu, wasm } = await onBoth(() => op(tf.tensor(x, shape), axis, keepDims));
      expect(wasm.shape).toEqual(cpu.shape);
      expect(relativeError(wasm.data, cpu.data)).toBeLessThanOrEqual(1e-5);
    }
  });
  it('sums int32 through the built-in kernel', async () => {
    await tf.setBackend('wasm');
    expect(
      tf.tidy(() =>
        tf
          .sum(
            tf.tensor(
              [
                [1, 2],
                [3, 4],
              ],
              [2, 2],
              'int32',
            ),
            0,
          )
          .arraySync(),
      ),
    ).toEqual([4, 6]);
  });
});

describe('wasm MaxPoolGrad equals cpu, through tf.grad of maxPool', () => {
  const cases: [number[], number, number, 'valid' | 'same' | number][] = [
    [[4, 18, 18, 8], 3, 2, 'valid'],
    [[2, 9, 9, 3], 3, 2, 'same'],
    [[2, 8, 7, 5], 2, 2, 'valid'],
    [[1, 7, 7, 2], 3, 1, 1],
    [[3, 6, 6, 4], 3, 3, 'same'],
  ];
  it.each(cases)('%j pool %i stride %i pad %j', async (shape, size, stride, pad) => {
    // Rounded values make ties, which the first maximum in row-major order must win on both backends.
    const x = Array.from(
      values(
        shape.reduce((a, b) => a * b, 1),
        13,
      ),
      (v) => Math.round(v * 4) / 4,
    );
    const { cpu, wasm } = await onBoth(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, pad), 1.5)))(
        tf.tensor(x, shape),
      ),
    );
    expect(wasm.shape).toEqual(shape);
    expect(relativeError(wasm.data, cpu.data)).toBeLessThanOrEqual(1e-6);
  });
});

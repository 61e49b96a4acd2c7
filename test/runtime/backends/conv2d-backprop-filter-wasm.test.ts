// The union package, as training uses it: it also registers the gradient functions.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  makeConv2dBackpropFilterWasm,
  registerWasmConv2DBackpropFilter,
} from '../../../src/runtime/backends/conv2d-backprop-filter-wasm.js';
import type { BackpropFilterStrategy } from '../../../src/runtime/backends/conv2d-backprop-filter-wasm.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { relativeError, values } from '../../support/values.js';

type Pad =
  'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Runs Conv2DBackpropFilter on the active backend: the registered kernel, or wasm's with a forced strategy. */
function backpropFilter(
  x: Float32Array,
  xShape: number[],
  dy: Float32Array,
  dyShape: number[],
  filterShape: number[],
  stride: number,
  pad: Pad,
  strategy?: BackpropFilterStrategy,
): Float32Array {
  const attrs = {
    strides: [stride, stride],
    pad,
    dataFormat: 'NHWC',
    filterShape,
  } as unknown as tf.NamedAttrMap;
  return tf.tidy(() => {
    const inputs = { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) };
    if (strategy === undefined) {
      const out = tf.engine().runKernel('Conv2DBackpropFilter', inputs, attrs) as tf.Tensor;
      expect(out.shape).toEqual(filterShape);
      return out.dataSync() as Float32Array;
    }
    const backend = tf.backend();
    const out = makeConv2dBackpropFilterWasm(strategy)({ inputs, attrs, backend }) as tf.TensorInfo;
    expect(out.shape).toEqual(filterShape);
    const values = (backend.readSync(out.dataId) as Float32Array).slice();
    backend.disposeData(out.dataId);
    return values;
  });
}

async function on<T>(backend: 'cpu' | 'wasm', f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

beforeAll(async () => {
  tf.env().set('PROD', true); // silences tfjs's "install tfjs-node" banner in the test output
  await selectBackend('wasm');
});

interface Case {
  batch: number;
  height: number;
  width: number;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  pad: Pad;
}

const pads: Pad[] = [
  'valid',
  'same',
  2,
  [
    [0, 0],
    [1, 2],
    [0, 3],
    [0, 0],
  ],
];
const cases: Case[] = [];
for (const kernel of [1, 3, 5, 7]) {
  for (const stride of [1, 2]) {
    for (const pad of pads) {
      for (const [height, width] of [
        [9, 9],
        [8, 11],
      ] as const) {
        const i = cases.length;
        cases.push({
          batch: (i % 3) + 1,
          height,
          width,
          inC: [1, 3, 4][i % 3] as number,
          outC: [2, 5][i % 2] as number,
          kernel,
          stride,
          pad,
        });
      }
    }
  }
}

describe('wasm Conv2DBackpropFilter', () => {
  it("is registered for wasm (and registering again is a no-op); Conv2DBackpropInput is wasm's own", () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(registerWasmConv2DBackpropFilter()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
  });

  it.each(
    cases.map(
      (c) =>
        [
          `N${c.batch} ${c.height}x${c.width}x${c.inC}->${c.outC} k${c.kernel} s${c.stride} pad ${JSON.stringify(c.pad)}`,
          c,
        ] as const,
    ),
  )('equals the cpu kernel with both strategies: %s', async (_name, c) => {
    const xShape = [c.batch, c.height, c.width, c.inC];
    const filterShape = [c.kernel, c.kernel, c.inC, c.outC];
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      filterShape as [number, number, number, number],
      c.stride,
      1,
      c.pad,
    );
    const x = values(
      xShape.reduce((a, b) => a * b),
      1,
    );
    const dy = values(
      info.outShape.reduce((a, b) => a * b),
      2,
    );
    const want = await on('cpu', () =>
      backpropFilter(x, xShape, dy, info.outShape, filterShape, c.stride, c.pad),
    );
    const registered = await on('wasm', () =>
      backpropFilter(x, xShape, dy, info.outShape, filterShape, c.stride, c.pad),
    );
    const im2col = backpropFilter(x, xShape, dy, info.outShape, filterShape, c.stride, c.pad, 'im2col');
    const conv = backpropFilter(x, xShape, dy, info.outShape, filterShape, c.stride, c.pad, 'conv');
    expect(relativeError(registered, want)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(im2col, want)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(conv, want)).toBeLessThanOrEqual(1e-4);
  });

  it('gives tf.grad of a strided conv the same gradients as cpu', async () => {
    const x = values(2 * 12 * 12 * 3, 3);
    const w = values(3 * 3 * 3 * 8, 4);
    const grads = (): [Float32Array, Float32Array] =>
      tf.tidy(() => {
        const xt = tf.tensor4d(x, [2, 12, 12, 3]);
        const wt = tf.tensor4d(w, [3, 3, 3, 8]);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
        const [dx, dw] = tf.grads(f)([xt, wt]);
        return [dx?.dataSync() as Float32Array, dw?.dataSync() as Float32Array];
      });
    const [dxCpu, dwCpu] = await on('cpu', grads);
    const [dxWasm, dwWasm] = await on('wasm', grads);
    expect(relativeError(dwWasm, dwCpu)).toBeLessThanOrEqual(1e-4);
    expect(relativeError(dxWasm, dxCpu)).toBeLessThanOrEqual(1e-4);
  });

  it.each(['im2col', 'conv'] as const)(
    'leaks no tensor and no backend buffer over repeated calls (%s)',
    async (strategy) => {
      await tf.setBackend('wasm');
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      tf.registerKernel({
        kernelName: 'Conv2DBackpropFilter',
        backendName: 'wasm',
        kernelFunc: makeConv2dBackpropFilterWasm(strategy),
      });
      const x = tf.tensor4d(values(2 * 9 * 9 * 3, 5), [2, 9, 9, 3]);
      const w = tf.tensor4d(values(5 * 5 * 3 * 4, 6), [5, 5, 3, 4]);
      // 'valid' with stride 2 on 9x9 and a 5x5 kernel exercises the crop as well.
      const step = () =>
        tf.tidy(() =>
          tf
            .grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 2, 'valid')))(w)
            .dataSync(),
        );
      step();
      const backend = tf.backend() as unknown as { numDataIds(): number };
      const tensors = tf.memory().numTensors;
      const buffers = backend.numDataIds();
      for (let i = 0; i < 20; i++) step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(backend.numDataIds()).toBe(buffers);
      x.dispose();
      w.dispose();
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      registerWasmConv2DBackpropFilter();
    },
  );

  it('says that it supports NHWC only', async () => {
    await tf.setBackend('wasm');
    expect(() =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 3, 5, 5]), dy: tf.zeros([1, 2, 5, 5]) }, {
            strides: [1, 1],
            pad: 'same',
            dataFormat: 'NCHW',
            filterShape: [3, 3, 3, 2],
          } as unknown as tf.NamedAttrMap),
      ),
    ).toThrow("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only, got 'NCHW'");
  });
});

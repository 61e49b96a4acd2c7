/**
 * netspec's wasm Conv2DBackpropInput (a forward XNNPACK convolution of the dilated dy with the flipped filter)
 * against the cpu backend's kernel over a grid of batch, channels, kernel, stride, padding and sizes; and through
 * tf.grad of conv2d, as training reaches it. Max relative error <= 1e-4; no tensor or heap buffer leaks.
 */
// The union package, as training uses it: it also registers the gradient functions.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  conv2dBackpropInputWasm,
  makeConv2dBackpropInputWasm,
  registerWasmConv2DBackpropInput,
  restoreWasmConv2DBackpropInput,
} from '../../../src/runtime/backends/conv2d-backprop-input-wasm.js';
import type { BackpropInputStrategy } from '../../../src/runtime/backends/conv2d-backprop-input-wasm.js';
import { selectBackend } from '../../../src/runtime/backends/select-backend.js';
import { relativeError, values } from '../../support/values.js';

type Pad =
  'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

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

/** dy's shape for a case, from the forward convolution's own shape rules. */
function outShape(c: Case): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.height, c.width, c.inC],
    [c.kernel, c.kernel, c.inC, c.outC],
    [c.stride, c.stride],
    1,
    c.pad,
  );
  return info.outShape;
}

/** Runs Conv2DBackpropInput on the active backend: the registered kernel, or wasm's with a forced strategy. */
function backpropInput(
  c: Case,
  dy: Float32Array,
  filter: Float32Array,
  strategy?: BackpropInputStrategy,
): Float32Array {
  const attrs = {
    strides: [c.stride, c.stride],
    pad: c.pad,
    dataFormat: 'NHWC',
    inputShape: [c.batch, c.height, c.width, c.inC],
  } as unknown as tf.NamedAttrMap;
  return tf.tidy(() => {
    const inputs = {
      dy: tf.tensor(dy, outShape(c)),
      filter: tf.tensor(filter, [c.kernel, c.kernel, c.inC, c.outC]),
    };
    if (strategy === undefined) {
      const out = tf.engine().runKernel('Conv2DBackpropInput', inputs, attrs) as tf.Tensor;
      expect(out.shape).toEqual([c.batch, c.height, c.width, c.inC]);
      return out.dataSync() as Float32Array;
    }
    const backend = tf.backend();
    const out = makeConv2dBackpropInputWasm(strategy)({ inputs, attrs, backend }) as tf.TensorInfo;
    expect(out.shape).toEqual([c.batch, c.height, c.width, c.inC]);
    const result = (backend.readSync(out.dataId) as Float32Array).slice();
    backend.disposeData(out.dataId);
    return result;
  });
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
  for (const stride of [1, 2, 3]) {
    for (const pad of pads) {
      for (const [height, width] of [
        [9, 9],
        [8, 11],
      ] as const) {
        if (typeof pad === 'number' && 2 * pad + height < kernel) continue;
        if (pad === 'valid' && height < kernel) continue;
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
// The ResNet18 shapes (batch 4 rather than 64, to stay fast).
cases.push(
  { batch: 4, height: 38, width: 38, inC: 1, outC: 64, kernel: 7, stride: 2, pad: 'valid' },
  { batch: 4, height: 10, width: 10, inC: 64, outC: 64, kernel: 3, stride: 1, pad: 'valid' },
  { batch: 4, height: 10, width: 10, inC: 64, outC: 128, kernel: 3, stride: 2, pad: 'valid' },
  { batch: 4, height: 8, width: 8, inC: 64, outC: 128, kernel: 1, stride: 2, pad: 'valid' },
  { batch: 4, height: 3, width: 3, inC: 512, outC: 512, kernel: 3, stride: 1, pad: 'valid' },
);

beforeAll(async () => {
  tf.env().set('PROD', true);
  await selectBackend('wasm');
});

describe('wasm Conv2DBackpropInput (netspec) equals the cpu kernel', () => {
  it('is the registered kernel after selectBackend("wasm")', () => {
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(conv2dBackpropInputWasm);
    expect(registerWasmConv2DBackpropInput()).toBe(false);
  });

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', async (_name, c) => {
    const dy = values(
      outShape(c).reduce((a, b) => a * b, 1),
      7 + c.kernel * 13 + c.stride,
    );
    const filter = values(c.kernel * c.kernel * c.inC * c.outC, 3 + c.inC);
    await tf.setBackend('cpu');
    const want = backpropInput(c, dy, filter);
    await tf.setBackend('wasm');
    const tensorsBefore = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const buffersBefore = backend.numDataIds();
    expect(relativeError(backpropInput(c, dy, filter), want)).toBeLessThanOrEqual(1e-4);
    for (const strategy of ['conv', 'col2im'] as const)
      expect(relativeError(backpropInput(c, dy, filter, strategy), want)).toBeLessThanOrEqual(1e-4);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(tf.memory().numBytes).toBe(bytesBefore);
    // Intermediates live in the wasm heap outside the engine's bookkeeping: the backend's own count catches them.
    expect(backend.numDataIds()).toBe(buffersBefore);
  });

  it('gives what the built-in wasm kernel gives, and the gradient of conv2d through tf.grad', async () => {
    await tf.setBackend('wasm');
    const c: Case = { batch: 2, height: 9, width: 9, inC: 3, outC: 4, kernel: 3, stride: 2, pad: 'same' };
    const dy = values(
      outShape(c).reduce((a, b) => a * b, 1),
      11,
    );
    const filter = values(3 * 3 * 3 * 4, 5);
    const ours = backpropInput(c, dy, filter);
    expect(restoreWasmConv2DBackpropInput()).toBe(true);
    try {
      expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(conv2dBackpropInputWasm);
      expect(relativeError(ours, backpropInput(c, dy, filter))).toBeLessThanOrEqual(1e-4);
    } finally {
      expect(registerWasmConv2DBackpropInput()).toBe(true);
    }
    const x = values(2 * 9 * 9 * 3, 17);
    const gradient = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const w = tf.tensor4d(filter, [3, 3, 3, 4]);
        const g = tf.grad((xs: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xs as tf.Tensor4D, w, 2, 'same'))));
        return g(tf.tensor4d(x, [2, 9, 9, 3])).dataSync() as Float32Array;
      });
    };
    const want = await gradient('cpu');
    expect(relativeError(await gradient('wasm'), want)).toBeLessThanOrEqual(1e-4);
  });
});

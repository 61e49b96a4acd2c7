import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  registerNativeBackendHook,
  selectBackend,
  wasmBinaryDir,
} from '../../../src/runtime/backends/index.js';
import type { BackendName } from '../../../src/runtime/backends/index.js';
import { BackendError } from '../../../src/runtime/errors.js';
import { wasmThreads } from '../../../src/runtime/backends/wasm-threads.js';

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

// This machine has neither optional tensorflow package (their install needs a download); if one ever is
// installed the exact lists below no longer apply.
const noTensorflow = !installed('@tensorflow/tfjs-node') && !installed('@tensorflow/tfjs-node-gpu');
// No GPU for auto to find, whatever this machine has: the Vulkan loader reads only this (missing) manifest. The
// webgpu backend's own tests (webgpu-*.test.ts) cover what it finds.
process.env.VK_ICD_FILENAMES = '/nonexistent/netspec-test-no-vulkan-driver.json';
const NO_GPU = expect.stringMatching(/^webgpu: /);
// The threads the wasm backend starts with here (NETSPEC_WASM_THREADS, else the cores, at most 8).
const WASM_THREADS = wasmThreads();
const WASM_NOTE = `wasm: XNNPACK with SIMD, ${WASM_THREADS === 1 ? '1 thread' : `${WASM_THREADS} threads`}; Conv2DBackpropFilter supplied by netspec`;

beforeAll(() => {
  tf.env().set('PROD', true);
});
afterEach(() => registerNativeBackendHook(undefined));

describe('selectBackend', () => {
  // The real native addon may or may not be built on this machine; these tests pin a native hook that cannot run.
  const unbuilt = { name: 'native', load: async () => 'not built (test)' };

  it.skipIf(!noTensorflow)(
    'auto falls through tensorflow, webgpu and native to wasm, saying why',
    async () => {
      registerNativeBackendHook(unbuilt);
      const s = await selectBackend('auto');
      expect(s).toEqual({
        name: 'wasm',
        reasons: [
          'tensorflow: @tensorflow/tfjs-node-gpu not installed',
          'tensorflow: @tensorflow/tfjs-node not installed',
          NO_GPU,
          'native: native: not built (test)',
          WASM_NOTE,
        ],
      });
      expect(tf.getBackend()).toBe('wasm');
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    },
  );

  it.skipIf(!noTensorflow)('refuses an explicit tensorflow that is not installed', async () => {
    await expect(selectBackend('tensorflow')).rejects.toThrow(
      new BackendError(
        '--backend tensorflow cannot run: tensorflow: @tensorflow/tfjs-node-gpu not installed; tensorflow: @tensorflow/tfjs-node not installed',
      ),
    );
  });

  it('selects cpu and wasm by name', async () => {
    expect(await selectBackend('cpu')).toEqual({
      name: 'cpu',
      reasons: ['cpu: pure JavaScript reference backend (slow: a ResNet18 training step takes minutes)'],
    });
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectBackend('wasm')).toEqual({ name: 'wasm', reasons: [WASM_NOTE] });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects unknown names with a hint', async () => {
    await expect(selectBackend('wsam' as BackendName)).rejects.toThrow(
      "unknown backend 'wsam': expected auto, tensorflow, webgpu, native, wasm, cpu (did you mean 'wasm'?)",
    );
    registerNativeBackendHook(unbuilt);
    await expect(selectBackend('native')).rejects.toThrow(
      '--backend native cannot run: native: native: not built (test)',
    );
  });

  it.skipIf(!noTensorflow)('prefers a registered native backend to wasm', async () => {
    const cpuFactory = tf.findBackendFactory('cpu');
    if (cpuFactory === null) throw new Error('no cpu backend factory');
    tf.registerBackend('netspec-test-native', cpuFactory);
    registerNativeBackendHook({ name: 'netspec-test-native', load: async () => undefined });
    const s = await selectBackend('auto');
    expect(s.name).toBe('netspec-test-native');
    expect(s.reasons.slice(2)).toEqual([NO_GPU, 'native: netspec-test-native']);
    expect(tf.getBackend()).toBe('netspec-test-native');
    tf.removeBackend('netspec-test-native');
  });

  it.skipIf(!noTensorflow)('reports a native backend that cannot load, and moves on', async () => {
    registerNativeBackendHook({
      name: 'addon',
      load: async () => 'native/build/netspec.node not built (run npm run build:native)',
    });
    expect((await selectBackend('auto')).reasons[3]).toBe(
      'native: addon: native/build/netspec.node not built (run npm run build:native)',
    );
    registerNativeBackendHook({
      name: 'addon',
      load: () => Promise.reject(new Error('dlopen failed: undefined symbol\nmore detail')),
    });
    const s = await selectBackend('auto');
    expect(s.name).toBe('wasm');
    expect(s.reasons[3]).toBe('native: addon: failed to load: dlopen failed: undefined symbol');
  });

  it('loads the wasm binaries from node_modules, not from the network', () => {
    const dir = wasmBinaryDir();
    expect(dir).toMatch(/node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/$/);
    for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
      expect(existsSync(dir + f)).toBe(true);
  });
});

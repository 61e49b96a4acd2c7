/**
 * The webgpu backend's selection: what counts as a software adapter, where the Vulkan loader looks for drivers,
 * the reasons for a missing package, driver or adapter, and, on SwiftShader (Debian's chromium), that `auto` never
 * takes it while `--backend webgpu` does and says it is software. The tests run in order in one process: each
 * setting of the Vulkan driver variables is probed once, as the backend does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerNativeBackendHook, selectBackend } from '../../../src/runtime/backends/index.js';
import {
  describeAdapter,
  isSoftwareAdapter,
  loadWebGpu,
  SWIFTSHADER_ICD,
  vulkanDriverManifests,
} from '../../../src/runtime/backends/webgpu.js';
import { hasSwiftShader } from '../../support/webgpu.js';

const VARIABLES = ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'VK_ADD_DRIVER_FILES'] as const;
for (const v of VARIABLES) delete process.env[v];
const swiftshader = hasSwiftShader('webgpu selection on SwiftShader');
// With a driver installed system-wide, Dawn finds it and netspec never has to look for SwiftShader.
const noSystemDriver = vulkanDriverManifests().length === 0;
if (swiftshader && !noSystemDriver)
  console.warn('webgpu SwiftShader discovery skipped: this machine has a Vulkan driver of its own');

beforeAll(() => {
  tf.env().set('PROD', true);
  // The real addon may or may not be built; `auto` should fall through to something cheap either way.
  registerNativeBackendHook({ name: 'native', load: async () => 'not built (test)' });
});

describe('software adapters', () => {
  const info = (vendor: string, architecture: string, description: string, isFallbackAdapter?: boolean) => ({
    vendor,
    architecture,
    device: '',
    description,
    ...(isFallbackAdapter === undefined ? {} : { isFallbackAdapter }),
  });

  it('are the fallback adapters and the known CPU rasterisers, by any of their names', () => {
    expect(isSoftwareAdapter(info('google', 'swiftshader', 'SwiftShader driver 5.0.0', true))).toBe(true);
    expect(isSoftwareAdapter(info('google', 'swiftshader', ''))).toBe(true);
    expect(isSoftwareAdapter(info('mesa', '', 'llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe(true);
    expect(isSoftwareAdapter(info('mesa', 'lavapipe', ''))).toBe(true);
    expect(isSoftwareAdapter(info('microsoft', '', 'Microsoft Basic Render Driver'))).toBe(true);
    expect(isSoftwareAdapter(info('', '', 'some cpu', true))).toBe(true);
    expect(isSoftwareAdapter(info('nvidia', 'hopper', 'NVIDIA H200', false))).toBe(false);
    expect(isSoftwareAdapter(info('intel', 'gen-12lp', 'Intel(R) UHD Graphics 770'))).toBe(false);
    // A word inside another is no match.
    expect(isSoftwareAdapter(info('amd', 'rdna-3', 'Radeon RX 7900 XTX (Stewarding)'))).toBe(false);
  });

  it('are named by vendor, architecture and description', () => {
    const base = { device: 'd', software: false };
    expect(
      describeAdapter({ ...base, vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }),
    ).toBe('nvidia hopper "NVIDIA H200"');
    expect(describeAdapter({ ...base, vendor: '', architecture: '', description: '' })).toBe(
      'unknown vendor "d"',
    );
  });
});

describe('vulkanDriverManifests', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netspec-icd-'));
  const write = (file: string): string => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{}');
    return file;
  };
  const a = write(path.join(dir, 'listed/a.json'));
  const b = write(path.join(dir, 'data/vulkan/icd.d/b.json'));
  write(path.join(dir, 'data/vulkan/icd.d/notes.txt'));
  const c = write(path.join(dir, 'config/vulkan/icd.d/c.json'));
  const empty = {
    HOME: path.join(dir, 'home'),
    XDG_CONFIG_DIRS: path.join(dir, 'none'),
    XDG_DATA_DIRS: path.join(dir, 'none'),
  };

  it("follows the loader's rules: named files replace the search, folders are searched for .json", () => {
    expect(vulkanDriverManifests({ ...empty, VK_DRIVER_FILES: `${a}:${dir}/missing.json` })).toEqual([a]);
    expect(
      vulkanDriverManifests({ ...empty, VK_ICD_FILENAMES: path.join(dir, 'data/vulkan/icd.d') }),
    ).toEqual([b]);
    // VK_DRIVER_FILES wins over the older VK_ICD_FILENAMES; VK_ADD_DRIVER_FILES adds to either.
    expect(
      vulkanDriverManifests({ ...empty, VK_DRIVER_FILES: a, VK_ICD_FILENAMES: b, VK_ADD_DRIVER_FILES: c }),
    ).toEqual([a, c]);
    expect(
      vulkanDriverManifests({
        ...empty,
        XDG_DATA_DIRS: path.join(dir, 'data'),
        XDG_CONFIG_HOME: path.join(dir, 'config'),
      }),
    ).toEqual([c, b]);
    expect(vulkanDriverManifests({ ...empty, VK_DRIVER_FILES: path.join(dir, 'missing') })).toEqual([]);
  });
});

describe('loading the webgpu backend', () => {
  it('says when the optional package is missing', async () => {
    expect(await loadWebGpu({ allowSoftware: true, packageName: 'netspec-test-no-such-webgpu' })).toEqual({
      ok: false,
      reason:
        'webgpu: the optional package netspec-test-no-such-webgpu is not installed (npm install ' +
        "netspec-test-no-such-webgpu: Dawn's WebGPU for Node, with its prebuilt dawn.node)",
    });
  });

  it('says what to install when there is no adapter and the driver variables are taken', async () => {
    process.env.VK_ICD_FILENAMES = '/nonexistent/netspec-test.json';
    try {
      const auto = await selectBackend('auto');
      expect(auto.reasons).toContain(
        'webgpu: no Vulkan driver: VK_ICD_FILENAMES=/nonexistent/netspec-test.json names no ICD manifest',
      );
      const error = await selectBackend('webgpu').catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'BackendError', code: 'BACKEND_UNAVAILABLE' });
      const message = (error as Error).message;
      expect(message).toMatch(/^--backend webgpu cannot run: webgpu: no Vulkan driver: /);
      expect(message).toContain('SwiftShader not tried (VK_ICD_FILENAMES set)');
      expect(message).toContain('libvulkan1');
      expect(message).toContain(SWIFTSHADER_ICD);
    } finally {
      delete process.env.VK_ICD_FILENAMES;
    }
  });

  it.skipIf(!swiftshader || !noSystemDriver)(
    'finds SwiftShader by name only, through chromium, and restores the environment',
    async () => {
      const auto = await selectBackend('auto');
      expect(auto.name).not.toBe('webgpu');
      expect(auto.reasons).toContain(
        "webgpu: no Vulkan driver (no ICD manifest in the Vulkan loader's icd.d folders; VK_DRIVER_FILES and " +
          'VK_ICD_FILENAMES unset)',
      );
      const named = await selectBackend('webgpu');
      expect(named.name).toBe('webgpu');
      expect(tf.getBackend()).toBe('webgpu');
      expect(named.reasons).toEqual([
        'webgpu: Dawn on google swiftshader "SwiftShader driver 5.0.0", a software adapter: the GPU is emulated ' +
          `on the CPU, so its times are not GPU times; found through ${SWIFTSHADER_ICD} (VK_ICD_FILENAMES set ` +
          'while Dawn enumerated)',
      ]);
      expect(process.env.VK_ICD_FILENAMES).toBeUndefined();
      expect(await tf.tensor1d([1, -2, 3]).relu().data()).toEqual(new Float32Array([1, 0, 3]));
    },
  );

  it.skipIf(!swiftshader)(
    'with SwiftShader as the driver: auto passes it over, --backend webgpu runs on it and says it is software',
    async () => {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      try {
        const auto = await selectBackend('auto');
        expect(auto.name).not.toBe('webgpu');
        expect(auto.adapter).toBeUndefined();
        expect(auto.reasons).toContain(
          'webgpu: only a software adapter, google swiftshader "SwiftShader driver 5.0.0" (the GPU emulated on ' +
            'the CPU); auto never picks one: ask for it with --backend webgpu',
        );
        const named = await selectBackend('webgpu');
        expect(named).toMatchObject({
          name: 'webgpu',
          adapter: { vendor: 'google', architecture: 'swiftshader', software: true },
        });
        expect(named.adapter?.description).toMatch(/^SwiftShader/);
        expect(named.reasons).toHaveLength(1);
        expect(named.reasons[0]).toMatch(/^webgpu: Dawn on google swiftshader ".*", a software adapter: /);
        expect(named.reasons[0]).not.toContain('found through');
        expect(await tf.tensor1d([1, -2, 3]).relu().data()).toEqual(new Float32Array([1, 0, 3]));
      } finally {
        delete process.env.VK_ICD_FILENAMES;
      }
    },
  );
});

/** SwiftShader for the webgpu tests: whether this machine can run them, and if not, a warning that says why. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SWIFTSHADER_ICD, WEBGPU_PACKAGE } from '../../src/runtime/backends/webgpu.js';

/** Where Debian and other distributions keep the Vulkan loader. */
const LIBRARY_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
];

/** Why SwiftShader cannot run the webgpu backend here, or undefined when it can. */
export function swiftShaderMissing(): string | undefined {
  try {
    createRequire(import.meta.url).resolve(WEBGPU_PACKAGE);
  } catch {
    return `the optional package ${WEBGPU_PACKAGE} is not installed (npm install ${WEBGPU_PACKAGE})`;
  }
  if (!LIBRARY_DIRS.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1'))))
    return 'the Vulkan loader libvulkan.so.1 is missing (apt-get install libvulkan1)';
  if (!existsSync(SWIFTSHADER_ICD))
    return `SwiftShader's Vulkan driver ${SWIFTSHADER_ICD} is missing (apt-get install chromium)`;
  return undefined;
}

/** True when SwiftShader can run the webgpu backend; otherwise warns that `what` is skipped and why. */
export function hasSwiftShader(what: string): boolean {
  const missing = swiftShaderMissing();
  if (missing !== undefined) console.warn(`${what} skipped: ${missing}`);
  return missing === undefined;
}

/**
 * The 'native' tfjs backend: tfjs-backend-cpu's storage and kernels, with the hot training kernels running in
 * netspec's C++ addon: Conv2D, FusedConv2D (bias and activation fused into oneDNN), Conv2DBackpropInput,
 * Conv2DBackpropFilter and BatchMatMul on oneDNN; pooling and its gradients, Transpose, elementwise arithmetic
 * and Sum/Mean over leading axes as OpenMP loops, and batch normalization (inference, and netspec's training
 * kernels forward and backward). Tile, Slice and PadV2 use netspec's block copies. Anything a
 * native kernel does not handle (NCHW, PReLU, general broadcasts, other dtypes) goes to the cpu backend's
 * kernel, so results never depend on which path ran.
 *
 * The addon is optional: without it (no compiler, no libdnnl-dev, not built) {@link nativeBackendHook}'s load
 * says why, and `--backend auto` moves on to wasm.
 *
 * This module is the backend's door: the hook that selectBackend imports on demand, and the names tests and tools
 * use. The code is in native/: the addon's loader, the backend class, one file per kernel family (as native/src
 * has one .cc file per family) and the registration list (native/kernels.ts).
 */
import type { NativeBackendHook } from './native-hook.js';
import { loadNativeAddon } from './native/addon.js';
import { NATIVE_BACKEND } from './native/backend.js';
import { registerNativeBackend } from './native/kernels.js';

export {
  ACTIVATION_CODES,
  loadNativeAddon,
  NATIVE_ADDON_PATH,
  NATIVE_SPIN_COUNT,
  nativeThreads,
  type NativeAddon,
} from './native/addon.js';
export { NATIVE_BACKEND, NativeBackend } from './native/backend.js';
export { NATIVE_KERNELS, registerNativeBackend } from './native/kernels.js';

/** The hook selectBackend uses for 'native': loads the addon and registers the backend, or says why not. */
export const nativeBackendHook: NativeBackendHook = {
  name: NATIVE_BACKEND,
  async load() {
    const loaded = loadNativeAddon();
    if (typeof loaded === 'string') return loaded;
    registerNativeBackend();
    return undefined;
  },
  describe: () => nativeBackendInfo(),
};

/** One line on what the native backend runs on (oneDNN version, threads). */
export function nativeBackendInfo(): string {
  const loaded = loadNativeAddon();
  return typeof loaded === 'string' ? loaded : loaded.info();
}

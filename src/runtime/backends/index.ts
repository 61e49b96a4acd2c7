/** Where tfjs runs: backend selection with reasons, and the kernels netspec adds to backends that lack them. */
export { BACKEND_NAMES, registerNativeBackendHook, selectBackend, wasmBinaryDir } from './select-backend.js';
export { BackendError } from '../errors.js';
export type { BackendName, BackendSelection, GpuAdapterReport } from './select-backend.js';
export type { NativeBackendHook } from './native-hook.js';
export {
  conv2dBackpropFilterWasm,
  conv2dBackpropFilterWasmConfig,
  registerWasmConv2DBackpropFilter,
} from './conv2d-backprop-filter-wasm.js';

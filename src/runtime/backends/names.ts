/** Backend names, in a module of their own so the CLI can list them without loading tfjs. */

/** Backend names `--backend` accepts, after `auto` in the order `auto` tries them. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'webgpu', 'native', 'wasm', 'cpu'] as const;
/** A `--backend` value. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * A kernel netspec adds to backends that can fuse it (the native backend): `out = x + alpha * y` in one pass,
 * inputs `{x, y}` (float32, same shape), attribute `{alpha}`. The SGD optimizer uses it where it is registered; elsewhere
 * (wasm, webgpu, cpu) it runs tfjs's own SGD update, a Mul then an Add, with the same result.
 */
export const SCALED_ADD_KERNEL = 'NetspecScaledAdd';

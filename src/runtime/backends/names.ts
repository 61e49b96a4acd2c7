/** Backend names, in a module of their own so the CLI can list them without loading tfjs. */

/** Backend names `--backend` accepts. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
/** A `--backend` value. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * A kernel netspec adds to backends that can fuse it (the native backend): `out = x + alpha * y` in one pass,
 * inputs `{x, y}` (float32, same shape), attribute `{alpha}`. The SGD optimizer uses it where it is registered.
 */
export const SCALED_ADD_KERNEL = 'NetspecScaledAdd';

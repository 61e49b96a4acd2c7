/** Backend names, in a module of their own so the CLI can list them without loading tfjs. */

/** Backend names `--backend` accepts. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
/** A `--backend` value. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * The contract between backend selection and a native backend, in a module of its own so that selection
 * (select-backend.ts) and the backend that fulfils it (native-backend.ts) depend on it and not on each other.
 */

/** A native backend registered by code that builds one (netspec's oneDNN addon, or a test's stand-in). */
export interface NativeBackendHook {
  /** The tfjs backend name it registers. */
  readonly name: string;
  /** Registers the backend with tfjs; resolves to undefined when it can run, else to the reason it cannot. */
  load(): Promise<string | undefined>;
  /** After a successful load: what it runs on, for the selection note. */
  describe?(): string;
}

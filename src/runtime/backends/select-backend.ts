/**
 * Chooses where tfjs runs the math and says why. `auto` takes the first backend that loads, fastest first:
 * tensorflow (@tensorflow/tfjs-node-gpu, then @tensorflow/tfjs-node: optional packages whose install downloads
 * libtensorflow, so they are usually absent here), webgpu on a hardware adapter (Dawn through the optional `webgpu`
 * package; a software adapter such as SwiftShader only when asked for by name), native (netspec's oneDNN addon from native/, or another
 * backend registered through a hook; the addon is optional and says why when it is not built), wasm (ships inside
 * npm, always there), cpu (pure JavaScript, reference only). Optional packages and the native backend are loaded
 * with dynamic import, so their absence is a reason, not a crash.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { env, findBackend, getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { didYouMean } from '../../diagnostics.js';
import { BackendError } from '../errors.js';
import { registerWasmConv2DBackpropFilter } from './conv2d-backprop-filter-wasm.js';
import { registerWasmConv2DBackpropInput } from './conv2d-backprop-input-wasm.js';
import { registerWasmMaxPoolGrad } from './max-pool-grad-wasm.js';
import { BACKEND_NAMES, type BackendName } from './names.js';
import type { NativeBackendHook } from './native-hook.js';
import { registerWasmReductions } from './reduce-wasm.js';
import { registerWasmSlice } from './slice-wasm.js';
import { registerWasmTile } from './tile-wasm.js';
import { configureWasmThreads, withThreadedWasmInit, type WasmThreadPlan } from './wasm-threads.js';
import { describeAdapter, loadWebGpu, type GpuAdapterReport } from './webgpu.js';

export { BACKEND_NAMES, type BackendName } from './names.js';
export type { NativeBackendHook } from './native-hook.js';
export type { GpuAdapterReport } from './webgpu.js';

/** The backend that now runs tfjs, and one line per candidate saying why it was or was not used. */
export interface BackendSelection {
  /** The tfjs backend name now active ('tensorflow', 'webgpu', 'wasm', 'cpu', or the native hook's name). */
  readonly name: string;
  readonly reasons: readonly string[];
  /** webgpu only: the adapter it runs on, and whether that is a software one (its times are not GPU times). */
  readonly adapter?: GpuAdapterReport;
}

let nativeHook: NativeBackendHook | undefined;

/**
 * Installs a native backend hook that `auto` tries after tensorflow; undefined puts back the default, netspec's
 * oneDNN addon (native-backend.ts), which says why it cannot run when it is not built.
 */
export function registerNativeBackendHook(hook: NativeBackendHook | undefined): void {
  nativeHook = hook;
}

/** A candidate's outcome: ok with a line about it, or the reasons it cannot run. */
type Attempt =
  | { readonly ok: true; readonly name: string; readonly note: string; readonly adapter?: GpuAdapterReport }
  | { readonly ok: false; readonly reasons: string[] };

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/** True when `e` says that `pkg` itself (not one of its dependencies) is not installed. */
function isNotInstalled(e: unknown, pkg: string): boolean {
  const code = (e as { code?: string } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine(e).includes(`'${pkg}'`)
  );
}

async function activate(name: string): Promise<boolean> {
  // setBackend resolves to false (after tfjs logs a warning) when the backend's initialisation fails.
  const ok = await setBackend(name);
  if (ok) await ready();
  return ok && getBackend() === name;
}

async function tryTensorflow(): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const specifier: string = pkg;
      await import(specifier);
    } catch (e) {
      reasons.push(
        isNotInstalled(e, pkg)
          ? `tensorflow: ${pkg} not installed`
          : `tensorflow: ${pkg} failed to load: ${firstLine(e)}`,
      );
      continue;
    }
    if (await activate('tensorflow'))
      return { ok: true, name: 'tensorflow', note: `tensorflow: libtensorflow through ${pkg}` };
    reasons.push(`tensorflow: ${pkg} loaded but its backend did not initialise`);
  }
  return { ok: false, reasons };
}

/** webgpu: by name a software adapter will do (and SwiftShader is looked for); for `auto` only a hardware one. */
async function tryWebGpu(byName: boolean): Promise<Attempt> {
  const load = await loadWebGpu({ allowSoftware: byName });
  if (!load.ok) return { ok: false, reasons: [load.reason] };
  if (!(await activate('webgpu')))
    return {
      ok: false,
      reasons: [`webgpu: tfjs's backend did not initialise on ${describeAdapter(load.adapter)}`],
    };
  return { ok: true, name: 'webgpu', note: load.note, adapter: load.adapter };
}

async function tryNative(): Promise<Attempt> {
  // Loaded on demand: the default hook's module pulls in the addon's kernels only when native is tried.
  const hook = nativeHook ?? (await import('./native-backend.js')).nativeBackendHook;
  let problem: string | undefined;
  try {
    problem = await hook.load();
  } catch (e) {
    problem = `failed to load: ${firstLine(e)}`;
  }
  if (problem === undefined && (await activate(hook.name))) {
    const detail = hook.describe?.();
    return { ok: true, name: hook.name, note: `native: ${hook.name}${detail ? ` (${detail})` : ''}` };
  }
  return {
    ok: false,
    reasons: [`native: ${hook.name}: ${problem ?? 'registered but did not initialise'}`],
  };
}

/** The directory of tfjs-backend-wasm's .wasm binaries inside node_modules. */
export function wasmBinaryDir(): string {
  return `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

async function tryWasm(): Promise<Attempt> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Point the loader at the binaries on disk explicitly; a bundled or relocated script would otherwise look
    // next to itself. It may only be set before the backend first initialises, as may its threads (wasm-threads.ts).
    let plan: WasmThreadPlan = { threads: 1 };
    if (findBackend('wasm') === null) {
      wasm.setWasmPaths(wasmBinaryDir());
      plan = configureWasmThreads(wasm, (on) => env().set('WASM_HAS_MULTITHREAD_SUPPORT', on));
    }
    registerWasmConv2DBackpropFilter();
    // wasm's own are naive loops; these run on XNNPACK's matrix product and on block copies.
    registerWasmConv2DBackpropInput();
    registerWasmTile();
    registerWasmSlice();
    registerWasmMaxPoolGrad();
    registerWasmReductions();
    if (!(await withThreadedWasmInit(plan.threads, wasmBinaryDir(), () => activate('wasm'))))
      return { ok: false, reasons: ['wasm: the WebAssembly module did not initialise'] };
    const simd = (await env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    const threads = wasm.getThreadsCount();
    return {
      ok: true,
      name: 'wasm',
      note:
        `wasm: XNNPACK ${simd ? 'with' : 'without'} SIMD, ${threads === 1 ? '1 thread' : `${threads} threads`}` +
        `${plan.why ? ` (${plan.why})` : ''}; Conv2DBackpropFilter supplied by netspec`,
    };
  } catch (e) {
    return { ok: false, reasons: [`wasm: failed to load: ${firstLine(e)}`] };
  }
}

async function tryCpu(): Promise<Attempt> {
  if (!(await activate('cpu'))) return { ok: false, reasons: ['cpu: did not initialise'] };
  return {
    ok: true,
    name: 'cpu',
    note: 'cpu: pure JavaScript reference backend (slow: a ResNet18 training step takes minutes)',
  };
}

const CANDIDATES: Record<Exclude<BackendName, 'auto'>, (byName: boolean) => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebGpu,
  native: tryNative,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Activates a tfjs backend: `auto` tries tensorflow, webgpu (hardware adapters only), native, wasm, cpu in that
 * order; a named one must load or a {@link BackendError} says why. Resolves to the active backend and one reason per
 * candidate considered (and, for webgpu, its adapter).
 */
export async function selectBackend(name: BackendName): Promise<BackendSelection> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    const hint = didYouMean(String(name), BACKEND_NAMES);
    throw new BackendError(
      `unknown backend '${String(name)}': expected ${BACKEND_NAMES.join(', ')}${hint ? ` (${hint})` : ''}`,
    );
  }
  // tfjs prints an "install tfjs-node" banner to the console in Node unless PROD is set; netspec says which
  // backend runs and why itself, and stdout must stay clean for --json.
  env().set('PROD', true);
  const order =
    name === 'auto' ? BACKEND_NAMES.filter((n): n is Exclude<BackendName, 'auto'> => n !== 'auto') : [name];
  const reasons: string[] = [];
  for (const candidate of order) {
    const attempt = await CANDIDATES[candidate](name !== 'auto');
    if (attempt.ok) {
      reasons.push(attempt.note);
      return { name: attempt.name, reasons, ...(attempt.adapter ? { adapter: attempt.adapter } : {}) };
    }
    reasons.push(...attempt.reasons);
  }
  throw new BackendError(`--backend ${name} cannot run: ${reasons.join('; ')}`);
}

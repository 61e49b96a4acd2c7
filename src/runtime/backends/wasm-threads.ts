/**
 * tfjs-backend-wasm's threaded SIMD build under Node. tfjs turns it off there (`WASM_HAS_MULTITHREAD_SUPPORT` is
 * false when `IS_NODE`) because it hands emscripten its pthread scripts as blob URLs, for web Workers:
 * - the worker script is `locateFile('...worker.js')` = `URL.createObjectURL(new Blob([wasmWorkerContents]))`, and
 *   emscripten's glue calls `new Worker(thatUrl)` with `Worker` = worker_threads' Worker (the glue assigns the global
 *   itself), which takes a file path or code, never a blob URL;
 * - the module's own script, which each worker evaluates, is `mainScriptUrlOrBlob` = a Blob of
 *   `'var WasmBackendModuleThreadedSimd = ' + factory.toString()`: the factory's text names bindings of the bundle
 *   tf-backend-wasm.node.js (`require$$0` = fs, `require$$1` = path, `require$$3` = perf_hooks, `require$$4` = os,
 *   `commonjsGlobal`, `__dirname`, tslib's `__values`, `__read`, `__spreadArray`) that do not exist in a worker.
 * The emscripten worker script itself runs on worker_threads (it has a Node branch that defines `self`,
 * `postMessage`, `importScripts` from `fs`). So the shim here, installed only while the backend initialises, is a
 * `Worker` that accepts those blob URLs: a worker_threads Worker whose bootstrap evaluates the blob's worker script,
 * and evaluates the module script from the `load` message with the bundle's bindings supplied. The bindings are
 * those of the version tested ({@link TESTED_WASM_VERSION}); any other version keeps the single-threaded build.
 */
import { Blob, resolveObjectURL } from 'node:buffer';
import os from 'node:os';
import { Worker as NodeWorker, type TransferListItem } from 'node:worker_threads';

/** The tfjs-backend-wasm version whose bundle bindings the worker bootstrap supplies. */
export const TESTED_WASM_VERSION = '4.22.0';

/** emscripten preallocates this many pthread workers (`PThread.initMainThread`); XNNPACK uses threads - 1 of them. */
export const WASM_MAX_THREADS = 8;

/** The name the rewritten `load` message gives the module script; the bootstrap's `importScripts` knows it. */
const MAIN_SCRIPT_KEY = 'netspec:tfjs-backend-wasm-threaded-simd.js';

/**
 * The worker's first code. It waits for the worker script's text, runs it as a classic script (as a web Worker would),
 * then lets `importScripts(MAIN_SCRIPT_KEY)` evaluate the module script that came in the `load` message, inside a
 * function whose parameters are the bundle bindings the factory's text refers to.
 */
const BOOTSTRAP = `
'use strict';
{
const { parentPort } = require('node:worker_threads');
const vm = require('node:vm');
parentPort.once('message', (boot) => {
  globalThis.require = require;
  vm.runInThisContext(boot.workerScript, { filename: 'tfjs-backend-wasm-threaded-simd.worker.js' });
  let mainScript;
  const handle = globalThis.onmessage;
  globalThis.onmessage = (e) => {
    if (e.data && e.data.cmd === 'load' && e.data.urlOrBlob === ${JSON.stringify(MAIN_SCRIPT_KEY)}) {
      mainScript = e.data.netspecMainScript;
    }
    return handle(e);
  };
  const nodeImportScripts = globalThis.importScripts;
  globalThis.importScripts = (url) => {
    if (url !== ${JSON.stringify(MAIN_SCRIPT_KEY)}) return nodeImportScripts(url);
    const bindings = {
      require$$0: require('node:fs'),
      require$$1: require('node:path'),
      require$$3: require('node:perf_hooks'),
      require$$4: require('node:os'),
      commonjsGlobal: globalThis,
      __dirname: boot.dirname,
      _scriptDir: undefined,
      __values: function (o) {
        const s = typeof Symbol === 'function' && Symbol.iterator, m = s && o[s];
        if (m) return m.call(o);
        if (o && typeof o.length === 'number') {
          let i = 0;
          return { next: function () { if (o && i >= o.length) o = void 0; return { value: o && o[i++], done: !o }; } };
        }
        throw new TypeError(s ? 'Object is not iterable.' : 'Symbol.iterator is not defined.');
      },
      __read: function (o, n) {
        let m = typeof Symbol === 'function' && o[Symbol.iterator];
        if (!m) return o;
        const i = m.call(o), ar = [];
        let r, e;
        try { while ((n === void 0 || n-- > 0) && !(r = i.next()).done) ar.push(r.value); }
        catch (error) { e = { error: error }; }
        finally { try { if (r && !r.done && (m = i['return'])) m.call(i); } finally { if (e) throw e.error; } }
        return ar;
      },
      __spreadArray: function (to, from, pack) {
        return to.concat(Array.prototype.slice.call(from));
      },
    };
    const names = Object.keys(bindings);
    const factory = new Function(...names, mainScript + '\\nreturn WasmBackendModuleThreadedSimd;');
    globalThis.WasmBackendModuleThreadedSimd = factory(...names.map((n) => bindings[n]));
  };
});
}
`;

/** A blob URL's text, read once per Blob (each of the pool's workers gets the same two). */
const blobTexts = new WeakMap<Blob, Promise<string>>();
function blobText(blob: Blob): Promise<string> {
  let text = blobTexts.get(blob);
  if (text === undefined) {
    text = blob.text();
    blobTexts.set(blob, text);
  }
  return text;
}

/**
 * A web `Worker` for emscripten's pthread pool: takes the worker script as a blob URL and runs it on worker_threads.
 * Messages wait in order while a Blob is read (asynchronously); afterwards they go straight through, because
 * emscripten's main thread posts a thread's `run` command and then blocks until the thread has started.
 */
export class BlobScriptWorker extends NodeWorker {
  #waiting = 0;
  #sent: Promise<void>;
  readonly #onError: ((error: unknown) => boolean) | undefined;

  /**
   * `onError`, when given, sees the worker's errors first; when it returns true, emscripten's handler (which
   * rethrows them) does not.
   */
  constructor(url: string | URL, dirname: string, onError?: (error: unknown) => boolean) {
    super(BOOTSTRAP, { eval: true });
    this.#onError = onError;
    const blob = resolveObjectURL(String(url));
    if (blob === undefined) throw new Error(`not a live blob URL: ${String(url)}`);
    this.#sent = this.#inOrder(async () => {
      super.postMessage({ workerScript: await blobText(blob), dirname });
    });
  }

  override postMessage(message: unknown, transferList?: readonly TransferListItem[]): void {
    const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
    if (m !== null && typeof m === 'object' && m.cmd === 'load' && m.urlOrBlob instanceof Blob) {
      const blob = m.urlOrBlob;
      this.#sent = this.#inOrder(async () => {
        const netspecMainScript = await blobText(blob);
        super.postMessage({ ...m, urlOrBlob: MAIN_SCRIPT_KEY, netspecMainScript }, transferList);
      });
    } else if (this.#waiting > 0)
      this.#sent = this.#inOrder(async () => super.postMessage(message, transferList));
    else super.postMessage(message, transferList);
  }

  /**
   * emscripten refs a worker while its pthread runs; XNNPACK's pool threads run for the process's life, waiting for
   * work that only the main thread gives, so they must never keep Node from exiting.
   */
  override ref(): void {}

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && this.#onError?.(args[0]) === true) return true;
    return super.emit(event, ...args);
  }

  #inOrder(send: () => Promise<void>): Promise<void> {
    this.#waiting++;
    const before = this.#sent ?? Promise.resolve();
    return before.then(send).finally(() => {
      this.#waiting--;
    });
  }
}

/** Threads the wasm backend uses: NETSPEC_WASM_THREADS, else every core Node may use, at most {@link WASM_MAX_THREADS}. */
export function wasmThreads(): number {
  const fromEnv = Number(process.env['NETSPEC_WASM_THREADS']);
  const wanted = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism();
  return Math.min(wanted, WASM_MAX_THREADS);
}

/** What {@link configureWasmThreads} decided for the first initialisation. */
export interface WasmThreadPlan {
  /** Threads asked of tfjs-backend-wasm (1: its single-threaded build). */
  readonly threads: number;
  /** Why the threaded build is not used, when `threads` is 1 on a machine with more cores. */
  readonly why?: string;
}

/** The part of tfjs-backend-wasm's module that thread configuration uses. */
export interface WasmThreadsApi {
  readonly version_wasm: string;
  setThreadsCount(threads: number): void;
}

/**
 * Chooses the wasm backend's threads before its first initialisation ({@link wasmThreads}) and, above 1, turns on
 * tfjs's threaded build (`WASM_HAS_MULTITHREAD_SUPPORT`, which tfjs sets false under Node) with that count. The
 * flag is set only for the version the worker bootstrap was written against.
 */
export function configureWasmThreads(
  wasm: WasmThreadsApi,
  setMultithreadFlag: (on: boolean) => void,
  threads: number = wasmThreads(),
): WasmThreadPlan {
  if (threads <= 1) return { threads: 1 };
  if (wasm.version_wasm !== TESTED_WASM_VERSION)
    return {
      threads: 1,
      why: `threaded build not enabled for tfjs-backend-wasm ${wasm.version_wasm} (netspec's worker shim is for ${TESTED_WASM_VERSION})`,
    };
  setMultithreadFlag(true);
  wasm.setThreadsCount(threads);
  return { threads };
}

/**
 * Runs `init` (the wasm backend's first initialisation, with `threads` set through {@link configureWasmThreads})
 * with what the threaded build needs from Node, and puts both back afterwards:
 * - a global `Worker` that takes blob URLs ({@link BlobScriptWorker}); the glue's own `Worker =
 *   worker_threads.Worker` assignment is ignored meanwhile;
 * - `os.cpus()` reporting `2 * threads` logical cores: backend.cc caps the pool at `emscripten_num_logical_cores() /
 *   2` (it assumes two hyperthreads per core), read once while the module starts, so a 2-core machine would get 1.
 * A worker that fails while the pool loads rejects the returned promise (emscripten would rethrow it as an uncaught
 * exception, and its start would wait for that worker forever).
 */
export async function withThreadedWasmInit<T>(
  threads: number,
  dirname: string,
  init: () => Promise<T>,
): Promise<T> {
  if (threads <= 1) return init();
  const before = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  const cpus = os.cpus;
  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  let initialising = true;
  const onError = (error: unknown): boolean => {
    if (initialising) fail(error);
    return initialising;
  };
  class Worker extends BlobScriptWorker {
    constructor(url: string | URL) {
      super(url, dirname, onError);
    }
  }
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => Worker,
    set: () => undefined,
  });
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]!);
  };
  try {
    return await Promise.race([init(), failed]);
  } finally {
    initialising = false;
    os.cpus = cpus;
    if (before === undefined) delete (globalThis as { Worker?: unknown }).Worker;
    else Object.defineProperty(globalThis, 'Worker', before);
  }
}

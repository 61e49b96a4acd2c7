/**
 * tfjs-backend-wasm's threaded build under Node (wasm-threads.ts): the blob-URL worker shim on its own, the thread
 * plan, and the real backend in child processes (the thread count is fixed at a process's first initialisation),
 * where 2 threads must give the values 1 thread gives and the process must still exit by itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  BlobScriptWorker,
  configureWasmThreads,
  TESTED_WASM_VERSION,
  WASM_MAX_THREADS,
  wasmThreads,
  withThreadedWasmInit,
} from '../../../src/runtime/backends/wasm-threads.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function withEnv<T>(value: string | undefined, f: () => T): T {
  const before = process.env['NETSPEC_WASM_THREADS'];
  if (value === undefined) delete process.env['NETSPEC_WASM_THREADS'];
  else process.env['NETSPEC_WASM_THREADS'] = value;
  try {
    return f();
  } finally {
    if (before === undefined) delete process.env['NETSPEC_WASM_THREADS'];
    else process.env['NETSPEC_WASM_THREADS'] = before;
  }
}

describe('the thread plan', () => {
  it('takes NETSPEC_WASM_THREADS, else the cores, at most the pool emscripten preallocates', () => {
    expect(withEnv('3', wasmThreads)).toBe(Math.min(3, WASM_MAX_THREADS));
    expect(withEnv('64', wasmThreads)).toBe(WASM_MAX_THREADS);
    expect(withEnv('0', wasmThreads)).toBe(Math.min(os.availableParallelism(), WASM_MAX_THREADS));
    expect(withEnv('two', wasmThreads)).toBe(Math.min(os.availableParallelism(), WASM_MAX_THREADS));
    expect(withEnv(undefined, wasmThreads)).toBe(Math.min(os.availableParallelism(), WASM_MAX_THREADS));
  });

  it('turns the threaded build on only above 1 thread and only for the tested version', () => {
    const calls: string[] = [];
    const api = (version: string) => ({
      version_wasm: version,
      setThreadsCount: (n: number) => calls.push(`threads ${n}`),
    });
    const flag = (on: boolean) => calls.push(`flag ${on}`);
    expect(configureWasmThreads(api(TESTED_WASM_VERSION), flag, 1)).toEqual({ threads: 1 });
    expect(calls).toEqual([]);
    expect(configureWasmThreads(api('9.9.9'), flag, 2)).toEqual({
      threads: 1,
      why: `threaded build not enabled for tfjs-backend-wasm 9.9.9 (netspec's worker shim is for ${TESTED_WASM_VERSION})`,
    });
    expect(calls).toEqual([]);
    expect(configureWasmThreads(api(TESTED_WASM_VERSION), flag, 2)).toEqual({ threads: 2 });
    expect(calls).toEqual(['flag true', 'threads 2']);
  });
});

describe('the blob-URL Worker', () => {
  it('runs a blob script on worker_threads and delivers messages posted before the script was read', async () => {
    const url = URL.createObjectURL(
      new Blob([
        "const { parentPort } = require('node:worker_threads');" +
          'parentPort.on("message", (m) => parentPort.postMessage(m.x * 2));',
      ]),
    );
    const worker = new BlobScriptWorker(url, ROOT);
    const replies: unknown[] = [];
    const two = new Promise<void>((resolve) =>
      worker.on('message', (m) => {
        replies.push(m);
        if (replies.length === 2) resolve();
      }),
    );
    worker.postMessage({ x: 21 });
    worker.postMessage({ x: 50 });
    await two;
    expect(replies).toEqual([42, 100]);
    await worker.terminate();
  });

  it('is the global Worker and reports 2 x threads cores only while the backend initialises', async () => {
    const cores = os.cpus().length;
    const seen = await withThreadedWasmInit(3, ROOT, async () => ({
      worker: typeof (globalThis as { Worker?: unknown }).Worker,
      cpus: os.cpus().length,
    }));
    expect(seen).toEqual({ worker: 'function', cpus: 6 });
    expect((globalThis as { Worker?: unknown }).Worker).toBeUndefined();
    expect(os.cpus().length).toBe(cores);
  });

  it("rejects the initialisation when a worker fails, instead of emscripten's uncaught rethrow", async () => {
    const url = URL.createObjectURL(new Blob(['throw new Error("worker script failed")']));
    const pending = withThreadedWasmInit(2, ROOT, () => {
      const Worker = (globalThis as unknown as { Worker: new (u: string) => BlobScriptWorker }).Worker;
      const worker = new Worker(url);
      worker.unref();
      // emscripten's start waits for every pool worker's 'loaded', which this one never sends.
      return new Promise<never>(() => undefined);
    });
    await expect(pending).rejects.toThrow('worker script failed');
    expect((globalThis as { Worker?: unknown }).Worker).toBeUndefined();
  });
});

/** What a child process with NETSPEC_WASM_THREADS = threads computes on the wasm backend. */
interface ChildResult {
  readonly note: string;
  readonly threads: number;
  readonly workerGlobal: string;
  readonly cpus: number;
  readonly values: Record<string, number[]>;
}

const require = createRequire(import.meta.url);

// A strided conv, relu and dense layer's gradients and two forward products: the kernels XNNPACK splits across
// threads. Imports are absolute: the script is written to a temporary folder (tsx does not resolve them for -e).
const CHILD = `
import * as tf from '${pathToFileURL(require.resolve('@tensorflow/tfjs')).href}';
import { getThreadsCount } from '${pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href}';
import { selectBackend } from '${pathToFileURL(path.join(ROOT, 'src/runtime/backends/select-backend.ts')).href}';
import os from 'node:os';
const s = await selectBackend('wasm');
const x = tf.randomUniform([8, 24, 24, 16], -1, 1, 'float32', 1);
const w = tf.randomUniform([3, 3, 16, 32], -0.2, 0.2, 'float32', 2);
const d = tf.randomUniform([(24 * 24 * 32) / 4, 10], -0.1, 0.1, 'float32', 3);
const f = (x, w, d) => tf.mean(tf.square(tf.matMul(tf.reshape(tf.relu(tf.conv2d(x, w, 2, 'same')), [8, -1]), d)));
const [gx, gw, gd] = tf.grads(f)([x, w, d]);
const y = tf.conv2d(x, w, 1, 'same');
const m = tf.matMul(tf.reshape(x, [8 * 24 * 24, 16]), tf.reshape(w, [9 * 16, 32]).slice([0, 0], [16, 32]));
const values = {};
for (const [k, t] of Object.entries({ y, m, gx, gw, gd })) values[k] = Array.from(await t.data());
const result = { note: s.reasons.at(-1), threads: getThreadsCount(), workerGlobal: typeof globalThis.Worker, cpus: os.cpus().length, values };
process.stdout.write(JSON.stringify(result));
`;

function runChild(threads: number): ChildResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netspec-wasm-threads-'));
  try {
    const script = path.join(dir, 'child.mts');
    writeFileSync(script, CHILD);
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...process.env, NETSPEC_WASM_THREADS: String(threads) },
      encoding: 'utf8',
      timeout: 90_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    // A pool thread that kept the process alive would end in the timeout (status null).
    expect({ status: r.status, stderr: r.stderr.slice(-2000) }).toEqual({ status: 0, stderr: '' });
    return JSON.parse(r.stdout) as ChildResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest |a - b| over the largest |b| (b's scale, so near-zero entries do not dominate). */
function maxRelativeError(a: readonly number[], b: readonly number[]): number {
  let scale = 1e-30;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b[i]!) / scale);
  });
  return worst;
}

describe('the wasm backend on 2 threads', () => {
  it('runs XNNPACK on 2 threads, gives the 1-thread values, and lets the process exit', () => {
    const one = runChild(1);
    const two = runChild(2);
    expect(one.threads).toBe(1);
    expect(one.note).toBe('wasm: XNNPACK with SIMD, 1 thread; Conv2DBackpropFilter supplied by netspec');
    expect(two.threads).toBe(2);
    expect(two.note).toBe('wasm: XNNPACK with SIMD, 2 threads; Conv2DBackpropFilter supplied by netspec');
    // The shim is gone after the initialisation: no global Worker (Node has none), the real core count.
    expect(two.workerGlobal).toBe('undefined');
    expect(two.cpus).toBe(os.cpus().length);
    const differences: string[] = [];
    for (const k of ['y', 'm', 'gx', 'gw', 'gd']) {
      const a = two.values[k]!;
      const b = one.values[k]!;
      expect(a.length, k).toBe(b.length);
      expect(a.length, k).toBeGreaterThan(0);
      expect(maxRelativeError(a, b), k).toBeLessThanOrEqual(1e-6);
      differences.push(`${k} ${maxRelativeError(a, b)}`);
    }
    console.log(`wasm 2 threads vs 1, max relative difference: ${differences.join(', ')}`);
  });
});

/**
 * The browser example (examples/browser) in headless Chromium. The page loads models written by `netspec export`
 * from checkpoints of seeded random weights, and its logits on netspec's test digits equal `netspec predict` on
 * cpu within 1e-4: lenet5 as a GraphModel on every backend the page offers (webgl and webgpu run on SwiftShader
 * here), and a small residual network with random BatchNorm statistics as a LayersModel with its layers.js
 * (netspec's custom layers) on wasm and cpu. The page names the backend and the WebGPU adapter; a digit drawn
 * with the mouse gets a prediction.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exampleDigits,
  exportModel,
  writeDigits,
  type ExampleDigits,
  type ExportRequest,
} from '../../examples/browser/prepare.js';
import { startExampleServer, type ExampleServer } from '../../examples/browser/server.js';
import { buildModel, getStateDict, type StateDict } from '../../src/compiler/targets/tfjs/index.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/runtime/train/config.js';
import { predict } from '../../src/runtime/session/predict.js';
import { compileIr } from '../support/compile.js';
import { values } from '../support/values.js';

const CHROMIUM = '/usr/bin/chromium';
const TOLERANCE = 1e-4;
const CLASSES = 10;

/** True when Debian's chromium is installed; otherwise warns that the browser test is skipped and why. */
function hasChromium(): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(`browser example test skipped: no ${CHROMIUM} (apt-get install chromium)`);
  return false;
}

/** What app.js keeps on window.netspecExample (the parts the test reads). */
interface PageState {
  readonly state: 'loading' | 'ready' | 'error';
  readonly backend: string | null;
  readonly adapter: Record<string, string | boolean> | null;
  readonly model: { readonly format: string; readonly inputShape: readonly number[] } | null;
  readonly digits: { readonly logits: readonly (readonly number[])[] } | null;
  readonly drawn: { readonly logits: readonly number[]; readonly prediction: number } | null;
  readonly error: string | null;
}

/** The weights with non-trivial BatchNorm parameters and running statistics (other tensors as they are). */
function withRandomBatchNorm(dict: StateDict, seed: number): StateDict {
  const out: StateDict = new Map();
  const bn = new Set([...dict.keys()].filter((k) => k.endsWith('.running_mean')).map((k) => k.slice(0, -13)));
  let s = seed;
  for (const [name, t] of dict) {
    const layer = name.slice(0, name.lastIndexOf('.'));
    const field = name.slice(layer.length + 1);
    const v = values(t.data.length, s++);
    const data = !bn.has(layer)
      ? t.data
      : field === 'running_var'
        ? v.map((x) => 1 + 0.75 * x)
        : field === 'weight'
          ? v.map((x) => 1 + 0.5 * x)
          : v.map((x) => 0.2 * x);
    out.set(name, { shape: t.shape, data });
  }
  return out;
}

/**
 * Exports `spec` with seeded random weights (through a checkpoint, as a trained model is exported) into
 * `assets/<name>` and returns netspec predict's logits on `digits` on cpu.
 */
async function exportWithReference(
  root: string,
  name: string,
  spec: string,
  format: ExportRequest['format'],
  digits: ExampleDigits,
): Promise<Float32Array> {
  const ir = compileIr(spec);
  const weights = withRandomBatchNorm(getStateDict(buildModel(ir, { seed: 7 }), ir), 11);
  const checkpoint = join(root, `${name}-checkpoint`);
  const data = { source: 'mnist-sample', train: 0, dev: 0, test: 0 };
  const config = { training: DEFAULT_TRAIN_CONFIG, data };
  saveCheckpoint(checkpoint, { kind: 'best', ir, config, backend: 'cpu', weights });
  await exportModel({ spec, format, checkpoint, outDir: join(root, 'assets', name) });
  const prediction = await predict(ir, weights, { shape: digits.shape, data: digits.inputs }, 'cpu');
  if ('diagnostics' in prediction) throw new Error(JSON.stringify(prediction.diagnostics));
  return prediction.data;
}

describe.skipIf(!hasChromium())('the browser example in headless Chromium', () => {
  let root: string;
  let server: ExampleServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const references = new Map<string, Float32Array>();
  const pageErrors: string[] = [];
  const measured: string[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'netspec-browser-'));
    const digits = await exampleDigits(compileIr('specs/lenet5.yaml'));
    writeDigits(join(root, 'assets'), digits);
    references.set(
      'model',
      await exportWithReference(root, 'model', 'specs/lenet5.yaml', 'tfjs-graph', digits),
    );
    const smallBn = 'test/fixtures/browser/small-bn.yaml';
    references.set('small-bn', await exportWithReference(root, 'small-bn', smallBn, 'tfjs-layers', digits));

    server = await startExampleServer({ assetsDir: join(root, 'assets') });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--enable-unsafe-swiftshader',
        '--enable-unsafe-webgpu',
        '--use-angle=swiftshader',
      ],
    });
    page = await browser.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // The page's default model (assets/model) on its default backend (webgl).
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
    if (measured.length)
      console.info(`browser example: max |page - netspec predict|: ${measured.join(', ')}`);
  });

  /** Waits until the page is ready (on `backend`, when given) or stopped with an error, and returns its state. */
  async function pageState(backend: string | undefined): Promise<PageState> {
    await page.waitForFunction(
      (b) => {
        const s = (globalThis as { netspecExample?: PageState }).netspecExample;
        return (
          s !== undefined && (s.state === 'error' || (s.state === 'ready' && (b === null || s.backend === b)))
        );
      },
      { timeout: 60_000 },
      backend ?? null,
    );
    return page.evaluate(() => (globalThis as unknown as { netspecExample: PageState }).netspecExample);
  }

  /** Picks `backend` on the page, unless it runs there already, and checks the logits against `model`'s. */
  async function checkLogits(model: string, format: string, backend: string): Promise<PageState> {
    const before = await pageState(undefined);
    if (before.backend !== backend) await page.select('#backend', backend);
    const state = await pageState(backend);
    expect(pageErrors).toEqual([]);
    expect(state.error).toBeNull();
    expect(state.state).toBe('ready');
    expect(state.model).toMatchObject({ format, inputShape: [1, 32, 32] });
    const reference = references.get(model) as Float32Array;
    const logits = state.digits?.logits ?? [];
    expect(logits.length * CLASSES).toBe(reference.length);
    let diff = 0;
    logits.forEach((row, i) =>
      row.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - (reference[i * CLASSES + j] as number))))),
    );
    measured.push(`${model} ${format} ${backend} ${diff.toExponential(1)}`);
    expect(diff).toBeLessThanOrEqual(TOLERANCE);
    expect(await page.$eval('#backend-active', (e) => e.textContent)).toBe(backend);
    return state;
  }

  it.each(['webgl', 'webgpu', 'wasm', 'cpu'])(
    'lenet5 (tfjs-graph) on %s, picked on the page: the logits equal netspec predict',
    async (backend) => {
      const state = await checkLogits('model', 'tfjs-graph', backend);
      const adapter = await page.$eval('#adapter', (e) => e.textContent ?? '');
      if (backend === 'webgpu') {
        expect(state.adapter?.vendor).toBeTruthy();
        expect(adapter).toContain(`WebGPU adapter: ${String(state.adapter?.vendor)}`);
        // SwiftShader is all this machine has; a real GPU would show its own name instead.
        if (state.adapter?.architecture === 'swiftshader') expect(adapter).toContain('(software: not a GPU)');
      }
      if (backend === 'webgl') expect(adapter).toMatch(/^WebGL renderer: /);
    },
  );

  it('a digit drawn with the mouse gets a prediction', async () => {
    const box = await page.$eval('#pad', (e) => {
      e.scrollIntoView();
      const r = e.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width, h: r.height };
    });
    // A "7": a bar across the top, then a diagonal down.
    await page.mouse.move(box.x + box.w * 0.3, box.y + box.h * 0.25);
    await page.mouse.down();
    await page.mouse.move(box.x + box.w * 0.7, box.y + box.h * 0.25, { steps: 8 });
    await page.mouse.move(box.x + box.w * 0.45, box.y + box.h * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(
      () => (globalThis as { netspecExample?: PageState }).netspecExample?.drawn != null,
      { timeout: 30_000 },
    );
    const state = await pageState(undefined);
    expect(state.drawn?.logits).toHaveLength(CLASSES);
    expect(state.drawn?.prediction).toBeGreaterThanOrEqual(0);
    expect(await page.$eval('#drawn-prediction', (e) => e.textContent)).toMatch(/^prediction: \d/);
    await page.click('#clear');
    await page.waitForFunction(
      () => (globalThis as { netspecExample?: PageState }).netspecExample?.drawn === null,
    );
  });

  // wasm and cpu only: a third model on SwiftShader costs 10-20 s more, and the export tests run it on webgpu.
  it.each(['wasm', 'cpu'])(
    'a residual network with BatchNorm (tfjs-layers + layers.js) on %s: the logits equal netspec predict',
    async (backend) => {
      const url = `${server?.url}?model=assets/small-bn/model.json&backend=wasm`;
      if (!page.url().includes('small-bn')) await page.goto(url);
      await checkLogits('small-bn', 'tfjs-layers', backend);
    },
  );
});

describe('the example server', () => {
  it('serves its fixed files and the assets folder, and nothing else', async () => {
    const assets = mkdtempSync(join(tmpdir(), 'netspec-browser-'));
    writeFileSync(join(assets, 'digits.json'), '{}');
    const server = await startExampleServer({ assetsDir: assets });
    try {
      const status = async (path: string): Promise<number> => (await fetch(server.url + path)).status;
      expect(await status('')).toBe(200);
      expect(await status('app.js')).toBe(200);
      expect(await status('vendor/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm')).toBe(200);
      expect(await status('assets/digits.json')).toBe(200);
      expect((await fetch(server.url + 'vendor/tfjs/tf.min.js')).headers.get('content-type')).toMatch(
        /^text\/javascript/,
      );
      for (const outside of [
        'package.json',
        'assets/%2e%2e/digits.json',
        'assets/..%2fpackage.json',
        'assets/',
      ])
        expect(await status(outside), outside).toBe(404);
    } finally {
      await server.close();
      rmSync(assets, { recursive: true, force: true });
    }
  });
});

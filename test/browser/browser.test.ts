/**
 * The browser example (examples/browser) in headless Chromium: the page loads an exported lenet5 with seeded
 * random weights, and its logits on netspec's test digits equal `netspec predict` on cpu within 1e-4 on every
 * backend the page offers (webgl and webgpu run on SwiftShader here); the page names the backend and the WebGPU
 * adapter; a digit drawn with the mouse gets a prediction.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleDigits, exportModel, writeDigits } from '../../examples/browser/prepare.js';
import { startExampleServer, type ExampleServer } from '../../examples/browser/server.js';
import { buildModel, getStateDict } from '../../src/compiler/targets/tfjs/index.js';
import { saveCheckpoint } from '../../src/runtime/checkpoint/index.js';
import { DEFAULT_TRAIN_CONFIG } from '../../src/runtime/train/config.js';
import { predict } from '../../src/runtime/session/predict.js';
import { compileIr } from '../support/compile.js';

const CHROMIUM = '/usr/bin/chromium';
const TOLERANCE = 1e-4;

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

describe.skipIf(!hasChromium())('the browser example in headless Chromium', () => {
  let root: string;
  let server: ExampleServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let reference: Float32Array;
  const pageErrors: string[] = [];
  const classes = 10;
  const measured = new Map<string, number>();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'netspec-browser-'));
    const assets = join(root, 'assets');
    const spec = 'specs/lenet5.yaml';
    const ir = compileIr(spec);
    const digits = await exampleDigits(ir);
    writeDigits(assets, digits);
    // Seeded random weights, exported from a checkpoint as a trained model would be (lenet5 has no BatchNorm).
    const weights = getStateDict(buildModel(ir, { seed: 7 }), ir);
    const checkpoint = join(root, 'checkpoint');
    const data = { source: 'mnist-sample', train: 0, dev: 0, test: 0 };
    saveCheckpoint(checkpoint, {
      kind: 'best',
      ir,
      config: { training: DEFAULT_TRAIN_CONFIG, data },
      backend: 'cpu',
      weights,
    });
    await exportModel({ spec, format: 'tfjs-graph', checkpoint, outDir: join(assets, 'model') });
    const prediction = await predict(ir, weights, { shape: digits.shape, data: digits.inputs }, 'cpu');
    if ('diagnostics' in prediction) throw new Error(JSON.stringify(prediction.diagnostics));
    reference = prediction.data;

    server = await startExampleServer({ assetsDir: assets });
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
    await page.goto(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
    if (measured.size)
      console.info(
        `browser example: max |page - netspec predict| ${[...measured].map(([b, d]) => `${b} ${d.toExponential(2)}`).join(', ')}`,
      );
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

  function maxDifference(logits: readonly (readonly number[])[]): number {
    expect(logits.length * classes).toBe(reference.length);
    let max = 0;
    logits.forEach((row, i) =>
      row.forEach((v, j) => (max = Math.max(max, Math.abs(v - (reference[i * classes + j] as number))))),
    );
    return max;
  }

  it.each(['webgl', 'webgpu', 'wasm', 'cpu'])(
    'on %s (picked on the page) the logits equal netspec predict',
    async (backend) => {
      const before = await pageState(undefined);
      if (before.backend !== backend) await page.select('#backend', backend);
      const state = await pageState(backend);
      expect(pageErrors).toEqual([]);
      expect(state.error).toBeNull();
      expect(state.state).toBe('ready');
      expect(state.model).toMatchObject({ format: 'tfjs-graph', inputShape: [1, 32, 32] });
      const diff = maxDifference(state.digits?.logits ?? []);
      measured.set(backend, diff);
      expect(diff).toBeLessThanOrEqual(TOLERANCE);
      expect(await page.$eval('#backend-active', (e) => e.textContent)).toBe(backend);
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
    const state = await page.evaluate(
      () => (globalThis as unknown as { netspecExample: PageState }).netspecExample,
    );
    expect(state.drawn?.logits).toHaveLength(classes);
    expect(state.drawn?.prediction).toBeGreaterThanOrEqual(0);
    expect(await page.$eval('#drawn-prediction', (e) => e.textContent)).toMatch(/^prediction: \d/);
    await page.click('#clear');
    await page.waitForFunction(
      () => (globalThis as { netspecExample?: PageState }).netspecExample?.drawn === null,
    );
  });
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

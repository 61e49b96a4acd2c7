/**
 * Exports a model with `netspec export`, writes netspec's test digits next to it, and serves the example page
 * with tfjs from node_modules on this machine:
 *
 *   npx tsx examples/browser/serve.ts [--checkpoint runs/lenet5/latest/checkpoints/best] [--spec specs/lenet5.yaml]
 *                                     [--format tfjs-graph|tfjs-layers] [--seed 0] [--port 8080] [--host 127.0.0.1]
 *
 * Without --checkpoint the model has the spec's initial weights (seeded), so its guesses are random. The export
 * lives in a temporary folder that is removed when the server stops (Ctrl-C).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compileOrReport } from '../../src/cli/common.js';
import { processIo } from '../../src/cli/io.js';
import { exampleDigits, exportModel, writeDigits } from './prepare.js';
import { startExampleServer } from './server.js';

const { values } = parseArgs({
  options: {
    spec: { type: 'string', default: 'specs/lenet5.yaml' },
    checkpoint: { type: 'string' },
    format: { type: 'string', default: 'tfjs-graph' },
    seed: { type: 'string', default: '0' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const format = values.format;
if (format !== 'tfjs-graph' && format !== 'tfjs-layers') {
  console.error(`--format must be tfjs-graph or tfjs-layers, got ${format}`);
  process.exit(2);
}
const ir = compileOrReport(values.spec, {}, processIo);
if (!ir) process.exit(1);

const assets = mkdtempSync(join(tmpdir(), 'netspec-browser-'));
const cleanUp = (): void => rmSync(assets, { recursive: true, force: true });
try {
  process.stdout.write(
    await exportModel({
      spec: values.spec,
      format,
      outDir: join(assets, 'model'),
      seed: Number(values.seed),
      ...(values.checkpoint === undefined ? {} : { checkpoint: values.checkpoint }),
    }),
  );
  writeDigits(assets, await exampleDigits(ir));
} catch (e) {
  cleanUp();
  console.error((e as Error).message);
  process.exit(1);
}

const server = await startExampleServer({ assetsDir: assets, host: values.host, port: Number(values.port) });
console.log(`serving the example at ${server.url} (Ctrl-C stops it); pick a backend on the page, or open`);
console.log(`${server.url}?backend=webgpu directly`);
const stop = (): void => {
  void server.close().then(() => {
    cleanUp();
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

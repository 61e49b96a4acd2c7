/**
 * The example's local web server: the page, the assets folder (exported model, digits) and tfjs's browser
 * bundles straight from node_modules, so the page runs with no CDN and no network. Serves a fixed list of files
 * plus what lies under the assets folder; nothing else on disk is reachable.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding index.html and app.js. */
export const PAGE_DIR = dirname(fileURLToPath(import.meta.url));

/** Where the server listens and what it serves besides the page. */
export interface ExampleServerOptions {
  /** Served under /assets/: model/ (an export of netspec) and digits.json + digits.bin. */
  readonly assetsDir: string;
  /** Default 127.0.0.1: the example is for this machine only. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
}

/** A running server; `close` ends open connections too, so nothing keeps the process alive. */
export interface ExampleServer {
  readonly url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.bin': 'application/octet-stream',
};

function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

/** URL path → file: the page and the tfjs bundles it loads (UMD builds that share one global `tf`). */
export function fixedRoutes(): ReadonlyMap<string, string> {
  const tfjs = join(packageDir('@tensorflow/tfjs'), 'dist');
  const webgpu = join(packageDir('@tensorflow/tfjs-backend-webgpu'), 'dist');
  const wasm = join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist');
  const routes = new Map<string, string>([
    ['/', join(PAGE_DIR, 'index.html')],
    ['/index.html', join(PAGE_DIR, 'index.html')],
    ['/app.js', join(PAGE_DIR, 'app.js')],
    ['/vendor/tfjs/tf.min.js', join(tfjs, 'tf.min.js')],
    ['/vendor/tfjs-backend-webgpu/tf-backend-webgpu.min.js', join(webgpu, 'tf-backend-webgpu.min.js')],
    ['/vendor/tfjs-backend-wasm/tf-backend-wasm.min.js', join(wasm, 'tf-backend-wasm.min.js')],
  ]);
  for (const binary of [
    'tfjs-backend-wasm.wasm',
    'tfjs-backend-wasm-simd.wasm',
    'tfjs-backend-wasm-threaded-simd.wasm',
  ])
    routes.set(`/vendor/tfjs-backend-wasm/${binary}`, join(wasm, binary));
  return routes;
}

/** The file a request path names: a fixed route, or a regular file inside the assets folder; else undefined. */
function fileFor(path: string, routes: ReadonlyMap<string, string>, assetsDir: string): string | undefined {
  const fixed = routes.get(path);
  if (fixed !== undefined) return fixed;
  if (!path.startsWith('/assets/')) return undefined;
  const file = resolve(assetsDir, `.${path.slice('/assets'.length)}`);
  const inside = relative(assetsDir, file);
  if (inside === '' || inside.startsWith('..') || inside.split(sep).includes('..')) return undefined;
  return file;
}

function respond(
  req: IncomingMessage,
  res: ServerResponse,
  routes: ReadonlyMap<string, string>,
  assets: string,
) {
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    res.writeHead(400).end('bad request\n');
    return;
  }
  const file = req.method === 'GET' || req.method === 'HEAD' ? fileFor(path, routes, assets) : undefined;
  let size: number | undefined;
  try {
    const stat = file === undefined ? undefined : statSync(file);
    size = stat?.isFile() ? stat.size : undefined;
  } catch {
    size = undefined;
  }
  if (file === undefined || size === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
    return;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** Starts the server and resolves once it listens. */
export function startExampleServer(options: ExampleServerOptions): Promise<ExampleServer> {
  const routes = fixedRoutes();
  const assets = resolve(options.assetsDir);
  const server = createServer((req, res) => respond(req, res, routes, assets));
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      done({
        url: `http://${host}:${port}/`,
        close: () =>
          new Promise<void>((closed) => {
            server.close(() => closed());
            server.closeAllConnections();
          }),
      });
    });
  });
}

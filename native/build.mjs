#!/usr/bin/env node
// Builds netspec's optional native backend (native/build/netspec_native.node): the C++ files in SOURCES, against
// Node-API and oneDNN, in one compiler call. Compiled directly with the system compiler because node-gyp would download Node's headers, while
// the Node installation already ships node_api.h. Optional: without a compiler, the Node headers or
// libdnnl-dev it prints one line saying why and exits 0 (`--backend auto` then falls back to wasm); with
// --require it exits 1 instead, for machines that must have it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The addon's translation units (native/src; the headers they share sit beside them). */
const SOURCES = [
  'netspec_native.cc',
  'support.cc',
  'conv2d.cc',
  'matmul.cc',
  'elementwise.cc',
  'batchnorm.cc',
  'pool.cc',
  'transpose.cc',
];
const sources = SOURCES.map((file) => path.join(here, 'src', file));
const output = path.join(here, 'build', 'netspec_native.node');
const required = process.argv.includes('--require');

function skip(reason) {
  console.log(`native: not built: ${reason}`);
  process.exit(required ? 1 : 0);
}

function which(program) {
  try {
    return execFileSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const compiler = process.env.CXX || which('c++') || which('g++') || which('clang++');
if (!compiler) skip('no C++ compiler (apt-get install g++)');
const nodeInclude = path.resolve(process.execPath, '..', '..', 'include', 'node');
if (!fs.existsSync(path.join(nodeInclude, 'node_api.h')))
  skip(`Node's headers are not at ${nodeInclude} (node_api.h)`);
const dnnlHeader = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'].find(
  (f) => fs.existsSync(f),
);
if (!dnnlHeader) skip('oneDNN is not installed (apt-get install libdnnl-dev)');

fs.mkdirSync(path.dirname(output), { recursive: true });
const args = [
  '-O3',
  // Built where it runs (each machine builds its own), so the compiler may use every instruction it has.
  '-march=native',
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-fopenmp',
  // Only the module's entry points (NAPI_MODULE marks them) leave the library; what the files share stays inside.
  '-fvisibility=hidden',
  '-Wall',
  '-DNODE_GYP_MODULE_NAME=netspec_native',
  '-DNAPI_VERSION=8',
  `-I${nodeInclude}`,
  ...sources,
  '-o',
  output,
  '-ldnnl',
];
try {
  execFileSync(compiler, args, { stdio: ['ignore', 'inherit', 'inherit'] });
} catch {
  skip(`${compiler} failed (see above)`);
}
console.log(`native: built ${path.relative(process.cwd(), output)} with ${compiler} against ${dnnlHeader}`);

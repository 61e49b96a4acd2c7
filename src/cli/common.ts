/**
 * Compiling a spec for a command, with its diagnostics printed (the option parsers are in options.ts). The compiler
 * (chevrotain, ajv, yaml: most of netspec's start-up time) is loaded by {@link loadCompiler}, which main.ts awaits
 * before any command's action, so that `netspec --help` and a typo never load it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as Compiler from '../compiler/index.js';
import type { CompileOptions, CompileResult, SpecHost } from '../compiler/index.js';
import type { IrNetwork } from '../compiler/ir.js';
import type * as Parser from '../parser/index.js';
import { hasErrors } from '../diagnostics.js';
import { listNames } from '../runtime/files/marker.js';
import { fileHost, type CliIo } from './io.js';
import { renderDiagnostics } from './render.js';

/** Options every spec-taking command accepts (`batchSize` only where the command has `--batch-size`). */
export interface SpecOptions {
  readonly set?: string[];
  readonly maxParams?: number;
  readonly batchSize?: number;
}

type CompilerModule = typeof Compiler;
type ParserModule = typeof Parser;

let loaded: { readonly compiler: CompilerModule; readonly parser: ParserModule } | undefined;

/** Loads the compiler and the parser once; main.ts awaits it before running any command's action. */
export async function loadCompiler(): Promise<void> {
  if (loaded) return;
  const [compiler, parser] = await Promise.all([
    import('../compiler/index.js'),
    import('../parser/index.js'),
  ]);
  loaded = { compiler, parser };
}

function modules(): NonNullable<typeof loaded> {
  // A command action runs only after main.ts's preAction hook awaited loadCompiler.
  if (!loaded) throw new Error('loadCompiler() was not awaited before compiling a spec');
  return loaded;
}

/** The spec file name endings (`.yaml`, `.yml`, `.net`), from the parser. */
export function specExtensions(): readonly string[] {
  return modules().parser.SPEC_EXTENSIONS;
}

/** The spec files directly in folder `dir` (not in its subfolders), sorted by name. */
export function specsInFolder(dir: string): string[] {
  const { isSpecFile } = modules().parser;
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.isDirectory() && isSpecFile(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** True when `spec` names an existing folder (through links too). */
export function isFolder(spec: string): boolean {
  try {
    return fs.statSync(spec).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The one-line error for a folder given where one spec file is meant: `specs is a folder: name one spec file, e.g.
 * specs/lenet5.yaml (it holds lenet5.net, lenet5.yaml, ...)`, or that it holds none.
 */
export function folderGivenError(dir: string): string {
  let specs: string[];
  try {
    specs = specsInFolder(dir);
  } catch {
    specs = [];
  }
  // The example is a YAML spec where there is one: YAML is the default form.
  const first = specs.find((s) => /\.ya?ml$/i.test(s)) ?? specs[0];
  if (first === undefined)
    return `${dir} is a folder, and holds no spec files (*${specExtensions().join(', *')}): name one spec file`;
  const names = specs.map((s) => path.basename(s));
  return `${dir} is a folder: name one spec file, e.g. ${first} (it holds ${listNames(names)})`;
}

/**
 * Compiles `spec` through `host` (the files on disk by default); activations are sized at the command's
 * `--batch-size` when it has one, else at the compiler's default batch (64).
 */
export function compileSpecWith(
  spec: string,
  options: SpecOptions,
  host: SpecHost = fileHost,
): CompileResult {
  const compileOptions: CompileOptions = {
    ...(options.set ? { set: options.set } : {}),
    ...(options.maxParams !== undefined ? { maxParams: options.maxParams } : {}),
    ...(typeof options.batchSize === 'number' ? { batchSize: options.batchSize } : {}),
  };
  return modules().compiler.compileSpec(spec, host, compileOptions);
}

/**
 * Compiles `spec`, printing diagnostics to stderr; undefined when there was an error. A folder named instead of a
 * spec file is one line naming the specs in it.
 */
export function compileOrReport(spec: string, options: SpecOptions, io: CliIo): IrNetwork | undefined {
  return compiledOrReport(spec, options, io)?.ir;
}

/** {@link compileOrReport}'s whole result (the IR with the spec's training settings), or undefined on errors. */
export function compiledOrReport(
  spec: string,
  options: SpecOptions,
  io: CliIo,
): (CompileResult & { readonly ir: IrNetwork }) | undefined {
  if (isFolder(spec)) {
    io.stderr(`error: ${folderGivenError(spec)}\n`);
    return undefined;
  }
  const result = compileSpecWith(spec, options);
  if (result.diagnostics.length) io.stderr(renderDiagnostics(result.diagnostics, result.sources));
  const { ir } = result;
  if (hasErrors(result.diagnostics) || !ir) return undefined;
  return { ...result, ir };
}

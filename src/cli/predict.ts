/**
 * `netspec predict` (inference on a safetensors input with PyTorch-style weights, optionally renamed by a map)
 * and `netspec export-weights` (a checkpoint's weights as a state dict the generated PyTorch module loads).
 */
import type { Command } from 'commander';
import type { IrNetwork } from '../compiler/ir.js';
import type { StateDict } from '../compiler/targets/tfjs/state-dict.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import type { BackendName } from '../runtime/backends/names.js';
import { READ_LIMITS, readRegularFile } from '../runtime/files/read.js';
import { checkOutputFile, writeOutputFile, type OutputFileOptions } from '../runtime/files/write.js';
import { decodeSafetensors, encodeSafetensors } from '../runtime/weights/safetensors.js';
import { isNetspecSafetensors, PRODUCER_KEY } from '../runtime/weights/safetensors-file.js';
import {
  exportStateDict,
  importStateDict,
  parseWeightMap,
  type WeightMap,
} from '../runtime/weights/state-dict-io.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { backendOption, withSpecOptions } from './options.js';
import { fileSystemError, UserError, type CliIo } from './io.js';
import { renderDiagnostics } from './render.js';

interface PredictOptions extends SpecOptions {
  readonly weights: string;
  readonly map?: string;
  readonly input: string;
  readonly output?: string;
  readonly backend: BackendName;
  readonly force?: boolean;
}

interface ExportOptions extends SpecOptions {
  readonly checkpoint: string;
  readonly output: string;
  readonly force?: boolean;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Prints diagnostics and throws when there is an error among them. */
function stopOn(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, io: CliIo): void {
  if (!diagnostics.length) return;
  io.stderr(renderDiagnostics(diagnostics, sources));
  if (hasErrors(diagnostics))
    throw new UserError(
      `${diagnostics.filter((d) => d.severity === 'error').length} error(s); nothing was written`,
    );
}

/** Reads a weights file (and map) into a state dict for `ir`, or throws a UserError naming every bad tensor. */
export function loadWeights(
  ir: IrNetwork,
  weightsFile: string,
  mapFile: string | undefined,
  io: CliIo,
): StateDict {
  let map: WeightMap = { rules: [], ignore: [] };
  if (mapFile !== undefined) {
    const text = new TextDecoder().decode(readRegularFile(mapFile, 'map file', READ_LIMITS.map));
    const parsed = parseWeightMap(text, mapFile);
    stopOn(parsed.diagnostics, new Map([[mapFile, text]]), io);
    map = parsed;
  }
  const decoded = decodeSafetensors(
    readRegularFile(weightsFile, 'weights file', READ_LIMITS.tensors),
    weightsFile,
  );
  const { dict, diagnostics } = importStateDict(decoded, map, ir, weightsFile);
  stopOn(diagnostics, new Map(), io);
  return dict;
}

/**
 * Logits for `predict`'s JSON: numbers, and the strings "NaN", "Infinity", "-Infinity" for what JSON has no
 * number for (protobuf's JSON mapping of floats does the same); `JSON.stringify` alone would print null.
 */
export function logitsJson(data: Float32Array): (number | string)[] {
  return Array.from(data, (v) => (Number.isFinite(v) ? v : String(v)));
}

/** How many logits are not finite and where the first is (`[sample, class]`), or undefined when all are finite. */
export function nonFiniteWarning(data: Float32Array, shape: readonly number[]): string | undefined {
  const first = data.findIndex((v) => !Number.isFinite(v));
  if (first < 0) return undefined;
  const count = data.reduce((n, v) => (Number.isFinite(v) ? n : n + 1), 0);
  const index: number[] = [];
  let rest = first;
  for (let k = shape.length - 1; k >= 0; k--) {
    const size = shape[k] ?? 1;
    index.unshift(rest % size);
    rest = Math.floor(rest / size);
  }
  return (
    `${count} of ${data.length} logits are not finite (NaN or infinite), the first ${String(data[first])} ` +
    `at [${index.join(', ')}]`
  );
}

/** Registers `predict` and `export-weights`; `setExit` records the exit code. */
export function registerPredict(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('predict')
      .description('run the network in inference mode (BN running statistics) on an NCHW float32 tensor')
      .argument('<spec>', 'spec file (.yaml or .net)')
      .requiredOption(
        '--weights <file>',
        'PyTorch-style state dict (.safetensors): names are layer paths, or mapped',
      )
      .option('--map <file>', "rename map for a foreign model's tensor names (YAML: rename: [{from, to}])")
      .requiredOption(
        '--input <file>',
        "safetensors file with a float32 tensor 'input' of shape [N, C, H, W]",
      )
      .option(
        '--output <file>',
        "where to write the logits as tensor 'output' (default: print {shape, output} as JSON, where NaN and " +
          'infinite logits are the strings "NaN", "Infinity", "-Infinity"; a warning on stderr names them)',
      )
      .addOption(backendOption())
      .option('--force', 'replace an --output file that netspec wrote earlier'),
  ).action(async (spec: string, options: PredictOptions) => setExit(await predictCommand(spec, options, io)));

  withSpecOptions(
    program
      .command('export-weights')
      .description(
        "write a checkpoint's weights as a PyTorch state dict (.safetensors) for the generated module",
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .requiredOption('--checkpoint <dir>', 'a checkpoint folder (runs/NAME/checkpoints/best)')
      .requiredOption('-o, --output <file>', 'the .safetensors file to write')
      .option('--force', 'replace a weights file that netspec wrote earlier'),
  ).action(async (spec: string, options: ExportOptions) => setExit(await exportCommand(spec, options, io)));
}

/** Runs `netspec predict`; returns the exit code. */
async function predictCommand(spec: string, options: PredictOptions, io: CliIo): Promise<number> {
  // Activation sizes are checked below at the batch the input holds, not at the training batch.
  const ir = compileOrReport(spec, { ...options, batchSize: 1 }, io);
  if (!ir) return 1;
  const output =
    options.output === undefined
      ? undefined
      : outputFile(options.output, '--output', 'predictions file', options);
  const dict = loadWeights(ir, options.weights, options.map, io);
  const decoded = decodeSafetensors(
    readRegularFile(options.input, 'input file', READ_LIMITS.tensors),
    options.input,
  );
  // tfjs loads only for commands that run a model, so `check` and the reports start fast.
  const session = await import('../runtime/session/index.js');
  const prediction = await session.predict(
    ir,
    dict,
    session.predictInput(ir, decoded, options.input),
    options.backend,
  );
  if ('diagnostics' in prediction) {
    stopOn(prediction.diagnostics, new Map(), io);
    return 1;
  }
  const { shape, data } = prediction;
  const warning = nonFiniteWarning(data, shape);
  if (options.output === undefined || output === undefined) {
    if (warning) io.stderr(`warning: ${warning}; the JSON gives them as strings\n`);
    io.stdout(JSON.stringify({ shape, output: logitsJson(data) }) + '\n');
    return 0;
  }
  const meta = { [PRODUCER_KEY]: 'predict', network: ir.name };
  const bytes = encodeSafetensors(new Map([['output', { dtype: 'F32', shape, data }]]), meta);
  writeOutput(options.output, asBuffer(bytes), output);
  if (warning) io.stderr(`warning: ${warning}; ${options.output} holds them as they are\n`);
  io.stdout(`wrote ${options.output}: output [${shape.join(', ')}] (logits, float32)\n`);
  return 0;
}

/** Runs `netspec export-weights`; returns the exit code. */
async function exportCommand(spec: string, options: ExportOptions, io: CliIo): Promise<number> {
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const output = outputFile(options.output, '-o', 'weights file', options);
  const { checkCheckpointFits, loadCheckpoint } = await import('../runtime/checkpoint/index.js');
  const checkpoint = loadCheckpoint(options.checkpoint);
  checkCheckpointFits(checkpoint, ir, spec);
  const tensors = exportStateDict(checkpoint.weights, ir, checkpoint.meta.optimizer?.iterations ?? 0);
  const meta = { format: 'pt', network: ir.name, [PRODUCER_KEY]: 'export-weights' };
  writeOutput(options.output, asBuffer(encodeSafetensors(tensors, meta)), output);
  io.stdout(`wrote ${options.output}: ${tensors.size} tensors of '${ir.name}' (PyTorch layout and names)\n`);
  return 0;
}

/**
 * The write policy of a safetensors output (see checkOutputFile: a new file, or with --force one netspec wrote;
 * never a link, device or FIFO), checked before any work so that a refused path costs nothing.
 */
function outputFile(
  file: string,
  option: string,
  what: string,
  options: { readonly force?: boolean },
): OutputFileOptions {
  const policy: OutputFileOptions = {
    force: options.force === true,
    isOwn: isNetspecSafetensors,
    what,
    option,
  };
  checkOutputFile(file, policy);
  return policy;
}

/** Writes one output file atomically; a file-system failure is a user error naming the file (none is left). */
function writeOutput(file: string, bytes: Buffer, policy: OutputFileOptions): void {
  try {
    writeOutputFile(file, bytes, policy);
  } catch (e) {
    throw fileSystemError(e, file) ?? e;
  }
}

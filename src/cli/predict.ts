/**
 * `netspec predict` (inference on images, .npy, IDX or safetensors input, with a checkpoint or PyTorch-style
 * weights optionally renamed by a map: the top classes, or the logits) and the registration of `netspec
 * export-weights` (a checkpoint's weights as a state dict the generated PyTorch module loads; run by export.ts,
 * as `export --format safetensors`).
 */
import type { Command } from 'commander';
import type { IrNetwork } from '../compiler/ir.js';
import type { StateDict } from '../compiler/targets/tfjs/state-dict.js';
import { hasErrors, type Diagnostic } from '../diagnostics.js';
import type { BackendName } from '../runtime/backends/names.js';
import { READ_LIMITS, readRegularFile } from '../runtime/files/read.js';
import { checkOutputFile, type OutputFileOptions } from '../runtime/files/write.js';
import { decodeSafetensors, encodeSafetensors } from '../runtime/weights/safetensors.js';
import { isNetspecSafetensors, PRODUCER_KEY } from '../runtime/weights/safetensors-file.js';
import { importStateDict, parseWeightMap, type WeightMap } from '../runtime/weights/state-dict-io.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { exportWeightsCommand, type ExportWeightsOptions } from './export.js';
import { backendOption, parsePositiveInt, withSpecOptions } from './options.js';
import { UserError, writeOutputFileOrFail, type CliIo } from './io.js';
import { renderDiagnostics } from './render.js';

interface PredictOptions extends SpecOptions {
  readonly weights?: string;
  readonly checkpoint?: string;
  readonly map?: string;
  readonly input: string;
  readonly output?: string;
  readonly topK: number;
  readonly json?: boolean;
  readonly backend: BackendName;
  readonly force?: boolean;
}

/** How many problems of a weights file are printed before the rest are counted (evaluate lists 8 layers too). */
export const WEIGHT_PROBLEMS_SHOWN = 8;

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * At most `limit` of `diagnostics`, taken in turn from each code (the first unused tensor, the first missing one,
 * the first of another shape, then the second of each...), in their original order: a cut list still shows every
 * kind of problem.
 */
export function sampleByCode(diagnostics: readonly Diagnostic[], limit: number): Diagnostic[] {
  if (diagnostics.length <= limit) return [...diagnostics];
  const byCode = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) byCode.set(d.code, [...(byCode.get(d.code) ?? []), d]);
  const picked = new Set<Diagnostic>();
  for (let round = 0; picked.size < limit; round++)
    for (const list of byCode.values()) {
      const d = list[round];
      if (d && picked.size < limit) picked.add(d);
    }
  return diagnostics.filter((d) => picked.has(d));
}

/**
 * Prints diagnostics (at most `limit`, by {@link sampleByCode}, then how many more) and throws when there is an error among them: weights
 * of another network fail on every tensor, and a hundred lines hide the first that says why.
 */
function stopOn(
  diagnostics: readonly Diagnostic[],
  sources: ReadonlyMap<string, string>,
  io: CliIo,
  limit = Infinity,
): void {
  if (!diagnostics.length) return;
  io.stderr(renderDiagnostics(sampleByCode(diagnostics, limit), sources));
  if (diagnostics.length > limit)
    io.stderr(
      `... and ${diagnostics.length - limit} more problems (${diagnostics.length} in all); ` +
        'do the spec and the weights describe the same network?\n',
    );
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
  stopOn(diagnostics, new Map(), io, WEIGHT_PROBLEMS_SHOWN);
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
      .description(
        'run the network in inference mode (BN running statistics) on images, .npy, IDX or safetensors input, ' +
          'and print the most probable classes',
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .option(
        '--checkpoint <dir>',
        'a checkpoint folder (checkpoints/best, checkpoints/last) or a run folder (uses its best)',
      )
      .option('--weights <file>', 'PyTorch-style state dict (.safetensors): names are layer paths, or mapped')
      .option(
        '--map <file>',
        "with --weights: a rename map for a foreign model's tensor names (YAML: rename: [{from, to}])",
      )
      .requiredOption(
        '--input <path>',
        'a PNG or JPEG image, a folder of them (sorted by name), a .npy of float32 [0, 1] or uint8 images ' +
          '([N, C, H, W], [N, H, W] or [H, W]), an IDX images file (or .gz): converted, resized and normalized as ' +
          "training data (light backgrounds are not inverted); or a safetensors file whose float32 tensor 'input' " +
          '[N, C, H, W] is the network input as it is',
      )
      .option('--top-k <k>', 'how many classes to print per input, most probable first', parsePositiveInt, 1)
      .option(
        '--json',
        'print one JSON document {network, shape, output, classes, predictions} (logits in output; NaN and ' +
          'infinite logits as the strings "NaN", "Infinity", "-Infinity")',
      )
      .option(
        '--output <file>',
        "write the logits as tensor 'output' of a safetensors file instead of printing classes",
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
      .requiredOption(
        '--checkpoint <dir>',
        'a checkpoint folder (checkpoints/best, checkpoints/last) or a run folder (uses its best)',
      )
      .requiredOption(
        '-o, --output <file>',
        'the .safetensors file to write (a new file, or with --force one netspec wrote)',
      )
      .option('--force', 'replace a weights file that netspec wrote earlier'),
  ).action(async (spec: string, options: ExportWeightsOptions) =>
    setExit(await exportWeightsCommand(spec, options, io)),
  );
}

/** Runs `netspec predict`; returns the exit code. */
async function predictCommand(spec: string, options: PredictOptions, io: CliIo): Promise<number> {
  if ((options.weights === undefined) === (options.checkpoint === undefined))
    throw new UserError(
      options.weights === undefined
        ? 'predict needs the weights: --checkpoint DIR (a checkpoint or run folder) or --weights FILE.safetensors'
        : 'give --checkpoint or --weights, not both',
    );
  if (options.map !== undefined && options.weights === undefined)
    throw new UserError(
      '--map renames the tensors of a --weights file; a checkpoint has netspec names already',
    );
  if (options.output !== undefined && options.json === true)
    throw new UserError('--json prints the classes; --output writes the logits instead: give one of them');
  // Activation sizes are checked below at the batch the input holds, not at the training batch.
  const ir = compileOrReport(spec, { ...options, batchSize: 1 }, io);
  if (!ir) return 1;
  const output =
    options.output === undefined
      ? undefined
      : outputFile(options.output, '--output', 'predictions file', options);
  // tfjs loads only for commands that run a model, so `check` and the reports start fast.
  const session = await import('../runtime/session/index.js');
  let dict: StateDict;
  let classNames: readonly string[] | undefined;
  if (options.checkpoint !== undefined) {
    const loaded = session.loadPredictCheckpoint(options.checkpoint, ir, spec);
    dict = loaded.checkpoint.weights;
    classNames = loaded.classNames;
  } else dict = loadWeights(ir, options.weights as string, options.map, io);
  const { names, input } = session.readPredictInput(ir, options.input);
  const prediction = await session.predict(ir, dict, input, options.backend);
  if ('diagnostics' in prediction) {
    stopOn(prediction.diagnostics, new Map(), io, WEIGHT_PROBLEMS_SHOWN);
    return 1;
  }
  const { shape, data } = prediction;
  const warning = nonFiniteWarning(data, shape);
  if (options.output !== undefined && output !== undefined) {
    const meta = { [PRODUCER_KEY]: 'predict', network: ir.name };
    const bytes = encodeSafetensors(new Map([['output', { dtype: 'F32', shape, data }]]), meta);
    writeOutputFileOrFail(options.output, asBuffer(bytes), output);
    if (warning) io.stderr(`warning: ${warning}; ${options.output} holds them as they are\n`);
    io.stdout(`wrote ${options.output}: output [${shape.join(', ')}] (logits, float32)\n`);
    return 0;
  }
  const classes = shape.length === 2 ? (shape[1] ?? 0) : 0;
  if (classes === 0)
    throw new UserError(
      `'${ir.name}' outputs [${shape.slice(1).join(', ')}] per input, not class logits [K]: use --output to write them`,
    );
  const labels = classNames ?? Array.from({ length: classes }, (_, i) => String(i));
  const top = session.topClasses(data, classes, options.topK);
  if (options.json === true) {
    if (warning) io.stderr(`warning: ${warning}; the JSON gives them as strings\n`);
    io.stdout(JSON.stringify(predictionJson(ir.name, shape, data, labels, names, top)) + '\n');
    return 0;
  }
  if (warning) io.stderr(`warning: ${warning}; their probabilities print as NaN\n`);
  io.stdout(topLines(names, top, labels).join('\n') + '\n');
  return 0;
}

/** One class of a prediction as `--json` prints it. */
interface ClassJson {
  readonly class: number;
  readonly name: string;
  readonly probability: number | string;
}

/** The document `predict --json` prints. */
export interface PredictionJson {
  readonly network: string;
  /** The logits' shape, [N, K]. */
  readonly shape: readonly number[];
  /** The logits, row by row (non-finite ones as strings: see {@link logitsJson}). */
  readonly output: (number | string)[];
  /** The class names in index order (the indices as strings when the data had no names). */
  readonly classes: readonly string[];
  /** Per input, in input order: its name and its top classes with softmax probabilities (0 to 1). */
  readonly predictions: readonly { readonly input: string; readonly top: readonly ClassJson[] }[];
}

/** The `--json` document of a prediction. */
export function predictionJson(
  network: string,
  shape: readonly number[],
  logits: Float32Array,
  labels: readonly string[],
  names: readonly string[],
  top: readonly (readonly { readonly index: number; readonly probability: number }[])[],
): PredictionJson {
  return {
    network,
    shape,
    output: logitsJson(logits),
    classes: labels,
    predictions: top.map((row, i) => ({
      input: names[i] ?? String(i),
      top: row.map((c) => ({
        class: c.index,
        name: labels[c.index] ?? String(c.index),
        probability: Number.isFinite(c.probability) ? c.probability : String(c.probability),
      })),
    })),
  };
}

/**
 * One line per input, its name then its top classes with their softmax probability (0 to 1, 3 decimals), the
 * columns aligned: `digit7.png  7 (0.982)  1 (0.011)  2 (0.004)`.
 */
export function topLines(
  names: readonly string[],
  top: readonly (readonly { readonly index: number; readonly probability: number }[])[],
  labels: readonly string[],
): string[] {
  const nameWidth = Math.max(0, ...names.map((n) => n.length));
  const cells = top.map((row) =>
    row.map(
      (c) =>
        `${labels[c.index] ?? String(c.index)} (${Number.isNaN(c.probability) ? 'NaN' : c.probability.toFixed(3)})`,
    ),
  );
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, k) => (widths[k] = Math.max(widths[k] ?? 0, cell.length)));
  return cells.map((row, i) =>
    [
      (names[i] ?? String(i)).padEnd(nameWidth),
      ...row.map((cell, k) => (k < row.length - 1 ? cell.padEnd(widths[k] ?? 0) : cell)),
    ].join('  '),
  );
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

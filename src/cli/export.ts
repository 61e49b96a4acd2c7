/**
 * `netspec export <spec> [--checkpoint DIR] --format tfjs-graph|tfjs-layers|onnx|safetensors -o PATH`: the network
 * with its weights (a checkpoint's, or the initial weights of `--seed`) as a TensorFlow.js model folder, one ONNX
 * model file, or the weights alone as a PyTorch state dict (safetensors); and `netspec export-weights`, the older
 * name of `--format safetensors` from a checkpoint (registered beside predict, in predict.ts, and run here).
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { countParams, type IrNetwork } from '../compiler/ir.js';
import { ONNX_MAX_BYTES, ONNX_OPSETS, opsetProblem } from '../compiler/targets/onnx/format.js';
import type { StateDict } from '../compiler/targets/tfjs/state-dict.js';
import { FileError } from '../runtime/errors.js';
import { ALL_FORMATS, isFileFormat, type AnyFormat, type FileFormat } from '../runtime/export/formats.js';
import { checkOutputFolder, type OutputFolderOptions } from '../runtime/files/output-folder.js';
import { checkOutputFile, type OutputFileOptions } from '../runtime/files/write.js';
import { isNetspecOnnx } from '../runtime/export/onnx-file.js';
import { isNetspecSafetensors } from '../runtime/weights/safetensors-file.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { parseInteger, withSpecOptions } from './options.js';
import { UserError, writeFolderAtomically, writeOutputFileOrFail, type CliIo } from './io.js';

interface ExportCommandOptions extends SpecOptions {
  readonly format: AnyFormat;
  readonly checkpoint?: string;
  readonly output: string;
  readonly seed: number;
  readonly opset?: number;
  readonly force?: boolean;
}

/** `netspec export-weights`'s options. */
export interface ExportWeightsOptions extends SpecOptions {
  readonly checkpoint: string;
  readonly output: string;
  readonly force?: boolean;
}

/** What loads each format, for the command's last line. */
const LOADED_BY: { readonly [F in AnyFormat]: string } = {
  'tfjs-graph': 'tf.loadGraphModel',
  'tfjs-layers': 'tf.loadLayersModel after registerLayers(tf) from layers.js',
  onnx: 'onnxruntime (InferenceSession.create), or open it in Netron',
  safetensors:
    "load_state_dict(safetensors.torch.load_file(...)) on the module 'netspec compile --target pytorch' writes",
};

/** Each one-file format's role in messages, and how netspec recognises a file of it as its own. */
const FILE_POLICY: {
  readonly [F in FileFormat]: { readonly what: string; readonly isOwn: (file: string) => boolean };
} = {
  onnx: { what: 'ONNX model', isOwn: isNetspecOnnx },
  safetensors: { what: 'weights file', isOwn: isNetspecSafetensors },
};

/** Bytes as MiB with one decimal, the unit stated. */
const mebibytes = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Registers the command; `setExit` records the exit code. */
export function registerExport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('export')
      .description(
        'write the network with its weights as a TensorFlow.js model folder, an ONNX model file, or the weights ' +
          'as a PyTorch state dict (.safetensors)',
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .addOption(
        new Option(
          '--format <format>',
          'tfjs-graph: a GraphModel folder for inference on any tfjs backend; tfjs-layers: a LayersModel folder ' +
            "(with layers.js, netspec's custom layers) that an app can also fine-tune; onnx: one .onnx file for " +
            'onnxruntime and Netron (inference: BatchNorm on its running statistics); safetensors: the weights as ' +
            'the state dict of the generated PyTorch module (what export-weights writes)',
        )
          .choices(ALL_FORMATS)
          .makeOptionMandatory(),
      )
      .option(
        '--checkpoint <dir>',
        'a checkpoint folder (runs/NAME/checkpoints/best) or a run folder (uses its best); default: initial weights',
      )
      .requiredOption(
        '-o, --output <path>',
        'the folder to write (tfjs formats), or the file (onnx, safetensors): a new one, or with --force one ' +
          'netspec wrote',
      )
      .addOption(
        new Option('--seed <n>', 'seed of the initial weights (without --checkpoint)')
          .argParser(parseInteger)
          .default(0),
      )
      .addOption(
        new Option(
          '--opset <n>',
          `with --format onnx: the ONNX opset, ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max} (default ${ONNX_OPSETS.default})`,
        ).argParser(parseInteger),
      )
      .option('--force', "replace netspec's earlier export at that path"),
  ).action(async (spec: string, options: ExportCommandOptions) =>
    setExit(await exportCommand(spec, options, io)),
  );
}

/** Runs `netspec export`; returns the exit code. */
async function exportCommand(spec: string, options: ExportCommandOptions, io: CliIo): Promise<number> {
  if (options.opset !== undefined) {
    if (options.format !== 'onnx')
      throw new UserError(
        `--opset is an ONNX option: it needs --format onnx, not --format ${options.format}`,
      );
    const problem = opsetProblem(options.opset);
    if (problem) throw new UserError(`--opset ${options.opset}: ${problem}; nothing was written`);
  }
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const format = options.format;
  if (isFileFormat(format)) return exportFileCommand(ir, spec, format, options, io);
  const folder: OutputFolderOptions = { kind: 'export', force: options.force === true, option: '-o' };
  // Checked before any work, so that a refused folder costs nothing.
  try {
    checkOutputFolder(options.output, folder);
  } catch (e) {
    throw e instanceof FileError ? new UserError(e.message) : e;
  }
  const { weights, source } = await weightsFor(ir, spec, options);
  // tfjs loads only for commands that run a model, so `check` and the reports start fast.
  const { exportModel } = await import('../runtime/export/index.js');
  const exported = await exportModel(ir, {
    format,
    seed: options.seed,
    source,
    ...(weights ? { weights } : {}),
  });
  writeFolderAtomically(options.output, exported.files, folder);
  const names = [...exported.files.keys()];
  const shards = names.filter((f) => f.endsWith('.bin')).length;
  const files = names.map((f) =>
    f.endsWith('.bin')
      ? `${shards} weight shard${shards === 1 ? '' : 's'} (${mebibytes(exported.weightBytes)})`
      : f,
  );
  io.stdout(
    `wrote ${options.output}: '${ir.name}' as ${format}, ${source} (${[...new Set(files)].join(', ')}); ` +
      `load it with ${LOADED_BY[format]}\n`,
  );
  return 0;
}

/** `--format onnx|safetensors`: one file at `-o`, checked before any work, written atomically. */
async function exportFileCommand(
  ir: IrNetwork,
  spec: string,
  format: FileFormat,
  options: ExportCommandOptions,
  io: CliIo,
): Promise<number> {
  const policy = outputFilePolicy(options.output, format, options.force === true);
  if (format === 'onnx') {
    const { trainable, buffers } = countParams(ir);
    const bytes = 4 * (trainable + buffers);
    if (bytes > ONNX_MAX_BYTES - 2 ** 20)
      throw new UserError(
        `'${ir.name}' has ${mebibytes(bytes)} of weights; an ONNX file holds at most 2 GiB (protobuf's limit) and ` +
          'netspec does not write external data: nothing was written',
      );
  }
  const { weights, source, steps } = await weightsFor(ir, spec, options);
  const { exportFile } = await import('../runtime/export/file.js');
  const exported = await exportFile(ir, {
    format,
    seed: options.seed,
    source,
    spec,
    netspecVersion: netspecVersion(),
    ...(steps === undefined ? {} : { steps }),
    ...(weights ? { weights } : {}),
    ...(options.opset === undefined ? {} : { opset: options.opset }),
  });
  writeOutputFileOrFail(options.output, exported.bytes, policy);
  const as = format === 'onnx' ? `ONNX (opset ${options.opset ?? ONNX_OPSETS.default})` : 'safetensors';
  const size = exported.bytes.length;
  io.stdout(
    `wrote ${options.output}: '${ir.name}' as ${as}, ${source} (${mebibytes(size)}, ${(size / 1e6).toFixed(1)} MB); ` +
      `load it with ${LOADED_BY[format]}\n`,
  );
  return 0;
}

/** Runs `netspec export-weights` (a checkpoint's weights as safetensors, `export --format safetensors`). */
export async function exportWeightsCommand(
  spec: string,
  options: ExportWeightsOptions,
  io: CliIo,
): Promise<number> {
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const policy = outputFilePolicy(options.output, 'safetensors', options.force === true);
  const { weights, steps } = await weightsFor(ir, spec, options);
  const { exportFile } = await import('../runtime/export/file.js');
  const exported = await exportFile(ir, {
    format: 'safetensors',
    seed: 0,
    source: '',
    spec,
    netspecVersion: netspecVersion(),
    ...(steps === undefined ? {} : { steps }),
    ...(weights ? { weights } : {}),
  });
  writeOutputFileOrFail(options.output, exported.bytes, policy);
  io.stdout(
    `wrote ${options.output}: ${exported.tensors ?? 0} tensors of '${ir.name}' (PyTorch layout and names)\n`,
  );
  return 0;
}

/**
 * The weights to export: the checkpoint `--checkpoint` names (a checkpoint folder, or a run folder's best), checked
 * against the network, with the optimizer steps behind it; or none, for the initial weights of `--seed`.
 */
async function weightsFor(
  ir: IrNetwork,
  spec: string,
  options: { readonly checkpoint?: string; readonly seed?: number },
): Promise<{ weights?: StateDict; source: string; steps?: number }> {
  if (options.checkpoint === undefined) return { source: `initial weights, seed ${options.seed ?? 0}` };
  const [{ checkCheckpointFits, loadCheckpoint }, { resolveCheckpointFolder }] = await Promise.all([
    import('../runtime/checkpoint/index.js'),
    import('../runtime/session/checkpoint-folder.js'),
  ]);
  const checkpoint = loadCheckpoint(resolveCheckpointFolder(options.checkpoint));
  checkCheckpointFits(checkpoint, ir, spec);
  return {
    weights: checkpoint.weights,
    source: `checkpoint ${options.checkpoint}`,
    steps: checkpoint.meta.optimizer?.iterations ?? 0,
  };
}

/**
 * The write policy of a one-file export (checkOutputFile: a new file, or with --force one netspec wrote, recognised
 * by its content; never a link, device or FIFO), checked before any work so that a refused path costs nothing.
 */
function outputFilePolicy(file: string, format: FileFormat, force: boolean): OutputFileOptions {
  const policy: OutputFileOptions = { force, ...FILE_POLICY[format], option: '-o' };
  checkOutputFile(file, policy);
  return policy;
}

/** netspec's version, from its package.json (two folders up from both src/cli and dist/cli). */
function netspecVersion(): string {
  const text = fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

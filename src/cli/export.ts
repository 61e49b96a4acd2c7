/**
 * `netspec export <spec> [--checkpoint DIR] --format tfjs-graph|tfjs-layers -o DIR`: the network with its weights (a
 * checkpoint's, or the initial weights of `--seed`) as a TensorFlow.js model folder.
 */
import { Option, type Command } from 'commander';
import type { StateDict } from '../compiler/targets/tfjs/state-dict.js';
import { FileError } from '../runtime/errors.js';
import { EXPORT_FORMATS, type ExportFormat } from '../runtime/export/formats.js';
import { checkOutputFolder, type OutputFolderOptions } from '../runtime/files/output-folder.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { parseInteger, withSpecOptions } from './options.js';
import { UserError, writeFolderAtomically, type CliIo } from './io.js';

interface ExportCommandOptions extends SpecOptions {
  readonly format: ExportFormat;
  readonly checkpoint?: string;
  readonly output: string;
  readonly seed: number;
  readonly force?: boolean;
}

/** What loads each format, for the command's last line. */
const LOADED_BY: { readonly [F in ExportFormat]: string } = {
  'tfjs-graph': 'tf.loadGraphModel',
  'tfjs-layers': 'tf.loadLayersModel after registerLayers(tf) from layers.js',
};

/** Registers the command; `setExit` records the exit code. */
export function registerExport(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('export')
      .description(
        'write the network with its weights as a TensorFlow.js model folder (model.json + weights)',
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .addOption(
        new Option(
          '--format <format>',
          'tfjs-graph: a GraphModel for inference on any tfjs backend; tfjs-layers: a LayersModel (with layers.js, ' +
            "netspec's custom layers) that an app can also fine-tune",
        )
          .choices(EXPORT_FORMATS)
          .makeOptionMandatory(),
      )
      .option(
        '--checkpoint <dir>',
        'a checkpoint folder (runs/NAME/checkpoints/best); default: initial weights',
      )
      .requiredOption('-o, --output <dir>', 'the folder to write')
      .addOption(
        new Option('--seed <n>', 'seed of the initial weights (without --checkpoint)')
          .argParser(parseInteger)
          .default(0),
      )
      .option('--force', "replace netspec's earlier export in that folder"),
  ).action(async (spec: string, options: ExportCommandOptions) =>
    setExit(await exportCommand(spec, options, io)),
  );
}

/** Runs `netspec export`; returns the exit code. */
async function exportCommand(spec: string, options: ExportCommandOptions, io: CliIo): Promise<number> {
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const folder: OutputFolderOptions = { kind: 'export', force: options.force === true, option: '-o' };
  // Checked before any work, so that a refused folder costs nothing.
  try {
    checkOutputFolder(options.output, folder);
  } catch (e) {
    throw e instanceof FileError ? new UserError(e.message) : e;
  }
  let weights: StateDict | undefined;
  let source = `initial weights, seed ${options.seed}`;
  if (options.checkpoint !== undefined) {
    const { checkCheckpointFits, loadCheckpoint } = await import('../runtime/checkpoint/index.js');
    const checkpoint = loadCheckpoint(options.checkpoint);
    checkCheckpointFits(checkpoint, ir, spec);
    weights = checkpoint.weights;
    source = `checkpoint ${options.checkpoint}`;
  }
  // tfjs loads only for commands that run a model, so `check` and the reports start fast.
  const { exportModel } = await import('../runtime/export/index.js');
  const exported = await exportModel(ir, {
    format: options.format,
    seed: options.seed,
    source,
    ...(weights ? { weights } : {}),
  });
  writeFolderAtomically(options.output, exported.files, folder);
  const names = [...exported.files.keys()];
  const shards = names.filter((f) => f.endsWith('.bin')).length;
  const files = names.map((f) =>
    f.endsWith('.bin')
      ? `${shards} weight shard${shards === 1 ? '' : 's'} (${(exported.weightBytes / 2 ** 20).toFixed(1)} MiB)`
      : f,
  );
  io.stdout(
    `wrote ${options.output}: '${ir.name}' as ${options.format}, ${source} (${[...new Set(files)].join(', ')}); ` +
      `load it with ${LOADED_BY[options.format]}\n`,
  );
  return 0;
}

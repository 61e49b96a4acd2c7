/**
 * `netspec draw <spec> [-o FILE.svg|FILE.png|FILE.dot|-] [--detail modules|blocks|layers] [--modules a,b]`: a
 * picture of the network laid out by Graphviz (src/reports/draw/). Graphviz and resvg load only in the action.
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { IrNetwork } from '../compiler/ir.js';
import type { DrawDetail } from '../reports/draw/dot.js';
import { DRAWING_HEAD_BYTES, isNetspecDrawing } from '../reports/draw/marker.js';
import type { DrawFormat } from '../reports/draw/render.js';
import { readRegularFileRange } from '../runtime/files/read.js';
import { checkOutputFile, type OutputFileOptions } from '../runtime/files/write.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { UserError, writeOutputFileOrFail, type CliIo } from './io.js';
import { withSpecOptions } from './options.js';

/** The details, written out so that registering the command loads nothing (a test holds them equal to dot.ts's). */
export const DRAW_DETAIL_CHOICES: readonly DrawDetail[] = ['modules', 'blocks', 'layers'];

/** The file endings and their formats (a test holds them equal to render.ts's DRAW_FORMATS). */
export const DRAW_FORMAT_CHOICES: readonly DrawFormat[] = ['svg', 'png', 'dot'];

interface DrawCommandOptions extends SpecOptions {
  readonly output?: string;
  readonly detail: DrawDetail;
  readonly modules?: string;
  readonly force?: boolean;
}

/** Registers the command; `setExit` records the exit code. */
export function registerDraw(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('draw')
      .description(
        'a picture of the network (Graphviz): modules, blocks and layers with tensor shapes and trainable ' +
          'parameters, shortcuts dashed; SVG, PNG or DOT',
      )
      .argument('<spec>', 'spec file (.yaml or .net)')
      .option(
        '-o, --output <file>',
        'the picture, by its ending: .svg, .png or .dot (a new file, or with --force one netspec drew); ' +
          '- prints the DOT (default: <network name>.svg in the current folder)',
      )
      .addOption(
        new Option('--detail <level>', 'one box per module, per block instance, or per layer')
          .choices(DRAW_DETAIL_CHOICES)
          .default('blocks'),
      )
      .option('--modules <names>', 'draw only these modules (comma-separated, e.g. stem,stage2)')
      .option('--force', 'replace a picture netspec drew earlier'),
  ).action(async (spec: string, options: DrawCommandOptions) =>
    setExit(await drawCommand(spec, options, io)),
  );
}

/** True when `file` is a picture netspec drew (see src/reports/draw/marker.ts). */
export function isOwnDrawing(file: string): boolean {
  try {
    return isNetspecDrawing(readRegularFileRange(file, 'picture', 0, DRAWING_HEAD_BYTES));
  } catch {
    return false;
  }
}

/** The format `file` asks for by its ending, or a UserError naming the endings. */
function formatOf(file: string): DrawFormat {
  const ending = path.extname(file).slice(1).toLowerCase();
  const format = DRAW_FORMAT_CHOICES.find((f) => f === ending);
  if (format) return format;
  throw new UserError(
    `-o ${file}: name a .svg, .png or .dot file (the ending says which), or - to print the DOT`,
  );
}

/** The write policy of the picture (a new file, or with --force one netspec drew), checked before any work. */
function outputPolicy(file: string, options: DrawCommandOptions): OutputFileOptions {
  formatOf(file);
  const policy: OutputFileOptions = {
    force: options.force === true,
    isOwn: isOwnDrawing,
    what: 'picture',
    option: '-o',
  };
  checkOutputFile(file, policy);
  return policy;
}

/** The modules `--modules` names, in the network's order, or undefined for all; unknown names are a UserError. */
function selectedModules(ir: IrNetwork, list: string | undefined): string[] | undefined {
  if (list === undefined) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !ir.modules.includes(n));
  if (names.length === 0 || unknown.length)
    throw new UserError(
      `--modules: ${names.length === 0 ? 'no module named' : `no module ${unknown.map((n) => `'${n}'`).join(', ')} in ${ir.name}`} ` +
        `(its modules: ${ir.modules.join(', ')})`,
    );
  return ir.modules.filter((m) => names.includes(m));
}

/** `<network name>.svg`, with characters other than letters, digits, `.`, `_` and `-` as `_`. */
export function defaultDrawingFile(ir: IrNetwork): string {
  return `${ir.name.replace(/[^A-Za-z0-9._-]/g, '_')}.svg`;
}

/** Runs `netspec draw`; returns the exit code (user errors are thrown as UserError or FileError). */
export async function drawCommand(spec: string, options: DrawCommandOptions, io: CliIo): Promise<number> {
  if (options.output !== undefined && options.output !== '-') outputPolicy(options.output, options);
  const ir = compileOrReport(spec, options, io);
  if (!ir) return 1;
  const modules = selectedModules(ir, options.modules);
  const file = options.output ?? defaultDrawingFile(ir);
  const toStdout = file === '-';
  const policy = toStdout ? undefined : outputPolicy(file, options);
  const format = toStdout ? 'dot' : formatOf(file);
  const drawOptions = { detail: options.detail, ...(modules ? { modules } : {}) };
  // DOT needs no layout: Graphviz and resvg load only for SVG and PNG.
  const picture =
    format === 'dot'
      ? (await import('../reports/draw/dot.js')).networkDot(ir, drawOptions)
      : await (await import('../reports/draw/render.js')).drawNetwork(ir, { ...drawOptions, format });
  if (!policy) {
    io.stdout(picture as string);
    return 0;
  }
  writeOutputFileOrFail(file, picture, policy);
  const part = modules ? `, modules ${modules.join(', ')}` : '';
  io.stdout(`wrote ${file}: ${ir.name} at ${options.detail} detail${part} (${format.toUpperCase()})\n`);
  return 0;
}

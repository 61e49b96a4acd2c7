/** `netspec compile <spec> [--target tfjs|pytorch] [-o DIR]`: generated model code (and the IR) into a folder. */
import { Option, type Command } from 'commander';
import { serializeIr } from '../compiler/ir.js';
import { compileOrReport, withSpecOptions, type SpecOptions } from './common.js';
import { writeFolderAtomically, type CliIo } from './io.js';

interface CompileCommandOptions extends SpecOptions {
  readonly target: 'tfjs' | 'pytorch';
  readonly out?: string;
  readonly force?: boolean;
}

/** Registers the command; `setExit` records the exit code. */
export function registerCompile(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('compile')
      .description('generate model code from a spec (TypeScript for tfjs, or PyTorch)')
      .argument('<spec>', 'spec file (.yaml or .net)')
      .addOption(new Option('--target <target>', 'code to generate').choices(['tfjs', 'pytorch']).default('tfjs'))
      .option('-o, --out <dir>', 'output folder (default: generated/<network name>)')
      .option('--force', 'replace a non-empty output folder'),
  ).action(async (spec: string, options: CompileCommandOptions) => {
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    const files =
      options.target === 'pytorch'
        ? (await import('../compiler/targets/pytorch/index.js')).generatePyTorch(ir)
        : (await import('../compiler/targets/typescript/index.js')).generateTypeScript(ir);
    const all = new Map<string, string>([...files, ['ir.json', serializeIr(ir)]]);
    const out = options.out ?? `generated/${ir.name}`;
    writeFolderAtomically(out, all, options.force === true);
    io.stdout(`wrote ${[...all.keys()].map((f) => `${out}/${f}`).join(', ')}\n`);
  });
}

/** `netspec compile <spec> [--target tfjs|pytorch] [-o DIR]`: generated model code (and the IR) into a folder. */
import { Option, type Command } from 'commander';
import { CODE_TARGETS, generateTarget, type CodeTarget } from '../compiler/targets/index.js';
import { compileOrReport, withSpecOptions, type SpecOptions } from './common.js';
import { writeFolderAtomically, type CliIo } from './io.js';

interface CompileCommandOptions extends SpecOptions {
  readonly target: CodeTarget;
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
      .addOption(new Option('--target <target>', 'code to generate').choices(CODE_TARGETS).default('tfjs'))
      .option('-o, --out <dir>', 'output folder (default: generated/<network name>/<target>)')
      .option('--force', 'replace a non-empty output folder'),
  ).action((spec: string, options: CompileCommandOptions) => {
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    const all = generateTarget(ir, options.target);
    const out = options.out ?? `generated/${ir.name}/${options.target}`;
    writeFolderAtomically(out, all, options.force === true);
    io.stdout(`wrote ${[...all.keys()].map((f) => `${out}/${f}`).join(', ')}\n`);
  });
}

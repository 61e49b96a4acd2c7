/** `netspec summary` and `netspec stat`: the layer table and the FLOPs/memory table of a spec. */
import { Option, type Command } from 'commander';
import { compileOrReport, type SpecOptions } from './common.js';
import { withSpecOptions } from './options.js';
import type { CliIo } from './io.js';

interface FormatOptions extends SpecOptions {
  readonly format: string;
  readonly json?: boolean;
}

/** Registers both commands; `setExit` records the exit code. */
export function registerReports(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('summary')
      .description('layer table: output shapes and parameter counts')
      .argument('<spec>', 'spec file (.yaml or .net)')
      .addOption(
        new Option('--format <format>', 'table conventions')
          .choices(['torchsummary', 'keras', 'json'])
          .default('torchsummary'),
      )
      .option('--json', 'same as --format json'),
  ).action(async (spec: string, options: FormatOptions) => {
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    const { summary } = await import('../reports/summary.js');
    io.stdout(summary(ir, options.json ? 'json' : (options.format as 'torchsummary' | 'keras' | 'json')));
  });
  withSpecOptions(
    program
      .command('stat')
      .description('per-layer FLOPs, memory and parameters (torchstat conventions)')
      .argument('<spec>', 'spec file (.yaml or .net)')
      .addOption(
        new Option('--format <format>', 'table conventions')
          .choices(['torchstat', 'json'])
          .default('torchstat'),
      )
      .option('--json', 'same as --format json'),
  ).action(async (spec: string, options: FormatOptions) => {
    const ir = compileOrReport(spec, options, io);
    if (!ir) return setExit(1);
    const { stat } = await import('../reports/stat.js');
    io.stdout(stat(ir, options.json ? 'json' : (options.format as 'torchstat' | 'json')));
  });
}

/** `netspec check <spec>...`: validate only; prints one line per valid spec. */
import type { Command } from 'commander';
import { countParams } from '../compiler/ir.js';
import { compileOrReport, type SpecOptions } from './common.js';
import { withSpecOptions } from './options.js';
import type { CliIo } from './io.js';

/** Registers the command; `setExit` records the exit code. */
export function registerCheck(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withSpecOptions(
    program
      .command('check')
      .description('validate specs')
      .argument('<spec...>', 'spec files (.yaml or .net)'),
  ).action((specs: string[], options: SpecOptions) => {
    for (const spec of specs) {
      const ir = compileOrReport(spec, options, io);
      if (!ir) {
        setExit(1);
        continue;
      }
      const { trainable } = countParams(ir);
      io.stdout(
        `${spec}: ok (${ir.name}: ${ir.nodes.length} layers, ${trainable.toLocaleString('en-US')} trainable parameters, ` +
          `input [${ir.inputShape.join(', ')}] -> output [${ir.outputShape.join(', ')}])\n`,
      );
    }
  });
}

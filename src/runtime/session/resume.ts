/** What a resumed run is checked against: its checkpoint must be `last`, for the same network and options. */
import type { IrNetwork } from '../../compiler/ir.js';
import {
  describeConfigChange,
  describeIrChange,
  hashIr,
  type LoadedCheckpoint,
} from '../checkpoint/index.js';
import { CheckpointError, ResumeError } from '../errors.js';
import type { RunConfig } from '../train/config.js';

/** Checks that `last` is a `last` checkpoint of the network `ir` (compiled from `spec`). */
export function checkResumeNetwork(last: LoadedCheckpoint, ir: IrNetwork, spec: string): void {
  if (last.meta.kind !== 'last')
    throw new CheckpointError(
      `${last.dir} is a '${last.meta.kind}' checkpoint; --resume needs checkpoints/last`,
    );
  if (last.meta.irHash !== hashIr(ir)) {
    const changes = describeIrChange(last.ir, ir);
    throw new ResumeError(
      `${spec} no longer describes the network this run trained (${last.dir}):\n` +
        changes.map((c) => `  ${c}`).join('\n') +
        `\nrestore the spec (and --set values) to resume, or pass --force to start over`,
    );
  }
}

/** Checks that a resume of the run in `out` keeps the options it started with. */
export function checkResumeConfig(last: LoadedCheckpoint, config: RunConfig, out: string): void {
  const changes = describeConfigChange(last.meta.config, config);
  if (changes.length)
    throw new ResumeError(
      `the run in ${out} was started with other options:\n${changes.map((c) => `  ${c}`).join('\n')}\n` +
        `pass the same options (or leave them out) to resume, or --force to start over`,
    );
}

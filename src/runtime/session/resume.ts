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

/**
 * The settings a resume may change: `epochs` (to extend a run: more epochs than it has done; the schedule is
 * then the one of a run of the new length, continued at the current step), early stopping (a larger patience
 * continues a run that stopped early) and what is logged. Everything else changes the arithmetic of the steps
 * already done.
 */
function comparable(config: RunConfig): RunConfig {
  const {
    epochs: _epochs,
    earlyStopping: _es,
    logSteps: _log,
    logFormat: _format,
    ...rest
  } = config.training;
  return { ...config, training: rest as RunConfig['training'] };
}

/** Checks that a resume of the run in `out` keeps the options it started with (but for {@link comparable}'s). */
export function checkResumeConfig(last: LoadedCheckpoint, config: RunConfig, out: string): void {
  const progress = last.meta.progress;
  if (progress && config.training.epochs < progress.epoch + (progress.stepInEpoch > 0 ? 1 : 0))
    throw new ResumeError(
      `the run in ${out} has done ${progress.epoch} epoch${progress.epoch === 1 ? '' : 's'}` +
        `${progress.stepInEpoch > 0 ? ` and ${progress.stepInEpoch} steps of the next` : ''}; --epochs ${config.training.epochs} ` +
        `would end before that (give more epochs to extend it)`,
    );
  const changes = describeConfigChange(comparable(last.meta.config), comparable(config));
  if (changes.length)
    throw new ResumeError(
      `the run in ${out} was started with other options:\n${changes.map((c) => `  ${c}`).join('\n')}\n` +
        `pass the same options (or leave them out) to resume, or --force to start over`,
    );
}

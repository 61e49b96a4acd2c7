/**
 * Versioned run folders, as PyTorch Lightning's loggers keep them: `netspec run` without `--out` writes
 * `runs/<name>/version_<N>/` (the next free N) and points `runs/<name>/latest` (a relative symbolic link) at it,
 * so repeating a command never fails and never touches an earlier run. Also the weights `--init-from` reads from
 * a checkpoint or run folder.
 *
 * The parent `runs/<name>` is an ordinary folder: netspec creates it when missing and adds only `version_<N>`
 * folders and the `latest` link. It replaces `latest` only when `latest` is a link to a `version_<N>` in the same
 * folder; anything else there is the user's and stays as it is.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IrNetwork } from '../../compiler/ir.js';
import type { StateDict } from '../../compiler/targets/tfjs/index.js';
import { readMarker } from '../files/marker.js';
import { CheckpointError, RunFolderError } from '../errors.js';
import { loadCheckpoint, weightProblems } from './training-checkpoint.js';

/** The name of the link to the newest version. */
export const LATEST = 'latest';

const VERSION = /^version_(\d{1,9})$/;

/** The versions in `parent` (folders named version_<N>), sorted by N. */
export function versionsIn(parent: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  return names
    .map((n) => VERSION.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * The folder of the next run of a network: `parent/version_<N>` with N one more than the largest there (0 for the
 * first). Refuses a parent that is itself a run folder (the one-folder-per-network layout of an earlier netspec),
 * naming what to do, and a parent that is not a folder.
 */
export function nextVersionFolder(parent: string): string {
  const stat = fs.lstatSync(parent, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory())
    throw new RunFolderError(
      `${parent} is not a folder; netspec keeps the runs of a network in ${parent}/version_<N> (pass --out to choose another folder)`,
    );
  if (stat && (readMarker(parent)?.kind === 'run' || fs.existsSync(path.join(parent, 'metrics.json'))))
    throw new RunFolderError(
      `${parent} holds a run of an earlier netspec (one folder per network); runs are now ${parent}/version_<N>: ` +
        `move it aside (e.g. mv ${parent} ${parent}-old) or pass --out`,
    );
  const versions = versionsIn(parent);
  return path.join(parent, `version_${versions.length ? (versions.at(-1) ?? 0) + 1 : 0}`);
}

/** The folder `parent/latest` points at, for `--resume` without `--out`: a clear error when there is none. */
export function latestVersionFolder(parent: string): string {
  const link = path.join(parent, LATEST);
  const target = latestTarget(parent);
  if (target !== undefined) return path.join(parent, target);
  const versions = versionsIn(parent);
  if (versions.length) return path.join(parent, `version_${versions.at(-1) ?? 0}`);
  throw new RunFolderError(
    `nothing to resume: ${link} does not exist (no run of this network yet); pass --out`,
  );
}

/** The `version_<N>` that `parent/latest` links to, or undefined when it is not such a link. */
function latestTarget(parent: string): string | undefined {
  const link = path.join(parent, LATEST);
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return undefined;
    const target = fs.readlinkSync(link);
    return VERSION.test(target) ? target : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Points `parent/latest` at `dir` (a `version_<N>` folder in `parent`): a new relative link renamed over the old
 * one, so `latest` is always a whole link. Returns a note when `latest` is something else (a file or folder of
 * the user's, which stays), undefined otherwise.
 */
export function pointLatest(dir: string): string | undefined {
  const parent = path.dirname(dir);
  const name = path.basename(dir);
  if (!VERSION.test(name)) return undefined;
  const link = path.join(parent, LATEST);
  const stat = fs.lstatSync(link, { throwIfNoEntry: false });
  if (stat && !(stat.isSymbolicLink() && latestTarget(parent) !== undefined))
    return `${link} is not netspec's link to a version folder; left as it is`;
  const temporary = path.join(parent, `.${LATEST}.tmp-${process.pid}`);
  fs.rmSync(temporary, { force: true });
  fs.symlinkSync(name, temporary);
  fs.renameSync(temporary, link);
  return undefined;
}

/**
 * The weights of the checkpoint in `dir` for `--init-from` (the caller resolves a run folder to its best with
 * session/checkpoint-folder.ts, as predict does): verified, and matching the network's tensors by name and shape
 * (a fine-tuned network must keep the names; a new head needs a map file and a safetensors export); a mismatch is
 * an error listing the tensors.
 */
export function loadInitCheckpoint(
  dir: string,
  ir: IrNetwork,
  spec: string,
): { weights: StateDict; description: string } {
  const checkpoint = loadCheckpoint(dir);
  const problems = weightProblems(checkpoint.weights, ir);
  if (problems.length)
    throw new CheckpointError(
      `--init-from ${dir}: its weights do not fit ${spec}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  const best = checkpoint.meta.best;
  const what =
    checkpoint.meta.kind === 'best' && best
      ? ` (best model of ${checkpoint.meta.network}: epoch ${best.epoch}, dev accuracy ${best.score.toFixed(4)})`
      : ` (${checkpoint.meta.kind} checkpoint of ${checkpoint.meta.network})`;
  return { weights: checkpoint.weights as StateDict, description: `${dir}${what}` };
}

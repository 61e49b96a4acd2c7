/** What `--checkpoint DIR` names for predict and export-weights (no tfjs here, so export-weights starts fast). */
import fs from 'node:fs';
import path from 'node:path';
import { CheckpointError } from '../errors.js';

/**
 * The checkpoint folder `dir` names: itself, or for a run folder its checkpoints/best (else checkpoints/last), as
 * `evaluate --checkpoint` takes it. A run folder that has saved no checkpoint yet is a {@link CheckpointError}
 * saying so, and a folder holding neither one naming what it lacks; the rest is `loadCheckpoint`'s to name.
 */
export function resolveCheckpointFolder(dir: string): string {
  const has = (...parts: string[]): boolean => fs.existsSync(path.join(dir, ...parts));
  if (has('manifest.json')) return dir;
  for (const kind of ['best', 'last'])
    if (has('checkpoints', kind, 'manifest.json')) return path.join(dir, 'checkpoints', kind);
  if (has('checkpoints') || has('metrics.json') || has('.netspec.json'))
    throw new CheckpointError(
      `${dir} is a run folder without a saved checkpoint (no checkpoints/best or checkpoints/last): a run saves ` +
        'checkpoints/last at the end of each epoch and checkpoints/best when dev accuracy improves',
    );
  let folder = false;
  try {
    folder = fs.statSync(dir).isDirectory();
  } catch {
    // Not there: loadCheckpoint says so.
  }
  // A folder with a checkpoint's files but no manifest is a damaged or unfinished checkpoint: loadCheckpoint says so.
  if (folder && !has('checkpoint.json') && !has('weights.safetensors'))
    throw new CheckpointError(
      `${dir} is neither a checkpoint folder (it has no manifest.json) nor a run folder (it has no ` +
        'checkpoints/best or checkpoints/last)',
    );
  return dir;
}

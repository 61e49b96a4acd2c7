/**
 * A run folder: `train.log`, `metrics.json`, `checkpoints/last`, `checkpoints/best`, the curves, and the marker
 * `.netspec.json` that says netspec made it. Opening one decides whether an existing folder may be used (new,
 * resume, force), takes a lock so two runs never share it, and repairs what a crashed run left behind.
 *
 * `--force` replaces only a folder that is a netspec run folder and holds nothing else, and never deletes the
 * previous run before the new one has saved a checkpoint: the previous run is set aside (`.NAME.replaced-*`),
 * deleted by {@link RunFolder.commit} once the new run has saved, and put back by {@link RunFolder.close} if the
 * new run fails first. A kill in between is repaired by {@link recoverRunFolder} at the next start.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { folderEntries, listNames, MARKER, markerText, readMarker } from '../files/marker.js';
import { checkLock, readLock, ownerState, releaseLock, takeLock } from '../files/lock.js';
import { READ_LIMITS, readRegularText } from '../files/read.js';
import {
  appendToFile,
  ensureFolder,
  holdsCurrentFolder,
  lstatOrUndefined,
  syncFolder,
  writeFileAtomically,
} from '../files/write.js';
import { MANIFEST, recoverFolders } from './folder.js';
import { RunFolderError } from '../errors.js';
import { LockedError } from '../errors.js';

/** How to treat an existing folder: refuse a non-empty one, continue it, or replace it. */
export type RunFolderMode = 'new' | 'resume' | 'force';

/** An open run folder; call {@link RunFolder.close} when the run ends (it releases the lock). */
export interface RunFolder {
  readonly dir: string;
  readonly lastDir: string;
  readonly bestDir: string;
  readonly logFile: string;
  readonly metricsFile: string;
  /** What the crash repair did when opening (empty normally). */
  readonly recovered: readonly string[];
  /** True while a previous run replaced by `--force` is kept aside, waiting for this run's first checkpoint. */
  readonly replacing: boolean;
  /** Appends lines (each gets a newline) to train.log. */
  appendLog(lines: string): void;
  /** Writes metrics.json atomically. */
  writeMetrics(metrics: unknown): void;
  /** Writes another file of the run (curves) atomically. */
  writeFile(name: string, content: string | Uint8Array): void;
  /** This run has saved a checkpoint: the previous run it replaces (if any) is deleted now. */
  commit(): void;
  /**
   * Ends the run and releases the lock. With `failed` and a previous run still kept aside (no checkpoint was
   * saved), this run's folder is deleted and the previous run put back; returns a sentence saying so.
   */
  close(failed?: boolean): string | undefined;
}

const LOCK = '.lock';
/** The files and folders a run writes at the top of its folder. */
const RUN_FILES: ReadonlySet<string> = new Set([
  'train.log',
  'metrics.json',
  'checkpoints',
  'loss.svg',
  'loss.png',
  'accuracy.svg',
  'accuracy.png',
  'metrics.csv',
  'confusion.svg',
  'confusion.png',
  // A torch-engine run's trainer, settings and data (src/runtime/torch-engine/).
  'torch',
  LOCK,
  MARKER,
]);
/** Leftovers of interrupted writes at the top of a run folder: netspec's temporary files, and older netspec's. */
const LEFTOVER =
  /^(\.(metrics\.(json|csv)|(loss|accuracy|confusion)\.(svg|png)|\.netspec\.json)\.tmp-[0-9a-f]+|(metrics\.json|(loss|accuracy)\.(svg|png))\.\d+|\.lock\.[0-9a-f]+)$/;
/** What `checkpoints/` holds: best, last, the top-k `step-<N>`, and the temporary and set-aside folders of their writer. */
const CHECKPOINT_ENTRY = /^((best|last|step-\d+)|\.(best|last|step-\d+)\.(tmp|old)-[0-9a-f]+)$/;
const ASIDE_MARK = '.replaced-';

function visibleEntries(root: string): string[] {
  return folderEntries(root).filter((n) => n !== LOCK);
}

/** Entries of a run folder that a run did not write (`notes.txt`, `checkpoints/epoch90.pt`). */
function foreignEntries(root: string): string[] {
  const foreign = folderEntries(root).filter((n) => !RUN_FILES.has(n) && !LEFTOVER.test(n));
  const checkpoints = path.join(root, 'checkpoints');
  const stat = lstatOrUndefined(checkpoints);
  if (stat?.isDirectory())
    for (const n of folderEntries(checkpoints))
      if (!CHECKPOINT_ENTRY.test(n)) foreign.push(path.join('checkpoints', n));
  if (stat && !stat.isDirectory()) foreign.push('checkpoints');
  return foreign;
}

/** True when `file` is JSON with `"format": format` (read within a small limit). */
function hasFormat(file: string, format: string): boolean {
  try {
    const raw = JSON.parse(readRegularText(file, 'file', READ_LIMITS.metadata)) as {
      format?: unknown;
    } | null;
    return raw?.format === format;
  } catch {
    return false;
  }
}

/** True when `root` holds a checkpoint (its manifest at least) that a run saved. */
function hasCheckpoint(root: string): boolean {
  return ['last', 'best'].some((k) =>
    lstatOrUndefined(path.join(root, 'checkpoints', k, MANIFEST))?.isFile(),
  );
}

/**
 * True when `root` is a netspec run folder: it has the run marker, or (written before folders had markers) its
 * metrics.json or one of its checkpoints is netspec's.
 */
function isRunFolder(root: string): boolean {
  if (readMarker(root)?.kind === 'run') return true;
  if (hasFormat(path.join(root, 'metrics.json'), 'netspec-metrics')) return true;
  return ['last', 'best'].some((k) =>
    hasFormat(path.join(root, 'checkpoints', k, MANIFEST), 'netspec-checkpoint'),
  );
}

function asRunFolderError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LockedError) throw new RunFolderError(e.message);
    throw e;
  }
}

/**
 * Checks, without changing anything, that `dir` can be opened in `mode`: `new` refuses a non-empty folder,
 * `resume` needs the folder, `force` refuses anything but a netspec run folder holding only what a run writes,
 * the current folder or one above it, and a folder a live run uses. The path itself must not be a symbolic link
 * (except to resume the run it points at). Throws {@link RunFolderError}.
 */
export function checkRunFolder(dir: string, mode: RunFolderMode): void {
  if (dir.trim() === '') throw new RunFolderError('--out: the path is empty');
  const root = path.resolve(dir);
  const stat = lstatOrUndefined(root);
  if (stat?.isSymbolicLink() && mode !== 'resume')
    throw new RunFolderError(
      `${dir} is a symbolic link; netspec does not write through links (name the folder itself)`,
    );
  if (stat && !fs.statSync(root).isDirectory()) throw new RunFolderError(`${dir} exists and is not a folder`);
  const entries = stat ? visibleEntries(root) : [];
  if (mode === 'new' && entries.length > 0)
    throw new RunFolderError(
      `${dir} exists and is not empty; pass --resume to continue that run or --force to replace it`,
    );
  if (mode === 'resume' && !stat) throw new RunFolderError(`nothing to resume: ${dir} does not exist`);
  if (mode === 'resume' && !isRunFolder(root))
    throw new RunFolderError(
      `nothing to resume in ${dir}: it is not a netspec run folder (it holds ${listNames(entries) || 'nothing'})`,
    );
  if (mode === 'force' && entries.length > 0) {
    if (!isRunFolder(root))
      throw new RunFolderError(
        `${dir} is not a netspec run folder (it holds ${listNames(entries)}); not replacing it`,
      );
    const foreign = foreignEntries(root);
    if (foreign.length > 0)
      throw new RunFolderError(
        `${dir} is a netspec run folder but also holds ${listNames(foreign)}, which no run wrote; ` +
          `not replacing it (move those away first)`,
      );
    if (holdsCurrentFolder(root))
      throw new RunFolderError(`refusing to replace ${dir}: it is or contains the current folder`);
    asRunFolderError(() => checkLock(path.join(root, LOCK), dir));
  }
}

/** The folders beside `root` where a `--force` run set a previous run aside. */
function asideFolders(root: string): string[] {
  const base = path.basename(root);
  const prefix = `.${base}${ASIDE_MARK}`;
  return folderEntries(path.dirname(root))
    .filter((n) => n.startsWith(prefix) && /^[0-9a-f]+$/.test(n.slice(prefix.length)))
    .map((n) => path.join(path.dirname(root), n));
}

/** True when the lock in `folder` is held by a live process (or one on another host). */
function inUse(folder: string): boolean {
  const owner = readLock(path.join(folder, LOCK));
  return owner !== undefined && ownerState(owner) !== 'stale';
}

/**
 * Repairs what a killed `--force` run left beside `dir`: the previous run it set aside is deleted when the new
 * run saved a checkpoint, and put back otherwise. Returns one sentence per action. Leaves alone what a live
 * process is still doing.
 */
export function recoverRunFolder(dir: string): string[] {
  const root = path.resolve(dir);
  const actions: string[] = [];
  for (const aside of asideFolders(root)) {
    if (inUse(aside) || inUse(root)) continue;
    const name = path.basename(aside);
    if (lstatOrUndefined(root) && hasCheckpoint(root)) {
      fs.rmSync(aside, { recursive: true, force: true });
      actions.push(`removed ${name}, the run that --force replaced (the new run has saved a checkpoint)`);
      continue;
    }
    if (lstatOrUndefined(root)) {
      if (foreignEntries(root).length > 0 || !isRunFolder(root) || hasCheckpoint(root)) continue;
      fs.rmSync(root, { recursive: true, force: true });
    }
    fs.renameSync(aside, root);
    syncFolder(path.dirname(root));
    actions.push(
      `restored the previous run from ${name}: the --force run that replaced it stopped before saving`,
    );
  }
  return actions;
}

/** Removes leftovers of interrupted writes at the top of the run folder; returns what it removed. */
function removeLeftovers(root: string): string[] {
  const removed: string[] = [];
  for (const n of folderEntries(root))
    if (LEFTOVER.test(n)) {
      fs.rmSync(path.join(root, n), { force: true });
      removed.push(`removed the leftover temporary file ${n}`);
    }
  return removed;
}

/** Sets the run folder `root` aside for a `--force` run, locked by this process; returns where it went. */
function setAside(root: string, dir: string): string {
  const lock = path.join(root, LOCK);
  asRunFolderError(() => takeLock(lock, dir));
  const aside = path.join(
    path.dirname(root),
    `.${path.basename(root)}${ASIDE_MARK}${crypto.randomBytes(6).toString('hex')}`,
  );
  try {
    fs.renameSync(root, aside);
  } catch (e) {
    releaseLock(lock);
    throw e;
  }
  syncFolder(path.dirname(root));
  return aside;
}

/** Puts a set-aside run back at `root`, replacing what this run wrote there. */
function restore(aside: string, root: string): void {
  if (lstatOrUndefined(root)) fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(aside, root);
  syncFolder(path.dirname(root));
  releaseLock(path.join(root, LOCK));
}

/**
 * Opens (creating if needed) the run folder `dir` after {@link checkRunFolder}; `resume` also needs
 * `checkpoints/last`, and `force` sets the previous run aside (see the file comment). Throws
 * {@link RunFolderError}.
 */
export function openRunFolder(dir: string, mode: RunFolderMode): RunFolder {
  checkRunFolder(dir, mode);
  const root = path.resolve(dir);
  let aside: string | undefined;
  if (mode === 'force' && visibleEntries(root).length > 0) aside = setAside(root, dir);
  const lock = path.join(root, LOCK);
  try {
    ensureFolder(root);
    asRunFolderError(() => takeLock(lock, dir));
  } catch (e) {
    if (aside) restore(aside, root);
    throw e;
  }
  try {
    if (readMarker(root)?.kind !== 'run') writeFileAtomically(path.join(root, MARKER), markerText('run'));
    const recovered = [...removeLeftovers(root), ...recoverFolders(path.join(root, 'checkpoints'))];
    // Paths as the user spelled them, for messages.
    const lastDir = path.join(dir, 'checkpoints', 'last');
    if (mode === 'resume' && !fs.existsSync(lastDir))
      throw new RunFolderError(
        `nothing to resume in ${dir}: it has no checkpoints/last (a run writes it at the end of each epoch)`,
      );
    const logFile = path.join(root, 'train.log');
    const metricsFile = path.join(root, 'metrics.json');
    let closed = false;
    const folder: RunFolder = {
      dir,
      lastDir,
      bestDir: path.join(dir, 'checkpoints', 'best'),
      logFile,
      metricsFile,
      recovered,
      get replacing() {
        return aside !== undefined;
      },
      appendLog: (lines) => appendToFile(logFile, lines.endsWith('\n') ? lines : lines + '\n'),
      writeMetrics: (metrics) => writeFileAtomically(metricsFile, JSON.stringify(metrics, null, 2) + '\n'),
      writeFile: (name, content) => {
        const file = path.join(root, name);
        if (path.dirname(file) !== root || !RUN_FILES.has(name))
          throw new Error(`internal: '${name}' is not a file of a run folder`);
        writeFileAtomically(file, content);
      },
      commit: () => {
        if (!aside) return;
        fs.rmSync(aside, { recursive: true, force: true });
        aside = undefined;
      },
      close: (failed = false) => {
        if (closed) return undefined;
        closed = true;
        if (aside && failed) {
          const from = aside;
          aside = undefined;
          releaseLock(lock);
          restore(from, root);
          return `the previous run in ${dir} was kept: this run failed before saving a checkpoint`;
        }
        folder.commit();
        releaseLock(lock);
        return undefined;
      },
    };
    return folder;
  } catch (e) {
    releaseLock(lock);
    if (aside) restore(aside, root);
    throw e;
  }
}

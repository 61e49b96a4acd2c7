/**
 * A run folder: `train.log`, `metrics.json`, `checkpoints/last`, `checkpoints/best` (and the curves). Opening
 * one decides whether an existing folder may be used (new, resume, force), takes a lock so two runs never share
 * it, and repairs what a crashed run left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { recoverFolders } from './folder.js';

/** A run folder that cannot be used as asked; the message says why and what to do. */
export class RunFolderError extends Error {
  override readonly name = 'RunFolderError';
}

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
  /** Appends lines (each gets a newline) to train.log. */
  appendLog(lines: string): void;
  /** Writes metrics.json atomically. */
  writeMetrics(metrics: unknown): void;
  /** Writes another file of the run (curves) atomically. */
  writeFile(name: string, content: string | Uint8Array): void;
  close(): void;
}

const LOCK = '.lock';
/** Entries that mark a folder as a netspec run folder (so --force never wipes an unrelated folder). */
const RUN_MARKERS = ['train.log', 'metrics.json', 'checkpoints'];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(dir: string): string {
  const lock = path.join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(lock, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid))
        throw new RunFolderError(`${dir} is in use by another netspec run (process ${pid})`);
      // A stale lock: its process is gone.
      fs.rmSync(lock, { force: true });
    }
  }
  throw new RunFolderError(`cannot lock ${dir}`);
}

function visibleEntries(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n !== LOCK);
}

/**
 * Checks, without changing anything, that `dir` can be opened in `mode`: `new` refuses a non-empty folder,
 * `resume` needs the folder, `force` refuses a folder that does not look like a run folder (or holds the current
 * folder). Throws {@link RunFolderError}. Lets a command validate everything else before it touches the disk.
 */
export function checkRunFolder(dir: string, mode: RunFolderMode): void {
  const root = path.resolve(dir);
  if (fs.existsSync(root) && !fs.statSync(root).isDirectory())
    throw new RunFolderError(`${dir} exists and is not a folder`);
  const exists = fs.existsSync(root);
  const entries = exists ? visibleEntries(root) : [];
  if (mode === 'new' && entries.length > 0)
    throw new RunFolderError(
      `${dir} exists and is not empty; pass --resume to continue that run or --force to replace it`,
    );
  if (mode === 'resume' && !exists) throw new RunFolderError(`nothing to resume: ${dir} does not exist`);
  if (mode === 'force' && entries.length > 0) {
    if (!entries.some((e) => RUN_MARKERS.includes(e)))
      throw new RunFolderError(
        `${dir} does not look like a netspec run folder (no train.log, metrics.json or checkpoints); not replacing it`,
      );
    const cwd = process.cwd();
    if (cwd === root || cwd.startsWith(root + path.sep))
      throw new RunFolderError(`refusing to replace ${dir}: it contains the current folder`);
  }
}

/**
 * Opens (creating if needed) the run folder `dir` after {@link checkRunFolder}; `resume` also needs
 * `checkpoints/last`, and `force` empties the folder (under the lock). Throws {@link RunFolderError}.
 */
export function openRunFolder(dir: string, mode: RunFolderMode): RunFolder {
  checkRunFolder(dir, mode);
  const root = path.resolve(dir);
  fs.mkdirSync(root, { recursive: true });
  const lock = takeLock(root);
  try {
    if (mode === 'force')
      for (const e of visibleEntries(root)) fs.rmSync(path.join(root, e), { recursive: true, force: true });
    const recovered = recoverFolders(path.join(root, 'checkpoints'));
    // Paths as the user spelled them, for messages.
    const lastDir = path.join(dir, 'checkpoints', 'last');
    if (mode === 'resume' && !fs.existsSync(lastDir))
      throw new RunFolderError(
        `nothing to resume in ${dir}: it has no checkpoints/last (a run writes it at the end of each epoch)`,
      );
    const logFile = path.join(root, 'train.log');
    const metricsFile = path.join(root, 'metrics.json');
    let closed = false;
    return {
      dir,
      lastDir,
      bestDir: path.join(dir, 'checkpoints', 'best'),
      logFile,
      metricsFile,
      recovered,
      appendLog: (lines) => fs.appendFileSync(logFile, lines.endsWith('\n') ? lines : lines + '\n'),
      writeMetrics: (metrics) => writeFileAtomic.sync(metricsFile, JSON.stringify(metrics, null, 2) + '\n'),
      writeFile: (name, content) => {
        const file = path.join(root, name);
        if (path.dirname(file) !== root)
          throw new Error(`internal: run file name '${name}' leaves the run folder`);
        writeFileAtomic.sync(file, typeof content === 'string' ? content : Buffer.from(content));
      },
      close: () => {
        if (closed) return;
        closed = true;
        fs.rmSync(lock, { force: true });
      },
    };
  } catch (e) {
    fs.rmSync(lock, { force: true });
    throw e;
  }
}

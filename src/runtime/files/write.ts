/**
 * Writing where the user points netspec: folders are created one level at a time (never by a recursive mkdir
 * that can loop on /proc), files are written to a temporary sibling and renamed into place (so a reader sees the
 * old file or the new one), and nothing is written through a symbolic link or onto a device, FIFO or socket.
 * What may be replaced at all is decided by {@link checkOutputFile} and the folder markers (`marker.ts`).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describeErrno, describeFileType } from './read.js';
import { FileError } from '../errors.js';

/** The deepest folder chain {@link ensureFolder} creates or walks; real paths have a few dozen levels. */
const MAX_PATH_DEPTH = 256;

/** `fs.lstatSync`, or undefined when nothing is at `p`. */
export function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Creates `dir` and any missing folders above it, one level at a time, so that a path the kernel refuses
 * (`/proc/self/x`) is an error at once instead of the endless retry of `mkdirSync(..., {recursive: true})`.
 * A part of the path that exists must be a folder (or a link to one). Throws the system call's error.
 */
export function ensureFolder(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw e;
    }
    if (stat) {
      if (!stat.isDirectory()) {
        const e: NodeJS.ErrnoException = new Error(`ENOTDIR: not a directory, mkdir '${at}'`);
        e.code = 'ENOTDIR';
        e.syscall = 'mkdir';
        e.path = at;
        throw e;
      }
      break;
    }
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at || missing.length > MAX_PATH_DEPTH) break;
    at = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      fs.mkdirSync(folder);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(folder).isDirectory()) throw e;
    }
  }
}

/** The real path of `p` (symbolic links resolved) even when its last parts do not exist yet. */
export function realPathOf(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(at), ...rest.reverse());
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.resolve(p);
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

/** True when `dir` is the current folder or a folder above it, comparing real paths (links resolved on both sides). */
export function holdsCurrentFolder(dir: string): boolean {
  const root = realPathOf(dir);
  const cwd = realPathOf(process.cwd());
  return cwd === root || cwd.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function randomSuffix(): string {
  return crypto.randomBytes(6).toString('hex');
}

/** Writes all of `bytes` to `fd`. */
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) offset += fs.writeSync(fd, bytes, offset, bytes.byteLength - offset);
}

/** fsyncs a folder so that a rename in it survives a power loss; file systems that cannot are skipped. */
export function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Writes `content` as `file`, atomically: into a new temporary sibling (`.NAME.tmp-*`, created exclusively),
 * fsynced, then renamed over `file`. A symbolic link at `file` is replaced as a link (its target is never
 * written); a folder, device, FIFO or socket there is refused. On failure the temporary file is removed and
 * `file` is as it was. The caller decides whether `file` may be replaced at all.
 */
export function writeFileAtomically(file: string, content: string | Uint8Array): void {
  const target = path.resolve(file);
  const existing = lstatOrUndefined(target);
  if (existing && !existing.isFile() && !existing.isSymbolicLink())
    throw new FileError(
      `cannot write ${file}: it is ${describeFileType(existing)}; netspec writes only regular files`,
      file,
    );
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.tmp-${randomSuffix()}`);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
  try {
    try {
      writeAll(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  syncFolder(dir);
}

/** Appends `text` to `file` (created if missing), refusing to follow a symbolic link or write to a non-regular file. */
export function appendToFile(file: string, text: string): void {
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY |
      fs.constants.O_APPEND |
      fs.constants.O_CREAT |
      fs.constants.O_NOFOLLOW |
      fs.constants.O_NONBLOCK,
    0o644,
  );
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile())
      throw new FileError(
        `cannot write ${file}: it is ${describeFileType(stat)}; netspec writes only regular files`,
        file,
      );
    writeAll(fd, Buffer.from(text, 'utf8'));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What is at the output path `p` (undefined: nothing), refusing an empty path and a symbolic link; `option` names
 * the option that gave the path and `what` whether a file or a folder is meant, for messages. Throws
 * {@link FileError}.
 */
export function statOutputPath(p: string, option: string, what: 'file' | 'folder'): fs.Stats | undefined {
  if (p.trim() === '') throw new FileError(`${option}: the path is empty`, p);
  let stat: fs.Stats | undefined;
  try {
    stat = lstatOrUndefined(p);
  } catch (e) {
    throw new FileError(`cannot write ${p}: ${describeErrno(e)}`, p);
  }
  if (stat?.isSymbolicLink())
    throw new FileError(
      `${p} is a symbolic link; netspec does not write through links (name the ${what} itself)`,
      p,
    );
  return stat;
}

/** Options of {@link checkOutputFile}. */
export interface OutputFileOptions {
  /** Replace an existing file (only one that {@link OutputFileOptions.isOwn} recognises). */
  readonly force: boolean;
  /** True when the existing regular file at the path is one netspec wrote (so `force` may replace it). */
  readonly isOwn: (file: string) => boolean;
  /** The file's role in messages (`weights file`, `ONNX model`), after `a` or `an` as its first letter wants. */
  readonly what: string;
  /** The option that named the path, for messages (`-o`, `--output`). */
  readonly option: string;
}

/**
 * Checks, changing nothing, that `file` may be written: the path is not empty, nothing is there (its folder is
 * created when writing), or a regular file netspec wrote is there and `force` is given. Never a symbolic link,
 * a folder, a device, a FIFO or a socket; never a file netspec did not write, even with `force`. Throws
 * {@link FileError}.
 */
export function checkOutputFile(file: string, options: OutputFileOptions): void {
  const stat = statOutputPath(file, options.option, 'file');
  if (!stat) return;
  if (!stat.isFile())
    throw new FileError(`${file} is ${describeFileType(stat)}; netspec writes only regular files`, file);
  const what = `${/^[aeio]/i.test(options.what) ? 'an' : 'a'} ${options.what}`;
  if (!options.isOwn(file))
    throw new FileError(
      `${file} exists and is not ${what} netspec wrote; not replacing it (choose another path, or remove it yourself)`,
      file,
    );
  if (!options.force)
    throw new FileError(`${file} exists (${what} netspec wrote); pass --force to replace it`, file);
}

/** Checks `file` with {@link checkOutputFile}, creates its folder, and writes it atomically. */
export function writeOutputFile(
  file: string,
  content: string | Uint8Array,
  options: OutputFileOptions,
): void {
  checkOutputFile(file, options);
  ensureFolder(path.dirname(path.resolve(file)));
  writeFileAtomically(file, content);
}

/**
 * Reading the user's files: only regular files, never more than a stated limit, and never by waiting on a FIFO or
 * reading a device without end. Every input netspec reads (specs, data, maps, weights, checkpoints) comes through
 * here, so a spec that is a symlink to `/dev/zero`, a FIFO named like an IDX file or a 3 GiB "checkpoint" ends
 * with a message instead of a hang, an abort or `ERR_FS_FILE_TOO_LARGE`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { FileError } from '../errors.js';

/** The system error code of `e` (`ENOENT`), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * The most bytes netspec reads from one file of each kind. Specs and maps are text people write; JSON data and
 * IDX files are data sets (a JSON text beyond 512 MiB is beyond what V8 holds as one string); tensors are
 * safetensors files, up to Node's largest buffer (4 GiB, a network of a billion float32 parameters).
 */
export const READ_LIMITS = {
  spec: 4 * MiB,
  map: 1 * MiB,
  metadata: 64 * MiB,
  json: 512 * MiB,
  idx: 1 * GiB,
  tensors: 4 * GiB - 1,
} as const;

/** Bytes as people read them, in binary units: `512 B`, `4 MiB`, `1.5 GiB`. */
export function formatSize(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`;
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const)
    if (bytes >= size) {
      const v = bytes / size;
      return `${Number.isInteger(v) ? v : Number(v.toPrecision(3))} ${unit}`;
    }
  return `${bytes} B`;
}

/** What a non-regular file is, in words (`a FIFO`, `a character device`, `a folder`). */
export function describeFileType(stat: fs.Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EIO: 'input/output error',
  ENXIO: 'no such device',
};

/** Why a file-system call on the user's path failed, in words (`no such file`, `permission denied`). */
export function describeErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return REASONS[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}

function cannotRead(what: string, file: string, reason: string, code?: string): FileError {
  return new FileError(`cannot read ${what} ${file}: ${reason}`, file, code, reason);
}

/** Opens `file` for reading without blocking and checks it is a regular file of at most `limit` bytes. */
function openRegular(file: string, what: string, limit: number): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    throw cannotRead(what, file, describeErrno(e), errnoCode(e));
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw cannotRead(what, file, `it is ${describeFileType(stat)}, not a regular file`);
    if (stat.size > limit)
      throw cannotRead(
        what,
        file,
        `it is ${formatSize(stat.size)} (${stat.size.toLocaleString('en-US')} bytes); ` +
          `netspec reads at most ${formatSize(limit)} from one ${what}`,
      );
    return { fd, size: stat.size };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads up to `length` bytes at `position` into `buffer` at `offset`, as a FileError on failure. */
function readAt(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
  what: string,
  file: string,
): number {
  try {
    return fs.readSync(fd, buffer, offset, length, position);
  } catch (e) {
    throw cannotRead(what, file, describeErrno(e), errnoCode(e));
  }
}

/**
 * The SHA-256 (lowercase hex) of the regular file `file` of at most `limit` bytes, read in 16 MiB chunks, so that
 * a large file is checked in bounded memory before anyone holds it whole. Throws {@link FileError}.
 */
export function hashRegularFile(file: string, what: string, limit: number): string {
  const { fd, size } = openRegular(file, what, limit);
  try {
    const hash = crypto.createHash('sha256');
    const chunk = Buffer.allocUnsafe(Math.min(size, 16 * MiB));
    for (let position = 0; position < size;) {
      const n = readAt(fd, chunk, 0, Math.min(chunk.length, size - position), position, what, file);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      position += n;
    }
    return hash.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads `file` whole, checking first (on the open file, so nothing can swap it in between) that it is a regular
 * file of at most `limit` bytes. `what` names the file's role in messages (`spec`, `IDX file`, `weights file`).
 * Opening never blocks: a FIFO is opened non-blocking and then refused. Throws {@link FileError}.
 */
export function readRegularFile(file: string, what: string, limit: number): Buffer {
  const { fd, size } = openRegular(file, what, limit);
  try {
    const bytes = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const n = readAt(fd, bytes, offset, Math.min(size - offset, GiB), offset, what, file);
      if (n === 0) break; // the file shrank while being read: what is there is what it holds now
      offset += n;
    }
    return offset === size ? bytes : bytes.subarray(0, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first `length` bytes of the regular file `file` at `position` (fewer at its end), without reading the rest:
 * for recognising a file by its header. Throws {@link FileError}.
 */
export function readRegularFileRange(file: string, what: string, position: number, length: number): Buffer {
  const { fd, size } = openRegular(file, what, Number.MAX_SAFE_INTEGER);
  try {
    const bytes = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
    let offset = 0;
    while (offset < bytes.length) {
      const n = readAt(fd, bytes, offset, bytes.length - offset, position + offset, what, file);
      if (n === 0) break;
      offset += n;
    }
    return bytes.subarray(0, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link readRegularFile} as UTF-8 text. */
export function readRegularText(file: string, what: string, limit: number): string {
  return readRegularFile(file, what, limit).toString('utf8');
}

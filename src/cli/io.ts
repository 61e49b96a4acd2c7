/** The CLI's contact with the outside world: streams, the spec host, and all-or-nothing output folders. */
import fs from 'node:fs';
import path from 'node:path';
import type { SpecHost } from '../compiler/index.js';
import { replaceFolderAtomic } from '../runtime/checkpoint/folder.js';

/** Where the CLI writes; tests pass buffers, the launcher passes the process streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Writes to the process's stdout and stderr. */
export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** Reads spec files from disk; a missing or unreadable file is `undefined` (the compiler reports it). */
export const fileHost: SpecHost = {
  readFile(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
};

/** A user-facing failure: printed as `error: message` and exit code 1, never with a stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/**
 * Writes `files` into `dir` all at once (see replaceFolderAtomic: a failure leaves either the old folder or the
 * new one, never a mix). An existing non-empty `dir` is replaced only with `force`.
 */
export function writeFolderAtomically(
  dir: string,
  files: ReadonlyMap<string, string | Uint8Array>,
  force: boolean,
): void {
  const target = path.resolve(dir);
  const exists = fs.existsSync(target);
  if (exists && !fs.statSync(target).isDirectory()) throw new UserError(`${dir} exists and is not a folder`);
  if (exists && fs.readdirSync(target).length > 0 && !force)
    throw new UserError(`${dir} exists and is not empty; pass --force to replace it`);
  try {
    replaceFolderAtomic(target, files);
  } catch (e) {
    throw fileSystemError(e, dir) ?? e;
  }
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a part of the path is a file, not a folder',
  ENAMETOOLONG: 'the path is too long',
};

/**
 * A file-system failure while writing the user's output, as a UserError naming the path and what it means
 * (`consequence`; null for none); else undefined.
 */
export function fileSystemError(
  e: unknown,
  where: string,
  consequence: string | null = 'nothing was written',
): UserError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return new UserError(
    `cannot write ${where}: ${REASONS[code] ?? code}${consequence === null ? '' : `; ${consequence}`}`,
  );
}

/** Failures of the machine rather than of netspec: a full disk, missing permissions, a read-only file system. */
const ENVIRONMENT_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

/**
 * A file-system failure no command caught (`open /x/y: permission denied`), as a UserError, so that a full disk
 * or a missing permission never shows as an internal error with a stack trace; else undefined.
 */
export function environmentError(e: unknown): UserError | undefined {
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code !== 'string' || !ENVIRONMENT_CODES.has(err.code)) return undefined;
  const where = [err.syscall, err.path].filter((x) => typeof x === 'string').join(' ');
  return new UserError(`${where ? `${where}: ` : ''}${REASONS[err.code] ?? err.code}`);
}

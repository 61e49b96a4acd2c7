/**
 * The runtime's errors, all in one place: each carries a stable code (like a diagnostic's), a message ready for
 * the user that names the file, offset or option at fault, and whatever the caller may want as data. The CLI maps
 * them by code (exit 1, no stack trace); tests assert the code, not the class. No tfjs import: this module is
 * loaded by commands that never run a model.
 */

/** Every code a runtime error can carry, with what it means. */
export const RUNTIME_ERROR_CODES = {
  FILE: 'a file or folder cannot be read or written as asked (missing, not a regular file, too large, refused)',
  DATA_INVALID: 'a dataset file is malformed or does not fit the network',
  CHECKPOINT_INVALID: 'a checkpoint folder or weights file is missing, damaged or for another network',
  RUN_FOLDER: 'a run folder cannot be used as asked (holds other files, a finished run, the current folder)',
  LOCKED: 'another netspec process holds the folder',
  OPTIMIZER_STATE: "a checkpoint's optimizer state does not fit the optimizer or the network",
  TRAIN_INPUT: 'the training configuration cannot train this network (untrainable spec, bad option values)',
  BACKEND_UNAVAILABLE: 'the asked-for backend cannot run on this machine',
  RESUME_MISMATCH: 'a resumed run is given another network or other options than it started with',
  WRITE_FAILED:
    'the machine refused a write (permission, read-only or full disk, bad path); the message names it',
} as const;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERROR_CODES;

/** The base of every runtime error: each subclass fixes its code. */
export abstract class RuntimeError extends Error {
  abstract readonly code: RuntimeErrorCode;
}

/** True for any runtime error: its message is ready to print as it is. */
export function isRuntimeError(e: unknown): e is RuntimeError {
  return e instanceof RuntimeError && e.code in RUNTIME_ERROR_CODES;
}

/** A file that cannot be read or written as asked; the message names the file and why. */
export class FileError extends RuntimeError {
  override readonly name = 'FileError';
  readonly code = 'FILE';

  constructor(
    message: string,
    readonly file: string,
    /** The system error code behind it (`ENOENT`), when there was one. */
    readonly systemCode?: string,
    /** Why, without the file's name (`it is a FIFO (named pipe), not a regular file`), for callers that name it. */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** The data loaders' error: the message names the file and the byte offset. */
export class DataError extends RuntimeError {
  override readonly name = 'DataError';
  readonly code = 'DATA_INVALID';

  /** `file` and `offset` repeat what the message says, for callers that want them as data. */
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** A checkpoint folder or weights file that cannot be used; the message names the file. */
export class CheckpointError extends RuntimeError {
  override readonly name = 'CheckpointError';
  readonly code = 'CHECKPOINT_INVALID';
}

/** A run folder that cannot be used as asked. */
export class RunFolderError extends RuntimeError {
  override readonly name = 'RunFolderError';
  readonly code = 'RUN_FOLDER';
}

/** A lock held by a live process (or one that cannot be checked); the message says by whom and what to do. */
export class LockedError extends RuntimeError {
  override readonly name = 'LockedError';
  readonly code = 'LOCKED';
}

/** Optimizer state that does not fit the optimizer it is loaded into. */
export class OptimizerStateError extends RuntimeError {
  override readonly name = 'OptimizerStateError';
  readonly code = 'OPTIMIZER_STATE';
}

/** A training configuration or input the trainer cannot use. */
export class TrainInputError extends RuntimeError {
  override readonly name = 'TrainInputError';
  readonly code = 'TRAIN_INPUT';
}

/** A backend that cannot run here; the message says why and what to use instead. */
export class BackendError extends RuntimeError {
  override readonly name = 'BackendError';
  readonly code = 'BACKEND_UNAVAILABLE';
}

/** A resumed run whose spec or options no longer match its checkpoint; the message lists the differences. */
export class ResumeError extends RuntimeError {
  override readonly name = 'ResumeError';
  readonly code = 'RESUME_MISMATCH';
}

/** A write the file system refused; the message names the path, the reason and what it means for the output. */
export class WriteError extends RuntimeError {
  override readonly name = 'WriteError';
  readonly code = 'WRITE_FAILED';

  constructor(
    message: string,
    readonly file: string,
    readonly systemCode: string,
  ) {
    super(message);
  }
}

/** What the system error codes of failed writes mean, in words. */
export const WRITE_FAILURE_REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EEXIST: 'a part of the path is a file, not a folder',
  ENAMETOOLONG: 'the path is too long',
  ENOENT: 'a folder on the path does not exist or cannot hold files',
  ELOOP: 'too many levels of symbolic links',
};

/**
 * A file-system failure while writing `where`, as a WriteError naming the path, the reason and what it means
 * (`consequence`; null for none); undefined when `e` is not a system error.
 */
export function writeFailure(
  e: unknown,
  where: string,
  consequence: string | null = 'nothing was written',
): WriteError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  return new WriteError(
    `cannot write ${where}: ${WRITE_FAILURE_REASONS[code] ?? code}${consequence === null ? '' : `; ${consequence}`}`,
    where,
    code,
  );
}

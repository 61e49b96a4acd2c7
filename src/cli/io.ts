/** The CLI's contact with the outside world: streams, the spec host, and all-or-nothing output folders. */
import path from 'node:path';
import type { SpecHost } from '../compiler/index.js';
import { replaceFolderAtomic } from '../runtime/checkpoint/folder.js';
import {
  checkOutputFolder,
  withMarker,
  type OutputFolderOptions,
  type OutputFolderState,
} from '../runtime/files/output-folder.js';
import { formatSize, READ_LIMITS, readRegularText } from '../runtime/files/read.js';
import { writeOutputFile, type OutputFileOptions } from '../runtime/files/write.js';
import { FileError, WRITE_FAILURE_REASONS, writeFailure } from '../runtime/errors.js';

/** Where the CLI writes; tests pass buffers, the launcher passes the process streams. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborts when nobody reads stdout any more (`netspec run ... | head`); absent where that cannot happen. */
  readonly outputClosed?: AbortSignal;
  /** What `netspec check -` reads; absent reads as empty. */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
}

const stdoutClosed = new AbortController();
let stderrClosed = false;
let watchingPipes = false;

/** True for the errors of writing to a pipe or socket whose reader has gone. */
function isClosedPipe(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * Makes writing to a closed stdout or stderr quiet: once a reader has gone, what netspec would have written there
 * is dropped and `processIo.outputClosed` aborts, instead of an unhandled EPIPE error with a stack trace.
 * Called once by {@link runCli} when it writes to the process's streams.
 */
export function watchProcessPipes(): void {
  if (watchingPipes) return;
  watchingPipes = true;
  process.stdout.on('error', (e) => {
    if (!isClosedPipe(e)) throw e;
    stdoutClosed.abort();
  });
  process.stderr.on('error', (e) => {
    if (!isClosedPipe(e)) throw e;
    stderrClosed = true;
  });
}

/** Writes to the process's stdout and stderr; nothing once their reader has gone. */
export const processIo: CliIo = {
  stdout: (text) => {
    if (!stdoutClosed.signal.aborted) process.stdout.write(text);
  },
  stderr: (text) => {
    if (!stderrClosed) process.stderr.write(text);
  },
  outputClosed: stdoutClosed.signal,
  // A getter: touching process.stdin opens it, which only `check -` should do.
  get stdin() {
    return process.stdin;
  },
};

/**
 * Reads spec files from disk: regular files of at most {@link READ_LIMITS}.spec bytes, never waiting on a FIFO
 * or reading a device; a missing file is `undefined` and any other failure says why (the compiler reports it).
 */
export const fileHost: SpecHost = {
  readFile(file) {
    try {
      return readRegularText(file, 'spec', READ_LIMITS.spec);
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      if (e.systemCode === 'ENOENT') return undefined;
      return { problem: e.reason };
    }
  },
};

/** The name diagnostics give a spec read from stdin. */
export const STDIN_NAME = '<stdin>';

/**
 * Reads all of `io.stdin` as UTF-8 text, refusing more than {@link READ_LIMITS}.spec bytes (the limit of a spec
 * file) as soon as it has read past it.
 */
export async function readStdinSpec(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin ?? []) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    size += bytes.length;
    if (size > READ_LIMITS.spec)
      throw new UserError(
        `cannot read the spec on ${STDIN_NAME}: it holds more than ${formatSize(READ_LIMITS.spec)}; ` +
          `netspec reads at most ${formatSize(READ_LIMITS.spec)} from one spec`,
      );
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The spec host of a spec read from stdin: `file` (a name whose ending tells the parser the format, in the current
 * folder, so that its `extends` resolves from there) holds `text`; every other file is read from disk.
 */
export function stdinHost(file: string, text: string): SpecHost {
  return { readFile: (f) => (f === file ? text : fileHost.readFile(f)) };
}

/** A user-facing failure: printed as `error: message` and exit code 1, never with a stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/**
 * Writes `files` and the folder marker into `dir` all at once (see replaceFolderAtomic: a failure leaves either
 * the old folder or the new one, never a mix), after {@link checkOutputFolder}: an existing non-empty `dir` is
 * replaced only when it is netspec's own output of that kind, holds nothing else, and `force` (or `replaceOwn`)
 * is given. Returns what was there before.
 */
export function writeFolderAtomically(
  dir: string,
  files: ReadonlyMap<string, string | Uint8Array>,
  options: OutputFolderOptions,
): OutputFolderState {
  let state: OutputFolderState;
  try {
    state = checkOutputFolder(dir, options);
  } catch (e) {
    throw e instanceof FileError ? new UserError(e.message) : (fileSystemError(e, dir) ?? e);
  }
  try {
    replaceFolderAtomic(path.resolve(dir), withMarker(files, options.kind));
  } catch (e) {
    throw fileSystemError(e, dir) ?? e;
  }
  return state;
}

/** A file-system failure while writing the user's output (see writeFailure), or undefined. */
export const fileSystemError = writeFailure;

/**
 * Writes one output file atomically under `policy` (checkOutputFile's: a new file, or with --force one netspec
 * wrote); a refused path or a file-system failure is a user error naming the file, and nothing is left.
 */
export function writeOutputFileOrFail(
  file: string,
  content: string | Uint8Array,
  policy: OutputFileOptions,
): void {
  try {
    writeOutputFile(file, content, policy);
  } catch (e) {
    throw e instanceof FileError ? new UserError(e.message) : (fileSystemError(e, file) ?? e);
  }
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
  return new UserError(`${where ? `${where}: ` : ''}${WRITE_FAILURE_REASONS[err.code] ?? err.code}`);
}

/** Shared pieces of the reliability tests: a tiny trainable spec, fast run options, and file-system fault injection. */
import fs from 'node:fs';
import { vi } from 'vitest';

export { SMALL_RUN, TINY8_SPEC as TINY_SPEC } from '../support/cli.js';

/** A stack-trace line (`    at f (file:1:2)`): user errors must never print one. */
export const STACK_LINE = /\n\s+at /;

/** An errno error as Node's fs throws it. */
export function errnoError(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  const messages: Record<string, string> = {
    EACCES: 'permission denied',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  };
  const e: NodeJS.ErrnoException = new Error(`${code}: ${messages[code] ?? 'error'}, ${syscall} '${file}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = file;
  return e;
}

/**
 * Where a fault strikes: creating a file or folder, in the middle of writing a file's bytes, opening a file to
 * append to it, or renaming.
 */
export type FaultPoint = 'open' | 'write' | 'mkdir' | 'append' | 'rename';

/** One injected fault: the first call at `point` whose path passes `matches` throws `code` (after `skip` matches). */
export interface Fault {
  readonly point: FaultPoint;
  readonly code: string;
  readonly matches: (file: string) => boolean;
  /** Matching calls to let through before failing (default 0). */
  readonly skip?: number;
  /** Fail every matching call after the skipped ones, not only the first (default: every one, as a full disk). */
  readonly once?: boolean;
}

/**
 * Makes `fs` fail as a full disk or a read-only folder would. A failing write first writes half of its bytes,
 * as a real short write does. Returns a function that removes the fault and says how many calls failed.
 */
export function injectFault(fault: Fault): () => number {
  const real = {
    openSync: fs.openSync,
    writeSync: fs.writeSync,
    mkdirSync: fs.mkdirSync,
    appendFileSync: fs.appendFileSync,
    renameSync: fs.renameSync,
  };
  const fdPaths = new Map<number, string>();
  let seen = 0;
  let failed = 0;
  const strikes = (file: string): boolean => {
    if (!fault.matches(file)) return false;
    seen += 1;
    if (seen <= (fault.skip ?? 0)) return false;
    if (fault.once && failed > 0) return false;
    failed += 1;
    return true;
  };
  const spies: { mockRestore(): void }[] = [];
  type AnyFn = (...args: unknown[]) => unknown;
  const call = (f: unknown, args: unknown[]): unknown => (f as AnyFn).apply(fs, args);
  spies.push(
    vi.spyOn(fs, 'openSync').mockImplementation(((...args: unknown[]) => {
      const file = String(args[0]);
      if (fault.point === 'open' && strikes(file)) throw errnoError(fault.code, 'open', file);
      if (fault.point === 'append' && opensForAppend(args[1]) && strikes(file))
        throw errnoError(fault.code, 'open', file);
      const fd = call(real.openSync, args) as number;
      fdPaths.set(fd, file);
      return fd;
    }) as typeof fs.openSync),
  );
  spies.push(
    vi.spyOn(fs, 'writeSync').mockImplementation(((...args: unknown[]) => {
      const file = fdPaths.get(args[0] as number);
      if (fault.point === 'write' && file !== undefined && strikes(file)) {
        const data = args[1];
        if (data instanceof Uint8Array && data.byteLength > 1) {
          const offset = typeof args[2] === 'number' ? args[2] : 0;
          const length = typeof args[3] === 'number' ? args[3] : data.byteLength - offset;
          call(real.writeSync, [args[0], data, offset, Math.floor(length / 2)]);
        }
        throw errnoError(fault.code, 'write', file);
      }
      return call(real.writeSync, args);
    }) as typeof fs.writeSync),
  );
  spies.push(
    vi.spyOn(fs, 'mkdirSync').mockImplementation(((...args: unknown[]) => {
      const dir = String(args[0]);
      if (fault.point === 'mkdir' && !fs.existsSync(dir) && strikes(dir))
        throw errnoError(fault.code, 'mkdir', dir);
      return call(real.mkdirSync, args);
    }) as typeof fs.mkdirSync),
  );
  spies.push(
    vi.spyOn(fs, 'appendFileSync').mockImplementation(((...args: unknown[]) => {
      const file = String(args[0]);
      if (fault.point === 'append' && strikes(file)) throw errnoError(fault.code, 'open', file);
      return call(real.appendFileSync, args);
    }) as typeof fs.appendFileSync),
  );
  spies.push(
    vi.spyOn(fs, 'renameSync').mockImplementation(((...args: unknown[]) => {
      const file = String(args[1]);
      if (fault.point === 'rename' && strikes(file))
        throw errnoError(fault.code, 'rename', `${String(args[0])}' -> '${file}`);
      return call(real.renameSync, args);
    }) as typeof fs.renameSync),
  );
  return () => {
    for (const s of spies) s.mockRestore();
    return failed;
  };
}

/** True for `fs.open` flags that append (`'a'`, `'a+'`, or numeric flags with O_APPEND). */
function opensForAppend(flags: unknown): boolean {
  if (typeof flags === 'string') return flags.startsWith('a');
  return typeof flags === 'number' && (flags & fs.constants.O_APPEND) !== 0;
}

/** Entries of `dir` left by an unfinished atomic write (`.NAME.tmp-*`, `.NAME.old-*`, and older netspec's `NAME.123`). */
export function leftovers(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => /^\..+\.(tmp|old)-[0-9a-f]+$/.test(n) || /\.\d+$/.test(n));
}

/**
 * Folder locks that name their owner beyond a PID: the process id, its start time (from /proc), the boot id and
 * the host. A lock is stale when its process is gone, when the PID now belongs to another process (a restarted
 * container often gives the new process the old one's PID), or when the machine has rebooted since; a stale
 * lock is taken over. A lock from another host cannot be checked: the message says how to clear it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { READ_LIMITS, readRegularText } from './read.js';
import { LockedError } from '../errors.js';

/** Who holds a lock. Locks written by netspec before this format hold only the PID (`123\n`). */
export interface LockOwner {
  readonly pid: number;
  /** The process's start time in clock ticks since boot (`/proc/PID/stat`, field 22), where /proc exists. */
  readonly start?: string;
  /** `/proc/sys/kernel/random/boot_id`, where it exists. */
  readonly boot?: string;
  readonly host?: string;
}

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The start time of process `pid` in clock ticks since boot, or undefined without /proc (or no such process). */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Field 2 is the command name in parentheses and may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

let self: LockOwner | undefined;

/** This process as a lock owner. */
export function currentOwner(): LockOwner {
  if (!self) {
    const start = processStartTime(process.pid);
    const boot = readProc('/proc/sys/kernel/random/boot_id')?.trim();
    self = {
      pid: process.pid,
      ...(start !== undefined ? { start } : {}),
      ...(boot ? { boot } : {}),
      host: os.hostname(),
    };
  }
  return self;
}

/** Parses a lock file's text: the JSON owner, or a bare PID (older netspec); undefined when unreadable. */
export function parseLock(text: string): LockOwner | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const pid = Number(trimmed);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid } : undefined;
  }
  try {
    const raw = JSON.parse(trimmed) as Partial<Record<keyof LockOwner, unknown>> | null;
    if (!raw || typeof raw !== 'object' || !Number.isSafeInteger(raw.pid) || (raw.pid as number) <= 0)
      return undefined;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const start = str(raw.start);
    const boot = str(raw.boot);
    const host = str(raw.host);
    return {
      pid: raw.pid as number,
      ...(start !== undefined ? { start } : {}),
      ...(boot !== undefined ? { boot } : {}),
      ...(host !== undefined ? { host } : {}),
    };
  } catch {
    return undefined;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's owner still runs: `live`, `stale` (gone, PID reused, rebooted), or `elsewhere` (another host). */
export function ownerState(owner: LockOwner): 'live' | 'stale' | 'elsewhere' {
  const me = currentOwner();
  if (owner.host !== undefined && me.host !== undefined && owner.host !== me.host) return 'elsewhere';
  if (owner.boot !== undefined && me.boot !== undefined && owner.boot !== me.boot) return 'stale';
  if (!pidExists(owner.pid)) return 'stale';
  if (owner.start !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== undefined && now !== owner.start) return 'stale';
  }
  return 'live';
}

/** The owner of the lock file `lock`, or undefined when there is none or it is unreadable. */
export function readLock(lock: string): LockOwner | undefined {
  try {
    return parseLock(readRegularText(lock, 'lock file', READ_LIMITS.map));
  } catch {
    return undefined;
  }
}

/** Why `lock`, held by `owner`, blocks `what`: a sentence for users. */
function lockedMessage(what: string, lock: string, owner: LockOwner, state: 'live' | 'elsewhere'): string {
  if (state === 'elsewhere')
    return (
      `${what} is locked by netspec process ${owner.pid} on host ${owner.host ?? '?'}; ` +
      `if no run is active there, remove ${lock}`
    );
  const who = owner.pid === process.pid ? 'this process' : `process ${owner.pid}`;
  return `${what} is in use by another netspec run (${who}); if that is not a netspec run, remove ${lock}`;
}

/** Throws {@link LockedError} when `lock` is held by a live process or one on another host. */
export function checkLock(lock: string, what: string): void {
  const owner = readLock(lock);
  if (!owner) return;
  const state = ownerState(owner);
  if (state !== 'stale') throw new LockedError(lockedMessage(what, lock, owner, state));
}

/**
 * Takes the lock file `lock` for this process: creates it exclusively, or takes over a stale one (replacing it
 * by a rename, then checking the rename was ours). Throws {@link LockedError} when a live owner holds it.
 */
export function takeLock(lock: string, what: string): void {
  const mine = JSON.stringify(currentOwner()) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(lock, mine, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readLock(lock);
    if (owner) {
      const state = ownerState(owner);
      if (state !== 'stale') throw new LockedError(lockedMessage(what, lock, owner, state));
    } else if (isFresh(lock)) {
      // Unreadable and new: another process may be between creating it and writing its owner.
      throw new LockedError(`${what} is being locked by another process right now (${lock}); try again`);
    }
    // Stale (or unreadable: a writer that died before writing): replace it in one rename, then make sure no
    // other process taking it over at the same moment renamed after us.
    const temp = path.join(
      path.dirname(lock),
      `${path.basename(lock)}.${crypto.randomBytes(6).toString('hex')}`,
    );
    fs.writeFileSync(temp, mine, { flag: 'wx' });
    fs.renameSync(temp, lock);
    if (readProc(lock) === mine) return;
  }
  throw new LockedError(`cannot lock ${what}: other processes keep taking its lock (${lock})`);
}

/** True when `lock` was modified in the last few seconds. */
function isFresh(lock: string): boolean {
  try {
    return Date.now() - fs.statSync(lock).mtimeMs < 5000;
  } catch {
    return false;
  }
}

/** Releases `lock` if this process holds it (a lock taken over by another process stays). */
export function releaseLock(lock: string): void {
  const owner = readLock(lock);
  const me = currentOwner();
  if (owner && owner.pid === me.pid && (owner.start === undefined || owner.start === me.start))
    fs.rmSync(lock, { force: true });
}

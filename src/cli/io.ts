/** The CLI's contact with the outside world: streams, the spec host, and all-or-nothing output folders. */
import fs from 'node:fs';
import path from 'node:path';
import type { SpecHost } from '../compiler/index.js';

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
 * Writes `files` into `dir` all at once: they go to a temporary sibling folder that is renamed into place, so a
 * failure leaves either the old folder or the new one, never a mix. An existing non-empty `dir` is replaced
 * only with `force`.
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
  const parent = path.dirname(target);
  const base = path.basename(target);
  let temp: string | undefined;
  try {
    fs.mkdirSync(parent, { recursive: true });
    temp = fs.mkdtempSync(path.join(parent, `.${base}.tmp-`));
    for (const [name, content] of files) {
      const file = path.join(temp, name);
      if (!file.startsWith(temp + path.sep))
        throw new Error(`internal: output name '${name}' leaves its folder`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    if (exists) {
      const old = `${temp}.old`;
      fs.renameSync(target, old);
      fs.renameSync(temp, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(temp, target);
    temp = undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'ENOSPC' || code === 'EROFS')
      throw new UserError(
        `cannot write ${dir}: ${code === 'ENOSPC' ? 'no space left on device' : 'permission denied'}`,
      );
    throw e;
  } finally {
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  }
}

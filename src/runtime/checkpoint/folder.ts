/**
 * Checkpoint folders on disk: written all at once and verified on reading.
 *
 * Writing puts every file into a temporary sibling folder, fsyncs the files and the folder, then renames it into
 * place. Replacing an existing folder moves the old one aside first (`.NAME.old-*`) and deletes it only after
 * the new one is in place, so a crash at any moment leaves the old folder, the new one, or the old one set
 * aside, which {@link recoverFolders} puts back: never neither. `manifest.json` lists every file with its size
 * and SHA-256; reading checks each file against it and refuses paths that could leave the folder.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hashRegularFile, READ_LIMITS, readRegularFile } from '../files/read.js';
import { ensureFolder, syncFolder } from '../files/write.js';
import { CheckpointError } from '../errors.js';
import { FileError } from '../errors.js';

/** The manifest's name inside a checkpoint folder. */
export const MANIFEST = 'manifest.json';

/** One manifest entry. */
export interface ManifestEntry {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** The manifest: format tag, version, and every other file of the folder. */
export interface Manifest {
  readonly format: 'netspec-checkpoint';
  readonly version: 1;
  readonly files: readonly ManifestEntry[];
}

const TEMP_MARK = '.tmp-';
const OLD_MARK = '.old-';

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256(bytes: Uint8Array | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** Why `p` is not an acceptable manifest path (a relative path of plain names, staying inside the folder), or undefined. */
export function unsafeManifestPath(p: string): string | undefined {
  if (typeof p !== 'string' || p.length === 0) return 'is empty';
  if (p.includes('\0')) return 'contains a NUL character';
  if (p.includes('\\')) return 'contains a backslash';
  if (p.startsWith('/') || path.isAbsolute(p) || /^[A-Za-z]:/.test(p)) return 'is absolute';
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return "contains '..'";
  if (parts.some((s) => s === '' || s === '.')) return 'has an empty or "." component';
  if (p === MANIFEST) return 'names the manifest itself';
  return undefined;
}

function writeFileSynced(file: string, bytes: Uint8Array | string): void {
  const fd = fs.openSync(file, 'wx');
  try {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    let offset = 0;
    while (offset < data.byteLength) offset += fs.writeSync(fd, data, offset, data.byteLength - offset);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function randomSuffix(): string {
  return crypto.randomBytes(6).toString('hex');
}

/** The manifest of `files`, as written to manifest.json. */
export function buildManifest(files: ReadonlyMap<string, Uint8Array>): Manifest {
  return {
    format: 'netspec-checkpoint',
    version: 1,
    files: [...files].map(([p, bytes]) => ({ path: p, size: bytes.byteLength, sha256: sha256(bytes) })),
  };
}

/**
 * Writes `files` (relative path → bytes) plus `manifest.json` as the folder `dir`, atomically, replacing an
 * existing folder of that name. Paths must pass {@link unsafeManifestPath} (a program error otherwise).
 */
export function writeFolderAtomic(dir: string, files: ReadonlyMap<string, Uint8Array>): void {
  for (const p of files.keys()) {
    const problem = unsafeManifestPath(p);
    if (problem) throw new Error(`internal: checkpoint file name '${p}' ${problem}`);
  }
  replaceFolderAtomic(
    dir,
    new Map<string, Uint8Array | string>([
      ...files,
      [MANIFEST, JSON.stringify(buildManifest(files), null, 2) + '\n'],
    ]),
  );
}

/**
 * Writes `files` as the folder `dir`, all or nothing: into a temporary sibling folder (each file fsynced), which
 * is renamed into place, setting an existing folder aside first and deleting it last. A crash leaves the old
 * folder, the new one, or a set-aside one that {@link recoverFolders} puts back; never a mix.
 */
export function replaceFolderAtomic(dir: string, files: ReadonlyMap<string, Uint8Array | string>): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  ensureFolder(parent);
  const temp = path.join(parent, `.${base}${TEMP_MARK}${randomSuffix()}`);
  fs.mkdirSync(temp);
  try {
    for (const [p, bytes] of files) {
      const file = path.join(temp, p);
      if (!file.startsWith(temp + path.sep)) throw new Error(`internal: file name '${p}' leaves its folder`);
      ensureFolder(path.dirname(file));
      writeFileSynced(file, bytes);
    }
    syncFolder(temp);
    if (fs.existsSync(target)) {
      const old = path.join(parent, `.${base}${OLD_MARK}${randomSuffix()}`);
      fs.renameSync(target, old);
      try {
        fs.renameSync(temp, target);
      } catch (e) {
        // Put the old folder back now rather than leave it to recoverFolders at the next start.
        if (!fs.existsSync(target)) fs.renameSync(old, target);
        throw e;
      }
      syncFolder(parent);
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(temp, target);
      syncFolder(parent);
    }
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Repairs what a crash may have left in `parent` (a folder of checkpoint folders): a folder set aside while
 * being replaced is put back when the new one never arrived, and unfinished temporary folders and set-aside
 * old folders are deleted. Returns what it did, one sentence per action. Call it only while no writer runs.
 */
export function recoverFolders(parent: string): string[] {
  if (!fs.existsSync(parent)) return [];
  const actions: string[] = [];
  const entries = fs.readdirSync(parent).sort();
  for (const name of entries) {
    const m = /^\.(.+)\.old-[0-9a-f]+$/.exec(name);
    if (!m?.[1]) continue;
    const target = path.join(parent, m[1]);
    if (!fs.existsSync(target)) {
      fs.renameSync(path.join(parent, name), target);
      actions.push(`restored ${m[1]} (a replacement was interrupted)`);
    }
  }
  for (const name of fs.readdirSync(parent).sort()) {
    if (/^\..+\.(tmp|old)-[0-9a-f]+$/.test(name)) {
      fs.rmSync(path.join(parent, name), { recursive: true, force: true });
      actions.push(
        `removed the leftover ${name.includes(TEMP_MARK) ? 'unfinished' : 'replaced'} folder ${name}`,
      );
    }
  }
  return actions;
}

function parseManifest(text: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${where}: ${MANIFEST} is not valid JSON (${(e as Error).message})`);
  }
  const m = raw as Partial<Manifest> | null;
  if (!m || typeof m !== 'object' || m.format !== 'netspec-checkpoint')
    throw new CheckpointError(`${where}: ${MANIFEST} is not a netspec checkpoint manifest`);
  if (m.version !== 1)
    throw new CheckpointError(
      `${where}: ${MANIFEST} has version ${String(m.version)}; this netspec reads version 1`,
    );
  if (!Array.isArray(m.files)) throw new CheckpointError(`${where}: ${MANIFEST} has no file list`);
  const seen = new Set<string>();
  for (const f of m.files as unknown[]) {
    const e = f as Partial<ManifestEntry> | null;
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.path !== 'string' ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    )
      throw new CheckpointError(`${where}: ${MANIFEST} has a malformed entry ${JSON.stringify(f)}`);
    if (!Number.isSafeInteger(e.size) || (e.size ?? -1) < 0)
      throw new CheckpointError(`${where}: ${MANIFEST} gives '${e.path}' the size ${String(e.size)}`);
    const problem = unsafeManifestPath(e.path);
    if (problem)
      throw new CheckpointError(
        `${where}: ${MANIFEST} lists the path '${e.path}', which ${problem}; refusing it`,
      );
    if (seen.has(e.path)) throw new CheckpointError(`${where}: ${MANIFEST} lists '${e.path}' twice`);
    seen.add(e.path);
  }
  return m as Manifest;
}

/** Files above this size are hashed in chunks before they are read whole (256 MiB). */
const HASH_FIRST_BYTES = 256 * 1024 * 1024;

/** Reads one file of a checkpoint (a regular file within `limit`), with failures as a CheckpointError naming it. */
function readVerified(file: string, dir: string, name: string, limit: number): Buffer {
  try {
    return readRegularFile(file, 'checkpoint file', limit);
  } catch (e) {
    if (e instanceof FileError) throw new CheckpointError(`${dir}: file '${name}': ${e.reason}`);
    throw e;
  }
}

/**
 * Reads the checkpoint folder `dir`: every file its manifest lists, each checked for existence, being a
 * regular file reached without symlinks, size and SHA-256. Throws {@link CheckpointError} on any problem.
 */
export function readFolderVerified(dir: string): Map<string, Uint8Array> {
  const root = path.resolve(dir);
  if (!fs.existsSync(root)) throw new CheckpointError(`${dir}: no such checkpoint folder`);
  if (!fs.statSync(root).isDirectory()) throw new CheckpointError(`${dir}: not a folder`);
  const manifestFile = path.join(root, MANIFEST);
  if (!fs.existsSync(manifestFile))
    throw new CheckpointError(
      `${dir}: no ${MANIFEST}; this is not a netspec checkpoint (or one whose writing never finished)`,
    );
  if (fs.lstatSync(manifestFile).isSymbolicLink())
    throw new CheckpointError(`${dir}: ${MANIFEST} is a symbolic link; refusing it`);
  const manifest = parseManifest(
    readVerified(manifestFile, dir, MANIFEST, READ_LIMITS.metadata).toString('utf8'),
    dir,
  );
  const files = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    const label = `${dir}: file '${entry.path}'`;
    const parts = entry.path.split('/');
    let at = root;
    for (const part of parts) {
      at = path.join(at, part);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(at);
      } catch {
        throw new CheckpointError(`${label} is missing`);
      }
      if (stat.isSymbolicLink())
        throw new CheckpointError(`${label}: '${path.relative(root, at)}' is a symbolic link; refusing it`);
    }
    const stat = fs.statSync(at);
    if (!stat.isFile()) throw new CheckpointError(`${label} is not a regular file`);
    if (stat.size !== entry.size)
      throw new CheckpointError(
        `${label} is ${stat.size} bytes, the manifest says ${entry.size} (${stat.size < entry.size ? 'truncated' : 'longer than written'})`,
      );
    const altered = (digest: string): CheckpointError =>
      new CheckpointError(
        `${label} has SHA-256 ${digest.slice(0, 12)}…, the manifest says ${entry.sha256.slice(0, 12)}… (its content was altered)`,
      );
    // A large file is hashed in chunks before it is held in memory: an altered one never is.
    if (entry.size > HASH_FIRST_BYTES) {
      let digest: string;
      try {
        digest = hashRegularFile(at, 'checkpoint file', READ_LIMITS.tensors);
      } catch (e) {
        if (e instanceof FileError) throw new CheckpointError(`${dir}: file '${entry.path}': ${e.reason}`);
        throw e;
      }
      if (digest !== entry.sha256) throw altered(digest);
    }
    const bytes = new Uint8Array(readVerified(at, dir, entry.path, READ_LIMITS.tensors));
    const digest = sha256(bytes);
    if (digest !== entry.sha256) throw altered(digest);
    files.set(entry.path, bytes);
  }
  return files;
}

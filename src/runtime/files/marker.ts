/**
 * Folder markers: every folder netspec creates for its output (a run folder, a compile folder, a comparison, an
 * exported model) holds `.netspec.json`, saying which kind of folder it is and, where netspec writes a fixed set
 * of files, which files. netspec replaces or deletes only folders that carry its marker and hold nothing but its own files, so
 * `--force` can never empty a project folder that merely contains a `checkpoints/` or a `train.log`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { READ_LIMITS, readRegularText } from './read.js';
import { lstatOrUndefined } from './write.js';

/** The marker's file name inside a netspec folder. */
export const MARKER = '.netspec.json';

/** What netspec writes a folder for. */
export type FolderKind = 'run' | 'compile' | 'compare' | 'export';

/** The marker's content. */
export interface FolderMarker {
  readonly format: 'netspec-folder';
  readonly version: 1;
  readonly kind: FolderKind;
  /** For folders with a fixed set of files (compile, export): every file netspec wrote there, marker excluded. */
  readonly files?: readonly string[];
}

/** The marker text for a folder of `kind` (deterministic: committed compile output holds it). */
export function markerText(kind: FolderKind, files?: readonly string[]): string {
  const marker: FolderMarker = {
    format: 'netspec-folder',
    version: 1,
    kind,
    ...(files ? { files: [...files].sort() } : {}),
  };
  return JSON.stringify(marker, null, 2) + '\n';
}

/** The marker of `dir`, or undefined when it has none (or one netspec did not write: a link, a malformed file). */
export function readMarker(dir: string): FolderMarker | undefined {
  const file = path.join(dir, MARKER);
  const stat = lstatOrUndefined(file);
  if (!stat?.isFile()) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readRegularText(file, 'folder marker', READ_LIMITS.map));
  } catch {
    return undefined;
  }
  const m = raw as Partial<FolderMarker> | null;
  if (!m || typeof m !== 'object' || m.format !== 'netspec-folder' || m.version !== 1) return undefined;
  if (m.kind !== 'run' && m.kind !== 'compile' && m.kind !== 'compare' && m.kind !== 'export')
    return undefined;
  if (m.files !== undefined && (!Array.isArray(m.files) || m.files.some((f) => typeof f !== 'string')))
    return undefined;
  return m as FolderMarker;
}

/** The entries of `dir` (names, sorted), or an empty list when it does not exist. */
export function folderEntries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A short list of names for messages: the first few, then how many more. */
export function listNames(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

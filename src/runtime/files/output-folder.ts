/**
 * Output folders with a fixed set of files (`netspec compile -o DIR`, `netspec export -o DIR`): written all at
 * once with a marker, and replaced only when they are netspec's own output, hold nothing else, and `--force` is
 * given.
 */
import { describeFileType } from './read.js';
import { folderEntries, listNames, MARKER, markerText, readMarker, type FolderKind } from './marker.js';
import { holdsCurrentFolder, statOutputPath } from './write.js';
import { FileError } from '../errors.js';

/** `files` plus the marker that lists them, as written into an output folder of `kind`. */
export function withMarker(
  files: ReadonlyMap<string, string | Uint8Array>,
  kind: FolderKind,
): Map<string, string | Uint8Array> {
  return new Map([...files, [MARKER, markerText(kind, [...files.keys()])]]);
}

/** A folder kind in messages: `compile output`, `export output`, `a run folder`. */
function describeKind(kind: FolderKind): string {
  return kind === 'compile' || kind === 'export' ? `${kind} output` : `a ${kind} folder`;
}

/** Options of {@link checkOutputFolder}. */
export interface OutputFolderOptions {
  readonly kind: FolderKind;
  readonly force: boolean;
  /** The option that named the folder, for messages (`-o`). */
  readonly option: string;
  /**
   * Recognises netspec's output written before folders carried markers: true when `entries` of `dir` are all
   * files netspec wrote. Without it, a folder without a marker is never netspec's.
   */
  readonly recogniseUnmarked?: (dir: string, entries: readonly string[]) => boolean;
}

/**
 * Checks, changing nothing, that the folder `dir` may be written as output of `kind`: it does not exist, is
 * empty, or is netspec's earlier output of that kind holding only the files its marker lists, and `force` is
 * given. Never a symbolic link, a file, or the current folder or one above it. Throws {@link FileError}.
 */
export function checkOutputFolder(dir: string, options: OutputFolderOptions): void {
  const stat = statOutputPath(dir, options.option, 'folder');
  if (!stat) return;
  if (!stat.isDirectory())
    throw new FileError(`${dir} exists and is ${describeFileType(stat)}, not a folder`, dir);
  if (holdsCurrentFolder(dir))
    throw new FileError(`refusing to replace ${dir}: it is or contains the current folder`, dir);
  const entries = folderEntries(dir);
  if (entries.length === 0) return;
  const marker =
    readMarker(dir) ??
    (options.recogniseUnmarked?.(dir, entries)
      ? { format: 'netspec-folder', version: 1, kind: options.kind, files: entries }
      : undefined);
  if (!marker || marker.kind !== options.kind)
    throw new FileError(
      `${dir} exists and is not ${describeKind(options.kind)} netspec wrote ` +
        `(it holds ${listNames(entries)}); netspec writes only into a new or empty folder or its own output`,
      dir,
    );
  const own = new Set([MARKER, ...(marker.files ?? [])]);
  const foreign = entries.filter((e) => !own.has(e));
  if (foreign.length > 0)
    throw new FileError(
      `${dir} holds netspec's earlier output but also ${listNames(foreign)}, which netspec did not write; ` +
        `not replacing it (move those away first)`,
      dir,
    );
  if (!options.force)
    throw new FileError(`${dir} holds netspec's earlier output; pass --force to replace it`, dir);
}

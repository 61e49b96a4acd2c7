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
  /**
   * Replace netspec's own output without `force` when its marker lists exactly the files the folder holds
   * (`compile`: its output is regenerated from the spec, so replacing it loses nothing netspec did not write).
   */
  readonly replaceOwn?: boolean;
}

/** What {@link checkOutputFolder} found: nothing there, an empty folder, or netspec's own output to replace. */
export type OutputFolderState = 'absent' | 'empty' | 'own';

/**
 * Checks, changing nothing, that the folder `dir` may be written as output of `kind`: it does not exist, is
 * empty, or is netspec's earlier output of that kind holding only the files its marker lists, and `force` is
 * given (or `replaceOwn`, and the marker lists exactly those files). Never a symbolic link, a file, or the current
 * folder or one above it. Throws {@link FileError}.
 */
export function checkOutputFolder(dir: string, options: OutputFolderOptions): OutputFolderState {
  const stat = statOutputPath(dir, options.option, 'folder');
  if (!stat) return 'absent';
  if (!stat.isDirectory())
    throw new FileError(`${dir} exists and is ${describeFileType(stat)}, not a folder`, dir);
  if (holdsCurrentFolder(dir))
    throw new FileError(`refusing to replace ${dir}: it is or contains the current folder`, dir);
  const entries = folderEntries(dir);
  if (entries.length === 0) return 'empty';
  const written = readMarker(dir);
  const marker =
    written ??
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
  if (options.force) return 'own';
  const listed = new Set(written?.files ?? []);
  const exact =
    written?.files !== undefined && entries.length === listed.size + 1 && entries.every((e) => own.has(e));
  if (options.replaceOwn && exact) return 'own';
  throw new FileError(`${dir} holds netspec's earlier output; pass --force to replace it`, dir);
}

/**
 * Safetensors files on disk, as far as netspec needs to recognise them without loading them: the `__metadata__`
 * of a file's header, which tells whether netspec wrote it (and so may replace it with `--force`).
 */
import { readRegularFileRange } from '../files/read.js';

/** The `__metadata__` key netspec writes into every safetensors file it produces, with the command as value. */
export const PRODUCER_KEY = 'netspec';

/** The largest header {@link safetensorsMetadataOf} reads to recognise a file (netspec's headers are far smaller). */
const RECOGNISED_HEADER_BYTES = 1024 * 1024;

/**
 * The `__metadata__` strings of the safetensors file `file`, reading only its header; undefined when `file` is
 * not a regular safetensors file with a header under 1 MiB. For recognising files, not for loading them.
 */
export function safetensorsMetadataOf(file: string): Record<string, string> | undefined {
  try {
    const head = readRegularFileRange(file, 'safetensors file', 0, 8);
    if (head.length < 8) return undefined;
    const n = head.readBigUInt64LE(0);
    if (n > BigInt(RECOGNISED_HEADER_BYTES)) return undefined;
    const text = readRegularFileRange(file, 'safetensors file', 8, Number(n)).toString('utf8');
    const header = JSON.parse(text) as { __metadata__?: unknown } | null;
    const meta = header?.__metadata__;
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
    const entries = Object.entries(meta);
    if (entries.some(([, v]) => typeof v !== 'string')) return undefined;
    return Object.fromEntries(entries) as Record<string, string>;
  } catch {
    return undefined;
  }
}

/**
 * True when the safetensors file `file` was written by netspec: its metadata names netspec's command
 * (`netspec: export-weights`), or it is an `export-weights` file of an earlier netspec (`format: pt` with the
 * network's name).
 */
export function isNetspecSafetensors(file: string): boolean {
  const meta = safetensorsMetadataOf(file);
  if (!meta) return false;
  return typeof meta[PRODUCER_KEY] === 'string' || (meta.format === 'pt' && typeof meta.network === 'string');
}

/** Errors about the contents of a weights file: each names the file and the byte where the problem is. */

/**
 * A weights file that is not what it claims to be (truncated, malformed header, inconsistent offsets).
 * The message reads `file: byte N: what is wrong`, so the CLI can print it as is, without a stack.
 */
export class WeightsFileError extends Error {
  override readonly name = 'WeightsFileError';

  constructor(
    readonly file: string,
    /** Byte offset from the start of the file where the problem was found. */
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${file}: byte ${offset}: ${detail}`);
  }
}

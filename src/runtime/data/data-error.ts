/** The one error type of the data loaders: its message is ready for the user (it names the file and the offset). */
export class DataError extends Error {
  override readonly name = 'DataError';

  /** `file` and `offset` repeat what the message says, for callers that want them as data. */
  constructor(
    message: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** True for a {@link DataError}; the CLI prints these without a stack trace. */
export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}

/**
 * What stops a run early: Ctrl-C (SIGINT), SIGTERM (sent by `timeout`, `docker stop`, systemd, Slurm), SIGHUP (a
 * closed terminal), or the reader of stdout going away (`netspec run ... | head`). The first finishes the
 * current step and writes checkpoints/last; a second signal quits at once.
 */

/** Why a run stops early. */
export type StopCause = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'stdout closed';

/** The signals a run treats as "stop after this step". */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Calls `first` on the first stop (a signal, or `outputClosed` aborting) and `again` on every further signal.
 * Returns a function that removes the handlers (signals then act as Node's default again).
 */
export function watchStops(
  first: (cause: StopCause) => void,
  again: (cause: StopCause) => void,
  outputClosed?: AbortSignal,
): () => void {
  let stopped = false;
  const stop = (cause: StopCause): void => {
    if (stopped) return again(cause);
    stopped = true;
    first(cause);
  };
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = (): void => stop(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const onClosed = (): void => {
    if (!stopped) stop('stdout closed');
  };
  if (outputClosed?.aborted) queueMicrotask(onClosed);
  else outputClosed?.addEventListener('abort', onClosed, { once: true });
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    outputClosed?.removeEventListener('abort', onClosed);
  };
}

/** The line a run prints when it starts stopping, in the seed log's `[Train]` style. */
export function stopLine(cause: StopCause): string {
  const rest = 'finishing the current step and writing checkpoints/last';
  if (cause === 'SIGINT') return `[Train] interrupted: ${rest} (Ctrl-C again to quit now)`;
  if (cause === 'stdout closed') return `[Train] stdout was closed: ${rest}`;
  return `[Train] stopped by ${cause}: ${rest} (${cause} again to quit now)`;
}

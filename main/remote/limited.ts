/**
 * Bounded parallelism for the remote engine: run a function on each item,
 * `limit` at a time, each with its own AbortSignal tied to a shared one (so
 * that listeners of finished requests do not pile up on the shared signal).
 * On the first error the others are aborted, and that error is thrown once
 * all have stopped.
 */

export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  abort: AbortController,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      const own = new AbortController();
      const onAbort = () => own.abort(abort.signal.reason);
      abort.signal.addEventListener('abort', onAbort, { once: true });
      if (abort.signal.aborted) own.abort(abort.signal.reason);
      try {
        await fn(items[index]!, index, own.signal);
      } catch (error) {
        if (!failed) {
          failed = { error };
          abort.abort();
        }
      } finally {
        abort.signal.removeEventListener('abort', onAbort);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.error;
}

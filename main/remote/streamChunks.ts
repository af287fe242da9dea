/**
 * The chunks of a Readable one by one, as they were pushed.
 *
 * Why by hand: a Readable's own async iterator (for await … of stream) calls
 * read() with no size, which joins every buffered chunk into one new buffer.
 * Reading an answer from a remote server, chunks pile up whenever the store is
 * busy, so most of a 40 MB retrieve was copied once more into fresh memory
 * (Readable's fromList: ~10% of the main thread's time in a CPU profile of
 * bench:client's retrieve). Here each chunk is handed over as it came.
 *
 * Backpressure: the stream is paused while more than `highWaterMark` chunks
 * wait. End, error and premature close are those of stream.finished(). Leaving
 * the loop early (break, throw) destroys the stream.
 */
import { finished, type Readable } from 'node:stream';

export async function* streamChunks(stream: Readable, highWaterMark = 16): AsyncGenerator<Buffer, void, undefined> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer | string) => {
    queue.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    if (queue.length >= highWaterMark) stream.pause();
    signal();
  };
  const stopWatching = finished(stream, (err) => {
    if (err) failure = { error: err };
    else ended = true;
    signal();
  });
  stream.on('data', onData);
  stream.resume(); // flowing, even if someone paused it before
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (queue.length < highWaterMark / 2 && stream.isPaused() && !ended && !failure) stream.resume();
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    stream.off('data', onData);
    stopWatching();
    if (!ended) stream.destroy();
  }
}

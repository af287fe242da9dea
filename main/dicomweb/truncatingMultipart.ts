/**
 * A multipart/related answer (PS3.18 8.6.1.2) whose parts are produced while
 * it is sent (decoded frames, transcoded instances), so that a part can fail
 * after the status line has gone out. HTTP has no way left to say so: the
 * answer then ends without the closing delimiter (RFC 2046 5.1.1), the failed
 * part opened (delimiter line) and cut short, and the failure is logged. A
 * multipart reader gets the parts before it whole, then sees a truncated body
 * (ours: "ended inside part n, before the closing delimiter"); the server goes
 * on serving. The caller produces the first part
 * before sending headers, so a failure there is still a clean error status.
 */
import { Readable } from 'node:stream';
import type { MultipartWriter, OutgoingPart } from './multipart.js';

export function truncatingMultipartStream(
  writer: MultipartWriter,
  parts: AsyncIterable<OutgoingPart>,
  log: (line: string) => void,
  what: string,
): Readable {
  async function* generate(): AsyncGenerator<Buffer | Uint8Array> {
    let written = 0;
    let started = false;
    try {
      for await (const part of parts) {
        started = true;
        yield writer.partHead(part.headers);
        if (Buffer.isBuffer(part.body)) yield part.body;
        else for await (const chunk of part.body) yield chunk;
        written++;
        started = false;
      }
    } catch (err) {
      log(`error: ${what}: part ${written + 1} failed after the answer had started; the answer ends without its closing delimiter: ${(err as Error).message}`);
      // The failed part is opened and left unfinished (when it had not started), so that the
      // parts before it read as complete and the cut is seen where it happened.
      if (!started) yield writer.partHead({});
      return;
    }
    yield writer.end();
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 64 * 1024 });
}

/**
 * The body of a STOW-RS request (PS3.18 10.5.1.2: multipart/related;
 * type="application/dicom", one Part-10 instance per part), streamed from the
 * stored files: never a whole study in memory. Consecutive small files are
 * laid out with their part heads in blocks of up to 1 MiB, each read by the
 * reader thread of the WADO-RS retrieve (dicomweb/fileRangeReader.ts: one
 * message per block instead of four thread-pool round trips per file) into
 * reused shared memory, copied out and sent as one write, the next block read
 * while one is sent; as in the
 * retrieve, the size the index records is what is read and sent. Big files
 * are streamed in 1 MiB chunks. The length is known before sending (part
 * heads carry Content-Length), so a request can declare it or go chunked.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { readFileRanges, type FileRange, type RangeFailure } from '../dicomweb/fileRangeReader.js';
import { MultipartWriter } from '../dicomweb/multipart.js';
import type { StowInstance } from './stowResources.js';

export const STOW_PART_TYPE = 'application/dicom';
/** Files up to this size are read whole, in groups; bigger ones are streamed. */
const WHOLE_FILE_MAX = 1024 * 1024;
/** Small files and their part heads are gathered into blocks (one read message, one write) of at most this size… */
const GROUP_BYTES = 1024 * 1024;
/** …counting this much for a part head. */
const HEAD_ROOM = 256;
/** What the Readable buffers ahead of the HTTP client. */
const WRITE_SIZE = 256 * 1024;
const STREAM_CHUNK = 1024 * 1024;

function partHeaders(instance: StowInstance): Record<string, string | number> {
  return { 'Content-Type': STOW_PART_TYPE, 'Content-Length': instance.size };
}

/** Exact byte length of the multipart body of `instances` with `boundary`. */
export function stowBodyLength(instances: StowInstance[], boundary: string): number {
  const writer = new MultipartWriter(STOW_PART_TYPE, boundary);
  let length = 0;
  for (const instance of instances) length += writer.partHead(partHeaders(instance)).length + instance.size;
  return length + writer.end().length;
}

/** Upper bound of what one part adds to a body (its head, its file), and what the close delimiter adds. */
export function stowPartCost(instance: StowInstance, boundary: string): number {
  const writer = new MultipartWriter(STOW_PART_TYPE, boundary);
  writer.partHead({}); // not the first part: its head starts with CRLF
  return writer.partHead(partHeaders(instance)).length + instance.size;
}

export function stowEndCost(boundary: string): number {
  const writer = new MultipartWriter(STOW_PART_TYPE, boundary);
  writer.partHead({});
  return writer.end().length;
}

export interface StowBodyOptions {
  boundary: string;
  signal: AbortSignal;
  /** Bytes handed to the HTTP client. */
  onBytes(bytes: number): void;
  /** An instance's part was handed over whole. */
  onInstance(instance: StowInstance): void;
  /** What failed on our side (a file gone, cancel): the request's own error then means nothing. */
  failure: { error?: AppError };
  /** Prefix of messages ("stow to 'pacs'"). */
  what: string;
}

/** Consecutive small instances of a body, laid out with their part heads in one block of memory read by the reader thread. */
interface Group {
  instances: StowInstance[];
  /** Resolves once the files are read: the group's bytes (heads and files), or the first file that could not be read. */
  read: Promise<Buffer | RangeFailure>;
}

/** A Readable of the whole body; reads files only as the consumer pulls (backpressure). */
export function stowBody(instances: StowInstance[], options: StowBodyOptions): Readable {
  const { boundary, signal, onBytes, onInstance, failure, what } = options;
  const writer = new MultipartWriter(STOW_PART_TYPE, boundary);
  const small = (i: number) => i < instances.length && instances[i]!.size <= WHOLE_FILE_MAX;

  const unreadable = (instance: StowInstance, reason: string) =>
    new AppError('store-corrupt', `${what}: cannot read the stored file of instance ${instance.id} (${instance.path}): ${reason}; the index says ${instance.size} bytes`);

  /** Lays out the small instances from `from` on (at least one, up to GROUP_BYTES) and starts reading them. */
  const layOutGroup = (from: number): Group => {
    const members: StowInstance[] = [];
    const heads: string[] = [];
    let length = 0;
    for (let i = from; small(i); i++) {
      const instance = instances[i]!;
      if (members.length > 0 && length + instance.size + HEAD_ROOM > GROUP_BYTES) break;
      const head = writer.partHeadText(partHeaders(instance));
      members.push(instance);
      heads.push(head);
      length += head.length + instance.size;
    }
    // The block moves to the reader thread and back (no copy, no shared memory to recycle):
    // its bytes are then the body's chunk, freed with it.
    // allocUnsafeSlow: not zero-filled (every byte is written below or by the reader) and not
    // from Node's pool, so its ArrayBuffer is the block's alone and may be moved.
    const block = Buffer.allocUnsafeSlow(length);
    const memory = block.buffer as ArrayBuffer;
    const ranges: FileRange[] = [];
    let at = 0;
    members.forEach((instance, k) => {
      at += block.write(heads[k]!, at, 'latin1');
      ranges.push({ path: instance.path, at, length: instance.size, position: 0 });
      at += instance.size;
    });
    const read = new Promise<Buffer | RangeFailure>((resolve) =>
      readFileRanges([{ memory, ranges }], (_block, failed, moved) => {
        if (failed) resolve(failed);
        else if (moved) resolve(Buffer.from(moved));
        else resolve({ index: -1, reason: 'the file reader thread gave no memory back' });
      }),
    );
    return { instances: members, read };
  };

  async function* generate(): AsyncGenerator<Buffer> {
    let ahead: Group | undefined;
    try {
      for (let i = 0; i < instances.length; ) {
        if (signal.aborted) throw new AppError('cancelled', `${what}: cancelled`);
        const instance = instances[i]!;
        if (small(i)) {
          const group = ahead ?? layOutGroup(i);
          i += group.instances.length;
          // The next group is read while this one is sent (not past a big file: heads are laid out in order).
          ahead = small(i) ? layOutGroup(i) : undefined;
          const read = await group.read;
          if (!Buffer.isBuffer(read)) {
            const culprit = group.instances[read.index];
            throw culprit ? unreadable(culprit, read.reason) : new AppError('internal', `${what}: ${read.reason}`);
          }
          onBytes(read.length);
          for (const member of group.instances) onInstance(member);
          yield read;
          continue;
        }
        const head = writer.partHead(partHeaders(instance));
        onBytes(head.length);
        yield head;
        let read = 0;
        const stream = createReadStream(instance.path, { highWaterMark: STREAM_CHUNK, signal });
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            read += chunk.length;
            if (read > instance.size) checkSize(instance, read);
            onBytes(chunk.length);
            yield chunk;
          }
        } catch (err) {
          if (err instanceof AppError) throw err;
          if (signal.aborted) throw new AppError('cancelled', `${what}: cancelled`);
          const e = err as NodeJS.ErrnoException;
          throw new AppError('store-corrupt', `${what}: cannot read the stored file of instance ${instance.id} (${instance.path}): ${e.code ?? e.message}`);
        }
        checkSize(instance, read);
        onInstance(instance);
        i++;
      }
      const end = writer.end();
      onBytes(end.length);
      yield end;
    } catch (err) {
      failure.error = err instanceof AppError ? err : new AppError('internal', `${what}: ${(err as Error).message}`);
      throw failure.error;
    }
  }

  const checkSize = (instance: StowInstance, read: number) => {
    if (read !== instance.size) {
      throw new AppError('store-corrupt', `${what}: the stored file of instance ${instance.id} has ${read} bytes, the index says ${instance.size} (${instance.path})`);
    }
  };

  return Readable.from(generate(), { objectMode: false, highWaterMark: WRITE_SIZE });
}

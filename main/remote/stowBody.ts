/**
 * The body of a STOW-RS request (PS3.18 10.5.1.2: multipart/related;
 * type="application/dicom", one Part-10 instance per part), streamed from the
 * stored files: never a whole study in memory. Small files are read whole a
 * few ahead of the writer and sent in ~256 KiB writes (one read per file
 * instead of a read stream's four thread-pool round trips); big files are
 * streamed in 1 MiB chunks. The length is known before sending (part heads
 * carry Content-Length), so a request can declare it or go chunked.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { MultipartWriter } from '../dicomweb/multipart.js';
import type { StowInstance } from './stowResources.js';

export const STOW_PART_TYPE = 'application/dicom';
/** Files up to this size are read whole (a few ahead); bigger ones are streamed. */
const WHOLE_FILE_MAX = 1024 * 1024;
/** Small files read ahead of the writer. */
const READ_AHEAD = 4;
/** Parts are gathered into writes of about this size. */
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

/** A Readable of the whole body; reads files only as the consumer pulls (backpressure). */
export function stowBody(instances: StowInstance[], options: StowBodyOptions): Readable {
  const { boundary, signal, onBytes, onInstance, failure, what } = options;
  const writer = new MultipartWriter(STOW_PART_TYPE, boundary);

  const checkSize = (instance: StowInstance, read: number) => {
    if (read !== instance.size) {
      throw new AppError('store-corrupt', `${what}: the stored file of instance ${instance.id} has ${read} bytes, the index says ${instance.size} (${instance.path})`);
    }
  };
  // No abort signal on these short reads (one listener each would pile up on the
  // job's signal): cancel is checked between parts.
  const readWhole = (instance: StowInstance): Promise<Buffer> =>
    readFile(instance.path).catch((err: NodeJS.ErrnoException) => {
      throw new AppError('store-corrupt', `${what}: cannot read the stored file of instance ${instance.id} (${instance.path}): ${err.code ?? err.message}`);
    });

  async function* generate(): AsyncGenerator<Buffer> {
    const ahead = new Map<number, Promise<Buffer>>();
    let next = 0; // next index whose read may start
    const startReads = (from: number) => {
      if (next < from) next = from;
      while (next < instances.length && next < from + READ_AHEAD) {
        if (instances[next]!.size <= WHOLE_FILE_MAX) {
          const p = readWhole(instances[next]!);
          p.catch(() => undefined); // awaited later; an early failure must not be unhandled
          ahead.set(next, p);
        }
        next++;
      }
    };

    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = (): Buffer => {
      const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      onBytes(out.length);
      return out;
    };

    try {
      for (let i = 0; i < instances.length; i++) {
        if (signal.aborted) throw new AppError('cancelled', `${what}: cancelled`);
        const instance = instances[i]!;
        startReads(i + 1);
        pending.push(writer.partHead(partHeaders(instance)));
        pendingBytes += pending[pending.length - 1]!.length;
        if (instance.size <= WHOLE_FILE_MAX) {
          const bytes = await (ahead.get(i) ?? readWhole(instance));
          ahead.delete(i);
          checkSize(instance, bytes.length);
          pending.push(bytes);
          pendingBytes += bytes.length;
          onInstance(instance);
          if (pendingBytes >= WRITE_SIZE) yield take();
        } else {
          if (pendingBytes > 0) yield take();
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
        }
      }
      pending.push(writer.end());
      pendingBytes += pending[pending.length - 1]!.length;
      yield take();
    } catch (err) {
      failure.error = err instanceof AppError ? err : new AppError('internal', `${what}: ${(err as Error).message}`);
      throw failure.error;
    } finally {
      ahead.clear();
    }
  }

  return Readable.from(generate(), { objectMode: false, highWaterMark: WRITE_SIZE });
}

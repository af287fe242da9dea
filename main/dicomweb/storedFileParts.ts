/**
 * Sends the multipart/related body of a WADO-RS retrieve (PS3.18 10.4.1.1.1;
 * framing of PS3.18 8.6.1.2 / RFC 2387): one part per stored Part-10 file,
 * its bytes unchanged, read from disk ahead of the socket.
 *
 * Written by hand because no stream helper reads many files ahead within a
 * memory bound and writes them in few large writes: one createReadStream
 * after another costs four thread-pool round trips per file, strictly in
 * sequence, and a socket write or more per small chunk.
 * Here the answer is laid out, in order, into a pool of slabs (1 MiB each,
 * `maxBytesAhead` = 16 MiB per answer at most, reused):
 * - part heads are written into the current slab, and the file ranges that
 *   follow them are read straight into it by the reader thread
 *   (fileRangeReader.ts), a few slabs per message;
 * - a slab, once read, is one socket write; the next write waits for
 *   'drain', and a slab returns to the pool only once the socket has written
 *   it, so memory stays within the pool however slow the client, and
 *   reading stops while the pool is full;
 * - when the client goes away, nothing more is laid out or read.
 * Nothing is sent until the first slab is read, so a missing or short first
 * file is a clean error answer; a later one cuts the connection (the status
 * is sent). The reply is hijacked once the first slab is read: the headers
 * set so far (Content-Type, CORS from the onRequest hooks) are written as is.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { readFileRanges, type FileRange } from './fileRangeReader.js';
import type { MultipartWriter } from './multipart.js';

/** One part to send: its headers and the stored file that is its body. */
export interface StoredFilePart {
  headers: Record<string, string | number>;
  /** Absolute path of the stored file. */
  path: string;
  /** Bytes to send: the file size the index recorded (also the part's Content-Length). */
  size: number;
  /** What the file is, for error messages ("instance 1.2.3"). */
  what: string;
}

export interface StoredFilePartsOptions {
  /** Size of one slab: one socket write, and the largest single file read. Default 1 MiB. */
  slabSize?: number;
  /** Slabs in the pool times slabSize: the memory one answer may hold. Default 16 MiB. */
  maxBytesAhead?: number;
}

/** Slabs laid out at a time once the answer runs (one message to the reader thread). */
const REFILL_BATCH = 4;

const DEFAULTS: Required<StoredFilePartsOptions> = {
  slabSize: 1024 * 1024,
  maxBytesAhead: 16 * 1024 * 1024,
};

/**
 * Slabs no answer is using, kept for the next answers (a SharedArrayBuffer is
 * a zero-filled allocation, too dear to make sixteen per answer): at most
 * MAX_IDLE_BYTES (one answer's pool), all dropped after IDLE_RELEASE_MS
 * without a retrieve.
 */
const idleSlabs: SharedArrayBuffer[] = [];
let idleBytes = 0;
const MAX_IDLE_BYTES = 16 * 1024 * 1024;
const IDLE_RELEASE_MS = 30_000;
let releaseTimer: NodeJS.Timeout | null = null;

function takeIdleSlab(size: number): SharedArrayBuffer | null {
  for (let i = idleSlabs.length - 1; i >= 0; i--) {
    if (idleSlabs[i]!.byteLength === size) {
      idleBytes -= size;
      return idleSlabs.splice(i, 1)[0]!;
    }
  }
  return null;
}

function keepIdleSlab(memory: SharedArrayBuffer): void {
  if (idleBytes + memory.byteLength > MAX_IDLE_BYTES) return;
  idleSlabs.push(memory);
  idleBytes += memory.byteLength;
  releaseTimer?.refresh();
  releaseTimer ??= setTimeout(() => {
    idleSlabs.length = 0;
    idleBytes = 0;
    releaseTimer = null;
  }, IDLE_RELEASE_MS).unref();
}

/** A pool slab being filled with the next bytes of the answer. */
interface Slab {
  memory: SharedArrayBuffer;
  buffer: Buffer;
  filled: number;
  /** File ranges to read into it, and the part each belongs to (for error messages). */
  ranges: FileRange[];
  rangeParts: StoredFilePart[];
  /** Laid out completely; its ranges are being read (or were). */
  sealed: boolean;
  reading: boolean;
  error: AppError | null;
}

class MultipartFileSender {
  private readonly options: Required<StoredFilePartsOptions>;
  private readonly maxSlabs: number;
  private readonly free: SharedArrayBuffer[] = [];
  private slabs = 0;
  /** Slabs being read or waiting for the socket, in answer order. */
  private queue: Slab[] = [];
  /** Sealed slabs whose ranges are not yet handed to the reader thread. */
  private unread: Slab[] = [];

  // Layout cursor: the parts to come, the head being copied, the file being laid out.
  private readonly nextParts: Iterator<StoredFilePart>;
  private partsDone = false;
  private head: string | null = null;
  private headAt = 0;
  private file: StoredFilePart | null = null;
  private fileAt = 0;
  private closeLaidOut = false;
  private laidOut = false;

  private res: ServerResponse | null = null;
  private waitingDrain = false;
  private stopped = false;
  private firstReady: { resolve: () => void; reject: (err: Error) => void } | null = null;

  constructor(
    private readonly writer: MultipartWriter,
    parts: Iterable<StoredFilePart>,
    options: StoredFilePartsOptions,
  ) {
    this.nextParts = parts[Symbol.iterator]();
    this.options = { ...DEFAULTS, ...options };
    this.maxSlabs = Math.max(2, Math.floor(this.options.maxBytesAhead / this.options.slabSize));
  }

  /** Starts reading; resolves once the first slab is read, rejects if it could not be. */
  prepare(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.firstReady = { resolve, reject };
      this.pump();
    });
  }

  /** Sends the answer on `res` (headers already written). */
  start(res: ServerResponse): void {
    this.res = res;
    res.on('close', () => this.stop());
    if (res.destroyed) this.stop();
    else this.pump();
  }

  /** Lays out nothing more and drops what was read ahead (client gone, HEAD, failure, or done). */
  stop(): void {
    this.stopped = true;
    // Slabs still being read or written are left to the collector; free ones serve the next answers.
    for (const slab of this.queue) if (!slab.reading) keepIdleSlab(slab.memory);
    this.queue = [];
    for (const memory of this.free) keepIdleSlab(memory);
    this.free.length = 0;
  }

  private pump(): void {
    if (this.stopped) return;
    // Refill in batches of a few slabs (one message to the reader thread each), or at once when starved.
    if (this.queue.length === 0 || this.available() >= Math.min(REFILL_BATCH, this.maxSlabs / 2)) {
      this.layOut();
      this.readUnread();
    }
    if (this.res) this.write();
    else this.checkFirstReady();
  }

  private checkFirstReady(): void {
    const front = this.queue[0];
    if (!this.firstReady || !front || front.reading) return;
    if (front.error) this.firstReady.reject(front.error);
    else this.firstReady.resolve();
    this.firstReady = null;
  }

  private available(): number {
    return this.free.length + this.maxSlabs - this.slabs;
  }

  private acquire(): SharedArrayBuffer | null {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.slabs >= this.maxSlabs) return null;
    this.slabs++;
    return takeIdleSlab(this.options.slabSize) ?? new SharedArrayBuffer(this.options.slabSize);
  }

  /** Lays the answer out into slabs until it is all laid out or the pool is exhausted. */
  private layOut(): void {
    let slab = this.queue.at(-1);
    while (!this.laidOut) {
      if (this.head === null && this.file === null) {
        const next = this.partsDone ? undefined : this.nextParts.next();
        if (next && !next.done) {
          this.head = this.writer.partHeadText(next.value.headers);
          this.file = next.value;
        } else if (!this.closeLaidOut) {
          this.partsDone = true;
          this.head = this.writer.endText();
          this.closeLaidOut = true;
        } else {
          this.laidOut = true;
          if (slab && !slab.sealed) this.seal(slab);
          return;
        }
        this.headAt = 0;
        this.fileAt = 0;
      }

      if (slab === undefined || slab.sealed) {
        const memory = this.acquire();
        if (memory === null) return;
        slab = { memory, buffer: Buffer.from(memory), filled: 0, ranges: [], rangeParts: [], sealed: false, reading: false, error: null };
        this.queue.push(slab);
      }
      const space = slab.buffer.length - slab.filled;

      if (this.head !== null) {
        const n = Math.min(space, this.head.length - this.headAt);
        slab.buffer.write(this.headAt === 0 ? this.head : this.head.slice(this.headAt), slab.filled, n, 'latin1');
        slab.filled += n;
        this.headAt += n;
        if (this.headAt === this.head.length) this.head = null;
      } else if (this.file !== null) {
        const n = Math.min(space, this.file.size - this.fileAt);
        if (n > 0) {
          slab.ranges.push({ path: this.file.path, at: slab.filled, length: n, position: this.fileAt });
          slab.rangeParts.push(this.file);
          slab.filled += n;
          this.fileAt += n;
        }
        if (this.fileAt === this.file.size) this.file = null;
      }
      if (slab.filled === slab.buffer.length) this.seal(slab);
    }
  }

  /** The slab is laid out: its file ranges are to be read. */
  private seal(slab: Slab): void {
    slab.sealed = true;
    if (slab.ranges.length === 0) return;
    slab.reading = true;
    this.unread.push(slab);
  }

  /** Hands the sealed slabs to the reader thread, in one message. */
  private readUnread(): void {
    if (this.unread.length === 0) return;
    const slabs = this.unread;
    this.unread = [];
    readFileRanges(slabs, (k, failure) => {
      for (const slab of k < 0 ? slabs : [slabs[k]!]) {
        slab.reading = false;
        if (failure) {
          const part = slab.rangeParts[failure.index];
          slab.error = part
            ? new AppError('store-corrupt', `the stored file of ${part.what} cannot be read (${failure.reason}); the index and the storage directory disagree`)
            : new AppError('internal', failure.reason);
        }
      }
      this.pump();
    });
  }

  /** Writes the slabs that are read, in order, one at a time after each 'drain'. */
  private write(): void {
    const res = this.res!;
    while (!this.waitingDrain && !this.stopped) {
      const front = this.queue[0];
      if (front === undefined) {
        if (this.laidOut) {
          res.end();
          this.stop();
        }
        return;
      }
      if (front.reading) return;
      if (front.error) {
        this.stop();
        res.destroy(); // the status is sent: cutting the connection is the only signal left
        return;
      }
      this.queue.shift();
      const { memory, buffer, filled } = front;
      const written = res.write(filled === buffer.length ? buffer : buffer.subarray(0, filled), (err) => {
        if (err) return;
        // The socket is done with it.
        if (this.stopped) keepIdleSlab(memory);
        else {
          this.free.push(memory);
          this.pump();
        }
      });
      if (!written) {
        this.waitingDrain = true;
        res.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
      }
    }
  }
}

/**
 * Answers `reply` with the multipart body of `parts` (status and headers
 * already set on `reply`, e.g. Content-Type and the CORS headers of the
 * onRequest hooks). Throws, before anything is sent, when the first file
 * cannot be read; afterwards the reply is hijacked and written directly.
 */
export async function sendStoredFileParts(
  request: FastifyRequest,
  reply: FastifyReply,
  writer: MultipartWriter,
  parts: Iterable<StoredFilePart>,
  options: StoredFilePartsOptions = {},
): Promise<void> {
  const sender = new MultipartFileSender(writer, parts, options);
  try {
    await sender.prepare();
  } catch (err) {
    sender.stop();
    throw err;
  }
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(reply.statusCode);
  if (request.method === 'HEAD') {
    sender.stop();
    res.end();
    return;
  }
  sender.start(res);
}

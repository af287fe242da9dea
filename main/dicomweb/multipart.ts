/**
 * multipart/related bodies (RFC 2387 over RFC 2046 5.1) as DICOMweb uses them
 * (PS3.18 8.6 and 8.7): a streaming reader for STOW-RS requests and writer
 * helpers for streamed WADO-RS answers.
 *
 * The framing is written by hand: busboy only does multipart/form-data, and
 * streamsearch (Boyer-Moore-Horspool in JavaScript, one callback per slice)
 * would not save code here, since a DICOM part must be held whole anyway; the
 * reader only needs the delimiter position, which Buffer.indexOf (native)
 * finds. One part is in memory at a time, never the whole request, and it
 * stays in the pieces it arrived in unless its consumer asks for one Buffer.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { formatParam } from './mediaType.js';

export interface MultipartPart {
  /** Header names lower-cased, values trimmed. */
  headers: Record<string, string>;
  /**
   * The part's body as it arrived: slices of the source's chunks, in order, not
   * copied (empty when `oversize` is set). A consumer that can take the pieces
   * (STOW-RS writes them with one writev) saves joining a big part.
   */
  chunks: Buffer[];
  /** Length of the body in bytes (0 when `oversize` is set). */
  size: number;
  /** The body in one Buffer, joined from `chunks` on first use. */
  readonly body: Buffer;
  /** Set when the body exceeded `maxPartSize`: its size in bytes; the bytes were discarded. */
  oversize?: number;
}

/** A part read; its body is joined only when asked for. */
class ReadPart implements MultipartPart {
  private joined: Buffer | undefined;

  constructor(
    readonly headers: Record<string, string>,
    readonly chunks: Buffer[],
    readonly size: number,
    readonly oversize?: number,
  ) {}

  get body(): Buffer {
    this.joined ??= this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    return this.joined;
  }
}

export interface MultipartReadOptions {
  /** Largest part body kept in memory (bytes); bigger parts are reported with `oversize`. Default: no limit. */
  maxPartSize?: number;
  /** Largest header block of one part (bytes). Default 64 KiB. */
  maxHeaderSize?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const HYPHEN = 0x2d;
const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** Longest transport padding (RFC 2046 LWSP after a boundary) we wait for. */
const MAX_PADDING = 256;

type Delimiter = { kind: 'need-more' } | { kind: 'not-a-delimiter' } | { kind: 'close' } | { kind: 'part'; next: number };

/**
 * What follows `\r\n--boundary` at `at`: `--` closes the body; optional
 * spaces/tabs then CRLF opens a part; anything else means these bytes were
 * part data that merely looked like a delimiter.
 */
function classifyDelimiter(buf: Buffer, at: number): Delimiter {
  if (buf.length - at < 2) return { kind: 'need-more' };
  if (buf[at] === HYPHEN && buf[at + 1] === HYPHEN) return { kind: 'close' };
  let j = at;
  while (j < buf.length && (buf[j] === 0x20 || buf[j] === 0x09)) j++;
  if (j - at > MAX_PADDING) return { kind: 'not-a-delimiter' };
  if (j + 1 >= buf.length) return { kind: 'need-more' };
  if (buf[j] === CR && buf[j + 1] === LF) return { kind: 'part', next: j + 2 };
  return { kind: 'not-a-delimiter' };
}

/** Length of the longest suffix of `buf` that is a proper prefix of `delim` (a delimiter split across chunks). */
function partialDelimiterLength(buf: Buffer, delim: Buffer): number {
  for (let j = Math.max(0, buf.length - delim.length + 1); j < buf.length; j++) {
    if (buf[j] === CR && buf.subarray(j).equals(delim.subarray(0, buf.length - j))) return buf.length - j;
  }
  return 0;
}

/** Whether `head` followed by `tail` starts with `delim` (`tail` holds at least delim.length bytes). */
function startsWithDelimiter(head: Buffer, tail: Buffer, delim: Buffer): boolean {
  const n = Math.min(head.length, delim.length);
  if (!head.subarray(0, n).equals(delim.subarray(0, n))) return false;
  return n === delim.length || tail.subarray(0, delim.length - n).equals(delim.subarray(n));
}

function parseHeaders(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let last: string | undefined;
  for (const line of block.toString('latin1').split('\r\n')) {
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last !== undefined) {
      headers[last] += ' ' + line.trim(); // obsolete line folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new AppError('bad-request', `multipart part header line without a name: ${JSON.stringify(line.slice(0, 80))}`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Validates a boundary parameter (RFC 2046: 1 to 70 characters, no trailing space). */
export function checkBoundary(boundary: string | undefined): string {
  if (!boundary) throw new AppError('bad-request', 'multipart Content-Type has no boundary parameter');
  if (boundary.length > 200 || boundary.endsWith(' ') || /[\r\n]/.test(boundary)) {
    throw new AppError('bad-request', `multipart boundary ${JSON.stringify(boundary.slice(0, 80))} is not valid (RFC 2046: 1 to 70 characters, no trailing space)`);
  }
  return boundary;
}

/**
 * Reads the parts of a multipart body as they arrive. Each part is yielded once
 * complete; the source is not read further until the consumer asks for the next
 * part (backpressure). Throws AppError('bad-request') when the body is not
 * well-formed (no delimiter, truncated before the closing delimiter…), after
 * having yielded every part completed before the fault.
 */
export async function* readMultipart(
  source: AsyncIterable<Uint8Array | string>,
  boundary: string,
  options: MultipartReadOptions = {},
): AsyncGenerator<MultipartPart, void, undefined> {
  checkBoundary(boundary);
  const maxPartSize = options.maxPartSize ?? Number.POSITIVE_INFINITY;
  const maxHeaderSize = options.maxHeaderSize ?? 64 * 1024;
  const delim = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const L = delim.length;

  let state: 'preamble' | 'headers' | 'body' | 'epilogue' = 'preamble';
  // A virtual CRLF in front, so that a delimiter on the very first line is found.
  let pending: Buffer = CRLF;
  let headers: Record<string, string> = {};
  let body: Buffer[] = [];
  let bodySize = 0;
  let parts = 0;

  const addBody = (bytes: Buffer) => {
    if (bytes.length === 0) return;
    bodySize += bytes.length;
    if (bodySize <= maxPartSize) body.push(bytes);
    else body = [];
  };
  const takePart = (): MultipartPart => {
    const part = bodySize > maxPartSize ? new ReadPart(headers, [], 0, bodySize) : new ReadPart(headers, body, bodySize);
    headers = {};
    body = [];
    bodySize = 0;
    parts++;
    return part;
  };

  for await (const chunk of source) {
    if (state === 'epilogue') continue; // drain, ignore
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (pending.length === 0) pending = bytes;
    else if (state === 'body' && pending.length < L + MAX_PADDING + 2 && bytes.length >= L && !startsWithDelimiter(pending, bytes, delim)) {
      // Between parts' delimiters, `pending` only holds the start of what might
      // have been one (it begins with CR; the delimiter has no other CR). When
      // the new chunk shows it is not one, those bytes are part data and the
      // chunk is scanned where it lies: no copy of every chunk into `pending`.
      addBody(pending);
      pending = bytes;
    } else pending = Buffer.concat([pending, bytes]);

    scan: while (state !== 'epilogue') {
      if (state === 'headers') {
        if (pending.length >= 2 && pending[0] === CR && pending[1] === LF) {
          // No headers at all: the blank line follows the delimiter line.
          headers = {};
          pending = pending.subarray(2);
          state = 'body';
          continue;
        }
        const end = pending.indexOf(CRLFCRLF);
        if (end < 0) {
          if (pending.length > maxHeaderSize) {
            throw new AppError('bad-request', `multipart part ${parts + 1}: headers longer than ${maxHeaderSize} bytes`);
          }
          break;
        }
        headers = parseHeaders(pending.subarray(0, end));
        pending = pending.subarray(end + 4);
        state = 'body';
        continue;
      }

      // preamble or body: look for the next real delimiter.
      let from = 0;
      for (;;) {
        const i = pending.indexOf(delim, from);
        if (i < 0) {
          const keep = partialDelimiterLength(pending, delim);
          if (state === 'body') addBody(pending.subarray(0, pending.length - keep));
          pending = pending.subarray(pending.length - keep);
          break scan;
        }
        const found = classifyDelimiter(pending, i + L);
        if (found.kind === 'not-a-delimiter') {
          from = i + 1;
          continue;
        }
        if (found.kind === 'need-more') {
          if (state === 'body') addBody(pending.subarray(0, i));
          pending = pending.subarray(i);
          break scan;
        }
        const wasBody = state === 'body';
        if (wasBody) addBody(pending.subarray(0, i));
        if (found.kind === 'close') {
          state = 'epilogue';
          pending = Buffer.alloc(0);
        } else {
          state = 'headers';
          pending = pending.subarray(found.next);
        }
        if (wasBody) yield takePart();
        continue scan;
      }
    }
  }

  if (state === 'preamble') {
    throw new AppError('bad-request', `multipart body has no delimiter "--${boundary}" (the boundary of its Content-Type)`);
  }
  if (state !== 'epilogue') {
    throw new AppError(
      'bad-request',
      `multipart body ended inside part ${parts + 1}, before the closing delimiter "--${boundary}--" (${parts} complete part${parts === 1 ? '' : 's'} before it)`,
    );
  }
}

// --- Writing -----------------------------------------------------------------

/** A fresh random boundary (token characters only, so it needs no quotes). */
export function newBoundary(): string {
  return `DICOMwebBoundary-${randomBytes(12).toString('hex')}`;
}

/** `multipart/related; type="…"; boundary=…` (type quoted as PS3.18 examples do). */
export function multipartContentType(partType: string, boundary: string): string {
  return `multipart/related; type="${partType}"; boundary=${formatParam(boundary)}`;
}

/** Writes the framing of a multipart/related answer: part heads and the closing delimiter. */
export class MultipartWriter {
  private first = true;

  constructor(
    /** Media type of the parts (the `type` parameter). */
    readonly partType: string,
    readonly boundary: string = newBoundary(),
  ) {}

  get contentType(): string {
    return multipartContentType(this.partType, this.boundary);
  }

  /** Delimiter line and headers of the next part, up to and including the blank line. */
  partHead(headers: Record<string, string | number>): Buffer {
    return Buffer.from(this.partHeadText(headers), 'latin1');
  }

  /** partHead as text, to be written as latin1 (for writers that copy it into their own buffers). */
  partHeadText(headers: Record<string, string | number>): string {
    let head = `${this.first ? '' : '\r\n'}--${this.boundary}\r\n`;
    this.first = false;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    return head + '\r\n';
  }

  /** The close delimiter. */
  end(): Buffer {
    return Buffer.from(this.endText(), 'latin1');
  }

  /** end() as text, to be written as latin1. */
  endText(): string {
    const close = `${this.first ? '' : '\r\n'}--${this.boundary}--\r\n`;
    this.first = false;
    return close;
  }
}

/** One part of a streamed answer: its headers, and a body given whole or as a stream of chunks. */
export interface OutgoingPart {
  headers: Record<string, string | number>;
  body: Buffer | AsyncIterable<Buffer | Uint8Array>;
}

/**
 * A Readable of the whole multipart body. Parts are pulled lazily from `parts`
 * and their bodies copied chunk by chunk only when the consumer reads
 * (Readable.from respects backpressure), so a big answer is never held in memory.
 */
export function multipartStream(writer: MultipartWriter, parts: Iterable<OutgoingPart> | AsyncIterable<OutgoingPart>): Readable {
  async function* generate(): AsyncGenerator<Buffer | Uint8Array> {
    for await (const part of parts) {
      yield writer.partHead(part.headers);
      if (Buffer.isBuffer(part.body)) yield part.body;
      else for await (const chunk of part.body) yield chunk;
    }
    yield writer.end();
  }
  return Readable.from(generate(), { objectMode: false, highWaterMark: 64 * 1024 });
}

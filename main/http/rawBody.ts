/**
 * Request bodies. application/json is parsed by fastify (1 MiB limit); every
 * other content type — and a body without Content-Type — is left UNCONSUMED:
 * `request.body` is then the raw request stream (a Readable, the
 * http.IncomingMessage), so STOW-RS (multipart/related) and POST /instances can
 * stream it. A handler that does not read it may leave it: Node discards the
 * rest when the answer ends. No size limit applies to such streams; the handler
 * enforces its own (e.g. DicomWeb.StowMaxSize) — see readBodyBuffer.
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

export function passBodiesThrough(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function';
}

/** The unconsumed body stream; 400 when there is no body, 415 when fastify parsed it (JSON). */
export function requestBodyStream(request: FastifyRequest, what: string): Readable {
  if (isReadable(request.body)) return request.body;
  if (request.body === undefined || request.body === null) throw new AppError('bad-request', `${what}: the request has no body`);
  throw new AppError('unsupported-media-type', `${what}: Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here`);
}

/** Reads the whole unconsumed body, refusing (413) more than `maxBytes`. */
export async function readBodyBuffer(request: FastifyRequest, what: string, maxBytes: number): Promise<Buffer> {
  const stream = requestBodyStream(request, what);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AppError('payload-too-large', `${what}: the body is ${declared} bytes, more than the ${maxBytes} accepted`);
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      // Keep the stream flowing so the rest is discarded and the connection stays usable for the answer.
      stream.resume();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) fail(new AppError('payload-too-large', `${what}: the body is more than the ${maxBytes} bytes accepted`));
      else chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, total));
    });
    stream.once('error', (err) => fail(new AppError('bad-request', `${what}: the request body could not be read: ${err.message}`)));
    stream.once('close', () => fail(new AppError('bad-request', `${what}: the request body ended early (connection closed)`)));
  });
}

/**
 * The first `bytes` bytes of the unconsumed body, left in the stream for the
 * next reader (readBodyBuffer, writeBodyToFile); `whole` when the body is no
 * longer than that (it has ended: nothing is left to read).
 */
export async function peekBody(request: FastifyRequest, what: string, bytes: number): Promise<{ head: Buffer; whole?: Buffer }> {
  const stream = requestBodyStream(request, what);
  const chunks: Buffer[] = [];
  let length = 0;
  const ended = await new Promise<boolean>((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      for (let chunk: Buffer | null; length < bytes && (chunk = stream.read() as Buffer | null) !== null; ) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= bytes) {
        cleanup();
        resolve(false);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve(true);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AppError('bad-request', `${what}: the request body could not be read: ${err.message}`));
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
  const head = Buffer.concat(chunks, length);
  if (ended) return { head, whole: head };
  stream.unshift(head);
  return { head };
}

/** Streams the unconsumed body into a new file at `path` (no size limit: the disk is the limit). */
export async function writeBodyToFile(request: FastifyRequest, what: string, path: string): Promise<number> {
  const stream = requestBodyStream(request, what);
  let written = 0;
  stream.on('data', (chunk: Buffer) => (written += chunk.length));
  try {
    await pipeline(stream, createWriteStream(path, { flags: 'wx' }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOSPC') throw new AppError('internal', `${what}: the disk is full after ${written} bytes of the body`);
    throw new AppError('bad-request', `${what}: the request body could not be read and saved: ${e.message}`);
  }
  return written;
}

/** Largest JSON body read from a stream (Orthanc-style bodies sent with another Content-Type, e.g. curl -d). */
const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

/** The request body as a JSON value, whether fastify parsed it or left it as a stream. */
export async function readJsonBody(request: FastifyRequest, what: string): Promise<unknown> {
  const body = request.body;
  if (body === undefined || body === null) throw new AppError('bad-request', `${what}: the request has no body (a JSON object is expected)`);
  if (typeof (body as { pipe?: unknown }).pipe !== 'function') return body; // parsed as application/json
  const bytes = await readBodyBuffer(request, what, MAX_JSON_BODY_BYTES);
  const text = bytes.toString('utf8').trim();
  if (text.length === 0) throw new AppError('bad-request', `${what}: the request body is empty (a JSON object is expected)`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('bad-request', `${what}: the request body is not JSON (${(err as Error).message})`);
  }
}

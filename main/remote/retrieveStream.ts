/**
 * One WADO-RS request (PS3.18 10.4.1 Retrieve Instances, answer
 * `multipart/related; type="application/dicom"`, PS3.18 8.6.1.2) streamed
 * into the local store: the multipart answer is parsed as it arrives
 * (main/dicomweb/multipart.ts), whole parts are stored in small batches
 * (store.storeInstances is atomic per instance; a batch is full at 32
 * instances or 2 MB, or after 200 ms for slow answers), and the next batch is
 * read while the previous one is being written. A few batches per request are
 * in memory at most, never the whole series.
 *
 * A part is whole only once the delimiter after it has arrived: when the
 * connection is reset, the answer is malformed or the job is cancelled, the
 * parts received whole before are stored, the truncated one never is, and the
 * error says what happened, naming the server and the URL.
 */
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { parseMediaType } from '../dicomweb/mediaType.js';
import { readMultipart } from '../dicomweb/multipart.js';
import { streamChunks } from './streamChunks.js';
import type { FileBytes, Store } from '../store/types.js';
import { remoteStatusError } from './httpClient.js';
import type { RemoteClient, RemoteResponse } from './types.js';

/** WADO-RS Accept: the instances as stored, any transfer syntax (PS3.18 8.7.3.5.2). */
export const WADO_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*';

export interface BatchLimits {
  /** Instances per storeInstances call. */
  instances: number;
  /** Bytes per storeInstances call (a bigger instance goes alone). */
  bytes: number;
  /** Longest time a whole part waits for its batch to fill (slow answers), in ms. */
  maxWaitMs: number;
  /** Batches being written at the same time, per request. */
  inflight: number;
}

export const DEFAULT_BATCH: BatchLimits = { instances: 32, bytes: 2 * 1024 * 1024, maxWaitMs: 200, inflight: 2 };

export interface RetrieveFailure {
  /** Where the part came from. */
  Url: string;
  SOPInstanceUID?: string;
  Reason: string;
}

/** What one request brought; filled as it goes, so it is meaningful after a failure too. */
export interface StreamTally {
  /** Local Orthanc IDs of the instances stored (or already stored), in the order received (set at the end). */
  instances: string[];
  failures: RetrieveFailure[];
  /** Bytes of the answer body read from the network. */
  networkBytes: number;
  /** Parts received whole. */
  parts: number;
}

export interface StreamEvents {
  /** Bytes read from the network (each chunk). */
  onBytes(n: number): void;
  /** An instance entered the store (its Orthanc ID). */
  onStored(id: string): void;
  /** A part the store refused. */
  onFailure(failure: RetrieveFailure): void;
}

export interface StreamRetrieveArgs {
  client: RemoteClient;
  server: string;
  store: Store;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  signal: AbortSignal;
  batch?: BatchLimits;
  events: StreamEvents;
}

function header(headers: RemoteResponse['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Up to `max` bytes of an error answer, as text for the message (the rest is dropped). */
async function snippet(body: Readable, max = 2048): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= max) break;
    }
  } catch {
    // the error status is what matters
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/** Counts the bytes of `source` as they pass (chunk by chunk, not joined: streamChunks.ts). */
async function* counted(source: Readable, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const bytes of streamChunks(source)) {
    onBytes(bytes.length);
    yield bytes;
  }
}

/** Headers for the request: ours, then the caller's (their Accept wins if they gave one). */
export function withAccept(headers: Record<string, string>, accept: string): Record<string, string> {
  const hasAccept = Object.keys(headers).some((name) => name.toLowerCase() === 'accept');
  return hasAccept ? { ...headers } : { ...headers, Accept: accept };
}

/** Any error of a request or of reading its answer, as an AppError naming the server and the URL. */
export function transferError(server: string, url: string, err: unknown, signal: AbortSignal, received: number): AppError {
  const action = `retrieve from '${server}'`;
  const after = `after ${received} whole instance${received === 1 ? '' : 's'}`;
  if (signal.aborted) return new AppError('cancelled', `${action}: cancelled while reading ${url} ${after}`, { url });
  if (err instanceof AppError) {
    if (err.kind === 'bad-request') {
      // readMultipart's sentences: the answer, not our caller, is at fault.
      return new AppError('remote-status', `${action}: malformed multipart answer from ${url} ${after}: ${err.message}`, { url, status: 200, malformed: true });
    }
    const reason = typeof err.details?.reason === 'string' ? err.details.reason : err.message;
    return new AppError(err.kind, `${action}: ${reason}${received > 0 ? ` (${after})` : ''}`, { ...err.details, url });
  }
  const e = err as NodeJS.ErrnoException;
  const why = e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? `, ${e.message}` : ''}` : String(e?.message ?? err);
  return new AppError('remote-unreachable', `${action}: the answer from ${url} was cut ${after} (${why})`, { url });
}

/**
 * GET the WADO-RS `path` and store every instance of the answer. Resolves with
 * the tally when the answer ended properly; otherwise stores what arrived whole
 * and rejects with an AppError ('remote-status', 'remote-unreachable', 'cancelled').
 */
export async function streamRetrieve(args: StreamRetrieveArgs): Promise<StreamTally> {
  const { client, server, store, signal, events } = args;
  const limits = args.batch ?? DEFAULT_BATCH;
  const tally: StreamTally = { instances: [], failures: [], networkBytes: 0, parts: 0 };
  const where = `retrieve from '${server}'`;

  let response: RemoteResponse;
  try {
    response = await client.request({ method: 'GET', path: args.path, query: args.query, headers: withAccept(args.headers, WADO_ACCEPT), signal });
  } catch (err) {
    throw transferError(server, args.path, err, signal, 0);
  }
  const { url, status, body } = response;
  if (status >= 400) {
    const type = String(header(response.headers, 'content-type') ?? '');
    const text = /json|text|xml/i.test(type) || type === '' ? await snippet(body) : (body.destroy(), undefined);
    throw remoteStatusError(server, where, status, url, text);
  }
  if (status === 204) {
    body.destroy();
    return tally;
  }
  const contentType = header(response.headers, 'content-type') ?? '';
  let boundary: string | undefined;
  try {
    const type = parseMediaType(contentType);
    if (type.mediaType === 'multipart/related') boundary = type.params.boundary;
  } catch {
    // reported below
  }
  if (!boundary) {
    body.destroy();
    throw new AppError(
      'remote-status',
      `${where}: ${url} answered HTTP ${status} with Content-Type ${JSON.stringify(contentType)}, not multipart/related with a boundary (PS3.18 8.6.1.2)`,
      { status, url, malformed: true },
    );
  }

  // Whole parts waiting to be stored, and the batches being stored (at most `limits.inflight` at once).
  let batch: FileBytes[] = [];
  let batchBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  /** Per batch, in the order received: the IDs stored (the tally lists them in that order). */
  const stored: string[][] = [];
  const storing = new Set<Promise<void>>();
  let storeError: { error: unknown } | undefined;

  const storeBatch = async (files: FileBytes[], slot: string[]) => {
    const outcomes = await store.storeInstances(files);
    for (const outcome of outcomes) {
      if (outcome.ok) {
        slot.push(outcome.ids.instance);
        events.onStored(outcome.ids.instance);
      } else {
        const failure: RetrieveFailure = { Url: url, Reason: outcome.message, ...(outcome.sopInstanceUID ? { SOPInstanceUID: outcome.sopInstanceUID } : {}) };
        tally.failures.push(failure);
        events.onFailure(failure);
      }
    }
  };
  /** Hands the current batch to the store. */
  const handOff = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const files = batch;
    batch = [];
    batchBytes = 0;
    const slot: string[] = [];
    stored.push(slot);
    const p: Promise<void> = storeBatch(files, slot).then(
      () => void storing.delete(p),
      (error: unknown) => {
        storing.delete(p);
        storeError ??= { error };
      },
    );
    storing.add(p);
  };
  /** Waits until fewer than `room` batches are being stored. */
  const drain = async (room: number) => {
    while (storing.size >= room) await Promise.race(storing);
    if (storeError) throw storeError.error;
  };

  let readError: unknown;
  try {
    const source = counted(body, (n) => {
      tally.networkBytes += n;
      events.onBytes(n);
    });
    for await (const part of readMultipart(source, boundary)) {
      tally.parts++;
      const type = part.headers['content-type'];
      let partType: string | undefined;
      try {
        partType = type === undefined ? undefined : parseMediaType(type).mediaType;
      } catch {
        partType = type;
      }
      if (partType !== undefined && partType !== 'application/dicom') {
        const failure: RetrieveFailure = { Url: url, Reason: `part ${tally.parts} has Content-Type ${JSON.stringify(type)}, not application/dicom` };
        tally.failures.push(failure);
        events.onFailure(failure);
        continue;
      }
      batch.push(part.chunks.length === 1 ? part.chunks[0]! : part.chunks); // the pieces as received: written with one writev, never joined
      batchBytes += part.size;
      if (batch.length >= limits.instances || batchBytes >= limits.bytes) {
        // Batches are written while the next is read; no more than `inflight` (backpressure on the network).
        await drain(limits.inflight);
        handOff();
      } else if (!timer) {
        // A slow answer: parts do not wait for a full batch longer than this.
        timer = setTimeout(handOff, limits.maxWaitMs);
      }
    }
  } catch (err) {
    readError = err;
  } finally {
    body.destroy();
  }

  // Whatever arrived whole is kept, whatever happened after it.
  handOff();
  await drain(1);
  tally.instances = stored.flat();
  if (readError !== undefined) throw transferError(server, url, readError, signal, tally.parts);
  return tally;
}

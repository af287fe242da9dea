/**
 * WADO-RS Retrieve Metadata (PS3.18 10.4.1.1.2, metadata resources):
 *   GET {Root}studies/{study}[/series/{series}[/instances/{instance}]]/metadata
 * application/dicom+json (default; application/json too): a JSON array of the
 * instances' datasets (PS3.18 F.2), streamed from the stored JSON in the index
 * (no file read), bulk data URIs made absolute. application/dicom+xml:
 * multipart/related, one Native DICOM Model part per instance (PS3.19 A.1).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { datasetToXml } from '../dicom/xml.js';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { InstanceMetadata, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type DicomWebContext, type Transaction } from './context.js';
import { MultipartWriter, multipartStream, type OutgoingPart } from './multipart.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

const JSON_OFFER: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const XML_OFFER: Offer = { mediaType: 'multipart/related', partType: 'application/dicom+xml', aliases: ['application/xml', 'text/xml'] };

/** Size of the byte chunks the JSON answer is sent in. */
const JSON_CHUNK = 256 * 1024;

/** Plain UIDs (digits and dots) need no JSON escaping; anything else is escaped. */
const PLAIN_UID = /^[0-9.]*$/;

/** `text` escaped to sit inside a JSON string (the Host header in the base URL is client-supplied). */
function jsonEscaped(text: string): string {
  return PLAIN_UID.test(text) ? text : JSON.stringify(text).slice(1, -1);
}

/**
 * Chunks of JSON_CHUNK bytes, taken back once the socket has written them.
 * Fresh memory for every answer cost more than the writing itself: freed
 * buffers go back to the kernel between requests, and each page of a new one
 * faults and is zeroed on first touch (measured: ~4 ms to fill the 1.5 MB of
 * a 1000-instance answer into fresh chunks, ~0.1 ms into reused ones).
 */
const CHUNK_POOL: Buffer[] = [];
const MAX_POOLED_CHUNKS = 16;

function takeChunk(): Buffer {
  return CHUNK_POOL.pop() ?? Buffer.allocUnsafeSlow(JSON_CHUNK);
}

function giveChunk(chunk: Buffer): void {
  if (chunk.length === JSON_CHUNK && CHUNK_POOL.length < MAX_POOLED_CHUNKS) CHUNK_POOL.push(chunk);
}

/** Bytes to send, and the pooled chunk they lie in (given back once sent). */
interface OutChunk {
  bytes: Buffer;
  chunk: Buffer;
}

/**
 * Text written as UTF-8 straight into byte chunks of JSON_CHUNK bytes (no
 * intermediate string is built); full chunks wait in `ready`.
 */
class Utf8Chunks {
  readonly ready: OutChunk[] = [];
  private chunk = takeChunk();
  private at = 0;

  put(text: string): void {
    const most = 3 * text.length; // UTF-8 bytes per UTF-16 code unit, at most
    if (this.at + most > this.chunk.length) {
      this.flush();
      if (most > this.chunk.length) {
        giveChunk(this.chunk);
        this.chunk = Buffer.allocUnsafe(most); // not pooled (not JSON_CHUNK long)
      }
    }
    this.at += this.chunk.write(text, this.at);
  }

  flush(): void {
    if (this.at === 0) return;
    this.ready.push({ bytes: this.chunk.subarray(0, this.at), chunk: this.chunk });
    this.chunk = takeChunk();
    this.at = 0;
  }

  /** The chunk being filled, unused: back to the pool. */
  done(): void {
    giveChunk(this.chunk);
  }
}

/**
 * `[ds1,ds2,…]` in chunks of about JSON_CHUNK bytes. Each stored JSON text is
 * written once, in pieces around INSTANCE_URL_TOKEN, the instance URL in its
 * place (built from a prefix kept per series: only the SOP Instance UID is added).
 */
function* jsonArrayChunks(items: Iterable<InstanceMetadata>, base: string): Generator<OutChunk> {
  const baseJson = jsonEscaped(base);
  const out = new Utf8Chunks();
  let prefixKey = '';
  let prefix = '';
  let separator = '[';
  for (const { studyInstanceUID, seriesInstanceUID, sopInstanceUID, json } of items) {
    out.put(separator);
    separator = ',';
    let from = 0;
    for (let token = json.indexOf(INSTANCE_URL_TOKEN); token >= 0; token = json.indexOf(INSTANCE_URL_TOKEN, from)) {
      const key = `${studyInstanceUID}/${seriesInstanceUID}`;
      if (key !== prefixKey) {
        prefixKey = key;
        prefix = `${baseJson}/studies/${jsonEscaped(studyInstanceUID)}/series/${jsonEscaped(seriesInstanceUID)}/instances/`;
      }
      out.put(json.slice(from, token));
      out.put(prefix);
      out.put(jsonEscaped(sopInstanceUID));
      from = token + INSTANCE_URL_TOKEN.length;
    }
    out.put(from === 0 ? json : json.slice(from));
    while (out.ready.length > 0) yield out.ready.shift()!;
  }
  out.put(separator === '[' ? '[]' : ']');
  out.flush();
  out.done();
  yield* out.ready;
}

/**
 * Sends the chunks on the raw response (headers from `reply`: Content-Type,
 * CORS…), each given back to the pool once written. A client that goes away
 * ends the loop; an error after the headers truncates the answer.
 */
async function sendChunks(request: FastifyRequest, reply: FastifyReply, chunks: Iterator<OutChunk>): Promise<void> {
  const first = chunks.next(); // the first page of the index is read before anything is sent
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(200);
  if (request.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    for (let next = first; !next.done; next = chunks.next()) {
      const { bytes, chunk } = next.value;
      if (res.destroyed) {
        giveChunk(chunk);
        continue;
      }
      if (!res.write(bytes, () => giveChunk(chunk))) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
    }
    res.end();
  } catch (err) {
    request.log.error({ err }, 'metadata answer cut short');
    res.destroy(err instanceof Error ? err : undefined);
  }
}

function* xmlParts(items: Iterable<InstanceMetadata>, base: string): Generator<OutgoingPart> {
  for (const { studyInstanceUID, seriesInstanceUID, sopInstanceUID, json } of items) {
    const url = instanceUrl(base, studyInstanceUID, seriesInstanceUID, sopInstanceUID);
    // datasetToXml makes the bulk data URIs absolute (bulkBase replaces INSTANCE_URL_TOKEN).
    const dataset = JSON.parse(json) as DicomJsonDataset;
    yield {
      headers: { 'Content-Type': 'application/dicom+xml; charset=utf-8', 'Content-Location': `${url}/metadata` },
      body: Buffer.from(datasetToXml(dataset, url), 'utf8'),
    };
  }
}

/** The store's metadata items, or a 404 before anything is sent when there are none. */
function metadataItems(ctx: DicomWebContext, selector: UidSelector): Iterable<InstanceMetadata> {
  const iterator = ctx.store.instanceMetadata(selector)[Symbol.iterator]();
  const first = iterator.next();
  if (first.done) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  return (function* () {
    yield first.value;
    for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
  })();
}

export const retrieveMetadata: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  const { offer } = negotiate(requestAccept(request), [JSON_OFFER, XML_OFFER], `metadata of ${describeSelector(selector)}`);
  const items = metadataItems(ctx, selector);
  const base = dicomWebBaseUrl(request, ctx.config);

  if (offer === JSON_OFFER) {
    reply.header('Content-Type', 'application/dicom+json; charset=utf-8');
    return sendChunks(request, reply, jsonArrayChunks(items, base));
  }
  const writer = new MultipartWriter('application/dicom+xml');
  reply.header('Content-Type', writer.contentType);
  return reply.send(multipartStream(writer, xmlParts(items, base)));
};

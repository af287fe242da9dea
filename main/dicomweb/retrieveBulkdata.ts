/**
 * WADO-RS Retrieve Bulkdata (PS3.18 10.4.1.1.5, bulkdata resources): the
 * targets of the BulkDataURIs in our metadata,
 *   GET {Root}studies/{study}/series/{series}/instances/{instance}/bulk/{path}
 * where path is `7FE00010` or `00540016/0/00181072`… (sequence tag / item /
 * tag, as Orthanc). The value bytes, read from the stored file at the range
 * the index recorded: multipart/related; type=application/octet-stream by
 * default, plain application/octet-stream when asked (PS3.18 8.7.3.3.2).
 * Values of big endian datasets are delivered little endian.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { locateBulk } from '../dicom/locateBulk.js';
import type { ByteRange } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { Store, StoredInstance, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type Transaction } from './context.js';
import { bufferByteSource, fileByteSource, swapBytes } from './frames.js';
import { MultipartWriter, multipartStream } from './multipart.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transferSyntaxes.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

const BULK_OFFER: Offer = { mediaType: 'multipart/related', partType: 'application/octet-stream' };

/** `7FE00010`, `00540016/0/00181072`…: tags (8 hex digits) and item indexes. */
const BULK_PATH = /^[0-9A-Fa-f]{8}(\/[0-9]{1,9}\/[0-9A-Fa-f]{8})*$/;

/** Word size by VR, for swapping big endian values (PS3.5 7.3). */
const WORD_BYTES: Record<string, 2 | 4 | 8> = { OW: 2, US: 2, SS: 2, AT: 2, OL: 4, OF: 4, UL: 4, SL: 4, FL: 4, OD: 8, OV: 8, FD: 8, SV: 8, UV: 8 };

/** The VR of the element a bulk path names, from the stored dataset (only needed for big endian data). */
function vrOfBulkPath(store: Store, selector: UidSelector, path: string): string | undefined {
  for (const { json } of store.instanceMetadata(selector)) {
    const steps = path.split('/');
    let dataset = JSON.parse(json) as Record<string, { vr?: string; Value?: unknown[] }> | undefined;
    for (let i = 0; dataset && i < steps.length; i += 2) {
      const element = dataset[steps[i]!];
      if (i + 1 >= steps.length) return element?.vr;
      dataset = element?.Value?.[Number(steps[i + 1])] as typeof dataset;
    }
  }
  return undefined;
}

function missingBulk(instance: StoredInstance, path: string): AppError {
  return new AppError('not-found', `instance ${instance.sopInstanceUID} has no bulk data at ${JSON.stringify(path)}`);
}

/** The value bytes, in memory (deflated or big endian data, which need work on them). */
export async function readBulk(instance: StoredInstance, path: string): Promise<Buffer> {
  const what = `instance ${instance.sopInstanceUID}`;
  const missing = () => missingBulk(instance, path);
  if (instance.deflated) {
    const located = await locateBulk(await readFile(instance.path));
    const range = located.bulk[path];
    if (!range) throw missing();
    return bufferByteSource(located.bytes, what).read(range);
  }
  const range: ByteRange | undefined = instance.bulk[path];
  if (!range) throw missing();
  const handle = await open(instance.path, 'r');
  try {
    return await fileByteSource(handle, what).read(range);
  } finally {
    await handle.close();
  }
}

/** The value bytes streamed from the stored file (values as big as a whole multi-frame Pixel Data). */
function streamBulk(instance: StoredInstance, path: string): Readable | Buffer {
  const range = instance.bulk[path];
  if (!range) throw missingBulk(instance, path);
  if (range.length === 0) return Buffer.alloc(0);
  return createReadStream(instance.path, { start: range.offset, end: range.offset + range.length - 1, highWaterMark: 256 * 1024 });
}

export const retrieveBulkdata: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  const rawPath = String((request.params as Record<string, unknown>)['*'] ?? '').replace(/\/+$/, '');
  if (!BULK_PATH.test(rawPath)) {
    throw new AppError('bad-request', `bulk data path ${JSON.stringify(rawPath.slice(0, 100))} must be a tag (8 hex digits), or tag/item/tag… for nested elements`);
  }
  const path = rawPath.toUpperCase();
  const [instance] = ctx.store.findInstances(selector);
  if (!instance) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  const { singlePart } = negotiate(requestAccept(request), [BULK_OFFER], `bulk data ${path} of ${describeSelector(selector)}`);

  let bytes: Buffer | Readable;
  if (instance.deflated || instance.bigEndian) {
    bytes = await readBulk(instance, path);
    const word = instance.bigEndian ? WORD_BYTES[vrOfBulkPath(ctx.store, selector, path) ?? ''] : undefined;
    if (word) bytes = swapBytes(Buffer.from(bytes), word);
  } else {
    bytes = streamBulk(instance, path);
  }

  // Encapsulated Pixel Data keeps its compressed syntax; everything else is little endian.
  const transferSyntax = path === '7FE00010' && instance.pixel?.encapsulated ? instance.transferSyntaxUID : EXPLICIT_VR_LITTLE_ENDIAN;
  const contentType = `application/octet-stream; transfer-syntax=${transferSyntax}`;
  if (singlePart) {
    reply.header('Content-Type', contentType);
    return reply.send(bytes);
  }
  const url = instanceUrl(dicomWebBaseUrl(request, ctx.config), instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID);
  const writer = new MultipartWriter('application/octet-stream');
  reply.header('Content-Type', writer.contentType);
  return reply.send(multipartStream(writer, [{ headers: { 'Content-Type': contentType, 'Content-Location': `${url}/bulk/${path}` }, body: bytes }]));
};

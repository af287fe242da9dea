/**
 * WADO-RS Retrieve Metadata (PS3.18 10.4.1.1.2, metadata resources):
 *   GET {Root}studies/{study}[/series/{series}[/instances/{instance}]]/metadata
 * application/dicom+json (default; application/json too): a JSON array of the
 * instances' datasets (PS3.18 F.2), streamed from the stored JSON in the index
 * (no file read), bulk data URIs made absolute. application/dicom+xml:
 * multipart/related, one Native DICOM Model part per instance (PS3.19 A.1).
 */
import { Readable } from 'node:stream';
import { datasetToXml } from '../dicom/xml.js';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { StoredInstance, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type DicomWebContext, type Transaction } from './context.js';
import { MultipartWriter, multipartStream, type OutgoingPart } from './multipart.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

const JSON_OFFER: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const XML_OFFER: Offer = { mediaType: 'multipart/related', partType: 'application/dicom+xml', aliases: ['application/xml', 'text/xml'] };

/** Size of the text chunks the JSON answer is sent in. */
const JSON_CHUNK = 256 * 1024;

/** The instance's absolute URL, escaped to sit inside a JSON string (the Host header is client-supplied). */
function instanceUrlForJson(base: string, instance: StoredInstance): string {
  return JSON.stringify(instanceUrl(base, instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID)).slice(1, -1);
}

type MetadataItem = { instance: StoredInstance; json: string };

/** `[ds1,ds2,…]` in chunks of about JSON_CHUNK characters. */
function* jsonArrayChunks(items: Iterable<MetadataItem>, base: string): Generator<string> {
  let text = '[';
  let first = true;
  for (const { instance, json } of items) {
    if (!first) text += ',';
    first = false;
    text += json.split(INSTANCE_URL_TOKEN).join(instanceUrlForJson(base, instance));
    if (text.length >= JSON_CHUNK) {
      yield text;
      text = '';
    }
  }
  yield text + ']';
}

function* xmlParts(items: Iterable<MetadataItem>, base: string): Generator<OutgoingPart> {
  for (const { instance, json } of items) {
    const url = instanceUrl(base, instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID);
    // datasetToXml makes the bulk data URIs absolute (bulkBase replaces INSTANCE_URL_TOKEN).
    const dataset = JSON.parse(json) as DicomJsonDataset;
    yield {
      headers: { 'Content-Type': 'application/dicom+xml; charset=utf-8', 'Content-Location': `${url}/metadata` },
      body: Buffer.from(datasetToXml(dataset, url), 'utf8'),
    };
  }
}

/** The store's metadata items, or a 404 before anything is sent when there are none. */
function metadataItems(ctx: DicomWebContext, selector: UidSelector): Iterable<MetadataItem> {
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
    return reply.send(Readable.from(jsonArrayChunks(items, base), { objectMode: false }));
  }
  const writer = new MultipartWriter('application/dicom+xml');
  reply.header('Content-Type', writer.contentType);
  return reply.send(multipartStream(writer, xmlParts(items, base)));
};

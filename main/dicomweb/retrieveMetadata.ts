/**
 * WADO-RS Retrieve Metadata (PS3.18 10.4.1.1.2, metadata resources):
 *   GET {Root}studies/{study}[/series/{series}[/instances/{instance}]]/metadata
 * application/dicom+json (default; application/json too): a JSON array of the
 * instances' datasets (PS3.18 F.2), streamed from the stored JSON in the index
 * (no file read), bulk data URIs made absolute. application/dicom+xml:
 * multipart/related, one Native DICOM Model part per instance (PS3.19 A.1).
 */
import { datasetToXml } from '../dicom/xml.js';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { InstanceMetadata, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type DicomWebContext, type Transaction } from './context.js';
import { MultipartWriter, multipartStream, type OutgoingPart } from './multipart.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';
import { jsonArrayChunks, sendChunks, type TextSink } from './utf8Chunks.js';

const JSON_OFFER: Offer = { mediaType: 'application/dicom+json', aliases: ['application/json'] };
const XML_OFFER: Offer = { mediaType: 'multipart/related', partType: 'application/dicom+xml', aliases: ['application/xml', 'text/xml'] };

/** Plain UIDs (digits and dots) need no JSON escaping; anything else is escaped. */
const PLAIN_UID = /^[0-9.]*$/;

/** `text` escaped to sit inside a JSON string (the Host header in the base URL is client-supplied). */
function jsonEscaped(text: string): string {
  return PLAIN_UID.test(text) ? text : JSON.stringify(text).slice(1, -1);
}

/**
 * The writer of one instance's dataset into a JSON array answer. Each stored
 * JSON text is written once, in pieces around INSTANCE_URL_TOKEN, the instance
 * URL in its place (built from a prefix kept per series: only the SOP Instance
 * UID is added).
 */
function datasetWriter(base: string): (item: InstanceMetadata, out: TextSink) => void {
  const baseJson = jsonEscaped(base);
  let prefixKey = '';
  let prefix = '';
  return ({ studyInstanceUID, seriesInstanceUID, sopInstanceUID, json }, out) => {
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
  };
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
    return sendChunks(request, reply, jsonArrayChunks(items, datasetWriter(base)));
  }
  const writer = new MultipartWriter('application/dicom+xml');
  reply.header('Content-Type', writer.contentType);
  return reply.send(multipartStream(writer, xmlParts(items, base)));
};

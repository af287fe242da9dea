/**
 * WADO-RS Retrieve Study / Series / Instance (PS3.18 10.4, DICOM resources):
 *   GET {Root}studies/{study}[/series/{series}[/instances/{instance}]]
 * Answer: multipart/related; type="application/dicom", one part per instance,
 * each the stored Part-10 file streamed from disk with a bounded read-ahead
 * (storedFileParts.ts; never a study in memory).
 * Accept (PS3.18 8.7.3): multipart/related with type application/dicom (or no
 * type), `*\/*`, or application/dicom; `transfer-syntax=*` or the stored syntax
 * (or none, as Orthanc does) gives the stored bytes;
 * `transfer-syntax=1.2.840.10008.1.2.1` transcodes compressed instances
 * (retrieveTranscoded.ts); any other transfer syntax is 406.
 */
import { createReadStream } from 'node:fs';
import { AppError } from '../errors.js';
import type { StoredFileRef } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type Transaction } from './context.js';
import { MultipartWriter } from './multipart.js';
import { retrieveTranscoded, transcodingOffer } from './retrieveTranscoded.js';
import { sendStoredFileParts, type StoredFilePart } from './storedFileParts.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

/** Chunk size of file reads: big enough for throughput, small enough to keep memory flat. */
const READ_CHUNK = 256 * 1024;

function dicomContentType(instance: StoredFileRef): string {
  return `application/dicom; transfer-syntax=${instance.transferSyntaxUID}`;
}

export const retrieveInstances: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  const instances = ctx.store.instanceFiles(selector);
  if (instances.length === 0) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);

  const stored = [...new Set(instances.map((i) => i.transferSyntaxUID))];
  const offer: Offer = {
    mediaType: 'multipart/related',
    partType: 'application/dicom',
    transferSyntaxes: stored,
    matchesWithoutTransferSyntax: true,
  };
  const transcoding = transcodingOffer(stored);
  const { offer: chosen, singlePart } = negotiate(
    requestAccept(request),
    transcoding.offer ? [offer, transcoding.offer] : [offer],
    `retrieve ${describeSelector(selector)}`,
    `stored as ${stored.join(', ')}; ${transcoding.hint || 'ask for transfer-syntax=* or the stored syntax'}`,
  );
  if (chosen === transcoding.offer) return retrieveTranscoded(request, reply, ctx, selector, singlePart);

  if (singlePart && instances.length === 1) {
    const instance = instances[0]!;
    reply.header('Content-Type', dicomContentType(instance));
    reply.header('Content-Length', instance.size);
    return reply.send(createReadStream(instance.path, { highWaterMark: READ_CHUNK }));
  }

  const base = dicomWebBaseUrl(request, ctx.config);
  const writer = new MultipartWriter('application/dicom');
  function* parts(): Generator<StoredFilePart> {
    for (const instance of instances) {
      yield {
        headers: {
          'Content-Type': dicomContentType(instance),
          'Content-Length': instance.size,
          'Content-Location': instanceUrl(base, instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID),
        },
        path: instance.path,
        size: instance.size,
        what: `instance ${instance.sopInstanceUID}`,
      };
    }
  }
  reply.header('Content-Type', writer.contentType);
  return sendStoredFileParts(request, reply, writer, parts());
};

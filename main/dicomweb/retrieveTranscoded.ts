/**
 * WADO-RS Retrieve Study / Series / Instance transcoded to Explicit VR Little
 * Endian (PS3.18 10.4.1.1.1-3 with `Accept: multipart/related;
 * type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1`, PS3.18
 * 8.7.3.5.2): one part per instance, `application/dicom;
 * transfer-syntax=1.2.840.10008.1.2.1`. Instances stored in that syntax are
 * sent as stored; compressed and deflated ones are transcoded
 * (main/pixels/transcodeToNative.ts), streamed frame by frame.
 *
 * Instances that cannot be delivered in that syntax — stored in a compressed
 * syntax without a decoder, or as implicit VR / big endian (re-encoding every
 * element is not done) — make the whole request 406 naming their syntax:
 * PS3.18 lets a server leave such instances out, but a client asking for a
 * study in one syntax is better told at once than handed part of it.
 * retrieveInstances.ts negotiates; transcodingOffer() is what it offers.
 *
 * The first instance is prepared (its first frame decoded) before the status
 * is sent, so a failure there is a clean 406/400. A later instance failing
 * (corrupt data) ends the answer without its closing delimiter and is logged
 * (truncatingMultipart.ts).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { sendStoredFile } from '../http/sendFile.js';
import { canTranscodeToNative, transcodeToNative } from '../pixels/transcodeToNative.js';
import type { StoredInstance, UidSelector } from '../store/types.js';
import type { Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, logOf, type DicomWebContext } from './context.js';
import { MultipartWriter, type OutgoingPart } from './multipart.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transferSyntaxes.js';
import { truncatingMultipartStream } from './truncatingMultipart.js';
import { describeSelector } from './uidSelector.js';

const CONTENT_TYPE = `application/dicom; transfer-syntax=${EXPLICIT_VR_LITTLE_ENDIAN}`;

/**
 * The transcoded offer for instances stored as `stored` (their distinct
 * syntaxes), or undefined when there is nothing to transcode or some syntax
 * cannot be; `hint` says which, for the 406 message.
 */
export function transcodingOffer(stored: string[]): { offer?: Offer; hint: string } {
  const cannot = stored.filter((ts) => !canTranscodeToNative(ts));
  if (cannot.length > 0) {
    return { hint: `${cannot.join(', ')} cannot be transcoded: ask for transfer-syntax=* or the stored syntax` };
  }
  if (stored.every((ts) => ts === EXPLICIT_VR_LITTLE_ENDIAN)) return { hint: '' };
  return {
    offer: {
      mediaType: 'multipart/related',
      partType: 'application/dicom',
      transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
      // Without transfer-syntax the stored bytes are answered (retrieveInstances.ts).
      matchesWithoutTransferSyntax: false,
    },
    hint: `instances stored as ${stored.join(', ')} are transcoded to ${EXPLICIT_VR_LITTLE_ENDIAN} when that is asked`,
  };
}

/**
 * A single-part transcoded body: a frame failing after the headers went out
 * is logged, then the error ends the stream (the connection is cut, the
 * client sees fewer bytes than Content-Length).
 */
export async function* loggedChunks(chunks: AsyncIterable<Buffer>, log: (line: string) => void, what: string): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } catch (err) {
    log(`error: ${what} failed after the answer had started; the answer is cut short: ${(err as Error).message}`);
    throw err;
  }
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) yield chunk as Buffer;
}

/** One instance as a part: the stored file, or its transcoding (prepared now: errors are thrown here). */
async function partOf(instance: StoredInstance, base: string): Promise<OutgoingPart & { close(): Promise<void> }> {
  const headers = {
    'Content-Type': CONTENT_TYPE,
    'Content-Location': instanceUrl(base, instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID),
  };
  if (instance.transferSyntaxUID === EXPLICIT_VR_LITTLE_ENDIAN) {
    return { headers: { ...headers, 'Content-Length': instance.size }, body: fileChunks(instance.path), close: async () => {} };
  }
  const transcoded = await transcodeToNative(instance);
  return { headers: { ...headers, 'Content-Length': transcoded.length }, body: transcoded.chunks, close: transcoded.close };
}

export async function retrieveTranscoded(request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext, selector: UidSelector, singlePart: boolean) {
  const instances = ctx.store.findInstances(selector);
  if (instances.length === 0) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  const base = dicomWebBaseUrl(request, ctx.config);

  if (singlePart && instances.length === 1) {
    const instance = instances[0]!;
    if (instance.transferSyntaxUID === EXPLICIT_VR_LITTLE_ENDIAN) return sendStoredFile(reply, instance, CONTENT_TYPE);
    const transcoded = await transcodeToNative(instance);
    reply.raw.once('close', () => void transcoded.close());
    reply.header('Content-Type', CONTENT_TYPE);
    reply.header('Content-Length', transcoded.length);
    const what = `retrieve ${describeSelector(selector)} as ${EXPLICIT_VR_LITTLE_ENDIAN}`;
    return reply.send(Readable.from(loggedChunks(transcoded.chunks, logOf(ctx), what), { objectMode: false }));
  }

  const first = await partOf(instances[0]!, base);
  let current = first;
  reply.raw.once('close', () => void current.close());
  async function* parts(): AsyncGenerator<OutgoingPart> {
    yield first;
    for (const instance of instances.slice(1)) {
      current = await partOf(instance, base);
      yield current;
    }
  }
  const writer = new MultipartWriter('application/dicom');
  reply.header('Content-Type', writer.contentType);
  return reply.send(truncatingMultipartStream(writer, parts(), logOf(ctx), `retrieve ${describeSelector(selector)} as ${EXPLICIT_VR_LITTLE_ENDIAN}`));
}

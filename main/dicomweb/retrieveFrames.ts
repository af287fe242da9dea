/**
 * WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4, frame pixel data resources):
 *   GET {Root}studies/{study}/series/{series}/instances/{instance}/frames/{1,3,5}
 * Frame numbers are 1-based; several frames per request, in the order asked.
 *
 * What each frame is (PS3.18 8.7.3.3.2, Table 8.7.3-2 and -5):
 *  - native pixel data: the frame's bytes as Explicit VR Little Endian holds
 *    them, i.e. cut from the Pixel Data value in its stored layout (planar
 *    configuration 1 stays planar, YBR_FULL_422 stays subsampled) and swapped
 *    to little endian. PS3.18 defines uncompressed bulk data as the bytes of
 *    the value in 1.2.840.10008.1.2.1, and the instance's metadata describes
 *    that layout, so nothing is rearranged;
 *  - compressed pixel data, `application/octet-stream` with no transfer-syntax
 *    or transfer-syntax=1.2.840.10008.1.2.1 (uncompressed being that media
 *    type's default): each frame decoded (main/pixels/decodeFrame.ts), as its
 *    DecodedFrame bytes: little endian, samples interleaved, colour transform
 *    of the codec undone (JPEG YBR → RGB), part Content-Type
 *    `application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1`;
 *  - compressed pixel data, `transfer-syntax=*` or the stored syntax (or the
 *    codec's image/* type): each frame's fragments as stored.
 * Several frames are multipart/related; one frame asked as a bare
 * `application/octet-stream` (or image/*) is a single-part answer.
 *
 * Failures: the first frame is read (and decoded) before anything is sent, so
 * a frame that cannot be decoded answers 406 (syntax without a decoder) or 400
 * (corrupt data) with a message naming the frame and the syntax. A later frame
 * of a multipart answer failing cannot change the status any more: the answer
 * ends without its closing delimiter (the client sees a truncated body) and
 * the failure is logged (truncatingMultipart.ts). Only the frames' byte ranges
 * are read from the file.
 */
import { AppError } from '../errors.js';
import { openPixelSource } from '../pixels/pixelSource.js';
import { readDecodedStoredFrame } from '../pixels/readDecodedFrame.js';
import type { PixelLayout } from '../dicom/types.js';
import type { Store, StoredInstance, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, logOf, type Transaction } from './context.js';
import { frameCount, frameRanges, parseFrameList } from './frames.js';
import { MultipartWriter, type OutgoingPart } from './multipart.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, imageMediaTypes } from './transferSyntaxes.js';
import { enclosedBody } from './enclosedBody.js';
import type { FrameAllocator } from '../pixels/types.js';
import { truncatingMultipartStream } from './truncatingMultipart.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

interface FrameOffer extends Offer {
  partType: string;
  /** Transfer syntax written in each part's Content-Type. */
  transferSyntax: string;
  /** Frames decoded (compressed data asked uncompressed), rather than as stored. */
  decode: boolean;
}

/** What frames of this instance can be delivered as, in order of preference. */
function frameOffers(instance: StoredInstance, layout: PixelLayout): FrameOffer[] {
  const uncompressed: FrameOffer = {
    mediaType: 'multipart/related',
    partType: 'application/octet-stream',
    transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN,
    transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
    // application/octet-stream without transfer-syntax means uncompressed (PS3.18 8.7.3.3.2).
    matchesWithoutTransferSyntax: true,
    decode: layout.encapsulated,
  };
  if (!layout.encapsulated) return [uncompressed];
  const stored = instance.transferSyntaxUID;
  const [imageType, ...olderNames] = imageMediaTypes(stored);
  const offers: FrameOffer[] = [
    {
      mediaType: 'multipart/related',
      partType: 'application/octet-stream',
      transferSyntax: stored,
      transferSyntaxes: [stored],
      matchesWithoutTransferSyntax: false,
      decode: false,
    },
    // After the stored bytes: `*/*`, `transfer-syntax=*` and multipart/related without type keep getting them.
    uncompressed,
  ];
  if (imageType) {
    offers.push({
      mediaType: 'multipart/related',
      partType: imageType,
      aliases: olderNames,
      transferSyntax: stored,
      transferSyntaxes: [stored],
      matchesWithoutTransferSyntax: true,
      decode: false,
    });
  }
  return offers;
}

/** Big endian 8-bit Pixel Data stored as OW has its bytes swapped in 16-bit words (PS3.5 7.3): look up the VR in the stored dataset. */
function isEightBitOW(store: Store, selector: UidSelector): boolean {
  for (const { json } of store.instanceMetadata(selector)) {
    const dataset = JSON.parse(json) as Record<string, { vr?: string }>;
    return dataset['7FE00010']?.vr === 'OW';
  }
  return false;
}

export const retrieveFrames: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  const frames = parseFrameList(String((request.params as Record<string, unknown>).frames ?? ''));
  const [instance] = ctx.store.findInstances(selector);
  if (!instance) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  if (!instance.pixel) throw new AppError('not-found', `${describeSelector(selector)} has no pixel data, hence no frames`);

  // Layout checks first (from the index), file access after: a 404 or 406 reads nothing.
  const indexedLayout = instance.pixel;
  const count = frameCount(indexedLayout);
  const missing = frames.find((n) => n > count);
  if (missing !== undefined) {
    throw new AppError('not-found', `frame ${missing} does not exist: ${describeSelector(selector)} has ${count} frame${count === 1 ? '' : 's'}`);
  }
  const { offer, singlePart } = negotiate(
    requestAccept(request),
    frameOffers(instance, indexedLayout),
    `frames of ${describeSelector(selector)}`,
    indexedLayout.encapsulated
      ? `the frames are stored compressed as ${instance.transferSyntaxUID}: accept transfer-syntax=* or ${instance.transferSyntaxUID} for them as stored, or ${EXPLICIT_VR_LITTLE_ENDIAN} for them decoded`
      : `the frames are uncompressed, delivered as ${EXPLICIT_VR_LITTLE_ENDIAN}`,
  );

  const eightBitAsOW = instance.bigEndian && indexedLayout.bitsAllocated === 8 && !indexedLayout.encapsulated && isEightBitOW(ctx.store, selector);
  const source = await openPixelSource(instance, { eightBitAsOW });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= source.close());
  const what = describeSelector(selector);
  const readFrame = async (n: number, allocate?: FrameAllocator): Promise<Buffer> =>
    offer.decode ? (await readDecodedStoredFrame(instance, source, n, what, allocate)).bytes : source.readStoredFrame(n, allocate);
  const contentType = `${offer.partType}; transfer-syntax=${offer.transferSyntax}`;
  const url = instanceUrl(dicomWebBaseUrl(request, ctx.config), instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID);
  const writer = new MultipartWriter(offer.partType);
  // One frame as multipart: the answer is one buffer (the same bytes as streamed), the frame read
  // or decoded into its place, sent with a Content-Length in one write rather than as a chunked
  // stream of three pieces (measured with bench:pixels: fewer writes, wake-ups and copies).
  const enclosed =
    frames.length === 1 && !singlePart
      ? enclosedBody(writer.partHead({ 'Content-Type': contentType, 'Content-Location': `${url}/frames/${frames[0]!}` }), writer.end())
      : undefined;

  let first: Buffer;
  try {
    // Every frame asked lies within the stored value, and the first one reads (and decodes): checked before anything is sent.
    for (const n of frames) frameRanges(source.layout, n);
    first = await readFrame(frames[0]!, enclosed?.allocate);
  } catch (err) {
    await close();
    throw err;
  }

  if (singlePart && frames.length === 1) {
    await close();
    reply.header('Content-Type', contentType);
    return reply.send(first);
  }

  if (enclosed) {
    await close();
    reply.header('Content-Type', writer.contentType);
    return reply.send(enclosed.wrap(first));
  }
  async function* parts(): AsyncGenerator<OutgoingPart> {
    try {
      for (const [i, n] of frames.entries()) {
        const body = i === 0 ? first : await readFrame(n);
        if (i === 0) first = Buffer.alloc(0); // not kept for the rest of a long answer
        yield { headers: { 'Content-Type': contentType, 'Content-Location': `${url}/frames/${n}` }, body };
      }
    } finally {
      await close();
    }
  }
  // A client gone before the parts were pulled: the generator never ran, close here.
  reply.raw.once('close', () => void close());
  reply.header('Content-Type', writer.contentType);
  return reply.send(truncatingMultipartStream(writer, parts(), logOf(ctx), `frames of ${what}`));
};

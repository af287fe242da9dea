/**
 * WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4, frame pixel data resources):
 *   GET {Root}studies/{study}/series/{series}/instances/{instance}/frames/{1,3,5}
 * Frame numbers are 1-based. Native pixel data: each frame cut from the file
 * by the stored PixelLayout, little endian, as application/octet-stream with
 * transfer-syntax 1.2.840.10008.1.2.1. Encapsulated pixel data: each frame's
 * fragments as stored, as application/octet-stream or the codec's image/* type
 * with the stored transfer-syntax, when the client accepts it (PS3.18 8.7.3.3);
 * decoding comes with the pixel pipeline, so asking for uncompressed frames of
 * compressed data is 406. Only the frames' byte ranges are read from the file.
 */
import { open, readFile } from 'node:fs/promises';
import { locateBulk } from '../dicom/locateBulk.js';
import type { PixelLayout } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { Store, StoredInstance, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, type Transaction } from './context.js';
import {
  bufferByteSource,
  fileByteSource,
  frameCount,
  frameRanges,
  parseFrameList,
  readEncapsulatedFrame,
  readNativeFrame,
  type ByteSource,
} from './frames.js';
import { MultipartWriter, multipartStream, type OutgoingPart } from './multipart.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, imageMediaTypes } from './transferSyntaxes.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

interface FrameOffer extends Offer {
  partType: string;
  /** Transfer syntax written in each part's Content-Type. */
  transferSyntax: string;
}

/** What frames of this instance can be delivered as, in order of preference. */
function frameOffers(instance: StoredInstance, layout: PixelLayout): FrameOffer[] {
  if (!layout.encapsulated) {
    return [
      {
        mediaType: 'multipart/related',
        partType: 'application/octet-stream',
        transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN,
        transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN],
        matchesWithoutTransferSyntax: true,
      },
    ];
  }
  const stored = instance.transferSyntaxUID;
  const [imageType, ...olderNames] = imageMediaTypes(stored);
  const offers: FrameOffer[] = [
    {
      mediaType: 'multipart/related',
      partType: 'application/octet-stream',
      transferSyntax: stored,
      transferSyntaxes: [stored],
      // application/octet-stream without transfer-syntax means uncompressed (PS3.18 8.7.3.3.2).
      matchesWithoutTransferSyntax: false,
    },
  ];
  if (imageType) {
    offers.push({
      mediaType: 'multipart/related',
      partType: imageType,
      aliases: olderNames,
      transferSyntax: stored,
      transferSyntaxes: [stored],
      matchesWithoutTransferSyntax: true,
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

/** Where the pixel data can be read: the stored file, or the inflated dataset of a deflated file. */
async function pixelSource(instance: StoredInstance): Promise<{ source: ByteSource; layout: PixelLayout | undefined; close: () => Promise<void> }> {
  const what = `instance ${instance.sopInstanceUID}`;
  if (instance.deflated) {
    const located = await locateBulk(await readFile(instance.path));
    return { source: bufferByteSource(located.bytes, what), layout: located.pixel ?? undefined, close: async () => {} };
  }
  const handle = await open(instance.path, 'r');
  return { source: fileByteSource(handle, what), layout: instance.pixel ?? undefined, close: () => handle.close() };
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
      ? `the frames are stored compressed as ${instance.transferSyntaxUID}; decoding is not supported yet, accept transfer-syntax=* or ${instance.transferSyntaxUID}`
      : `the frames are uncompressed, delivered as ${EXPLICIT_VR_LITTLE_ENDIAN}`,
  );

  const eightBitAsOW = instance.bigEndian && indexedLayout.bitsAllocated === 8 && !indexedLayout.encapsulated && isEightBitOW(ctx.store, selector);
  const { source, layout: located, close } = await pixelSource(instance);
  const layout = located ?? indexedLayout;
  try {
    // Every frame asked lies within the stored value: checked before anything is sent.
    for (const n of frames) frameRanges(layout, n);
  } catch (err) {
    await close();
    throw err;
  }
  const readFrame = (n: number) =>
    layout.encapsulated ? readEncapsulatedFrame(source, layout, n) : readNativeFrame(source, layout, n, { bigEndian: instance.bigEndian, eightBitAsOW });
  const contentType = `${offer.partType}; transfer-syntax=${offer.transferSyntax}`;

  if (singlePart && frames.length === 1) {
    try {
      const bytes = await readFrame(frames[0]!);
      reply.header('Content-Type', contentType);
      return reply.send(bytes);
    } finally {
      await close();
    }
  }

  const url = instanceUrl(dicomWebBaseUrl(request, ctx.config), instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID);
  async function* parts(): AsyncGenerator<OutgoingPart> {
    try {
      for (const n of frames) {
        yield { headers: { 'Content-Type': contentType, 'Content-Location': `${url}/frames/${n}` }, body: await readFrame(n) };
      }
    } finally {
      await close();
    }
  }
  const writer = new MultipartWriter(offer.partType);
  reply.header('Content-Type', writer.contentType);
  return reply.send(multipartStream(writer, parts()));
};

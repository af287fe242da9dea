/**
 * WADO-RS Retrieve Rendered (PS3.18 10.4.1.1.3, rendered resources; media
 * types and parameters 8.3.5):
 *   GET {Root}studies/{s}/rendered, …/series/{se}/rendered,
 *       …/instances/{i}/rendered, …/instances/{i}/frames/{n}/rendered
 * image/jpeg (the default) or image/png, from Accept or the `accept` query
 * parameter; `window`, `viewport`, `quality` (renderedQuery.ts).
 * Choices where the standard leaves them to the server:
 *  - an instance is rendered as its first frame (a multi-frame instance is not
 *    answered as multipart or video); frames/{n} renders frame n (one number);
 *  - a study or series is answered as multipart/related; type="image/jpeg" (or
 *    png) with the first frame of each instance that has pixel data, in series
 *    then instance order, streamed one image at a time; instances without
 *    pixel data (SR, …) are left out. Accept naming image/jpeg alone counts as
 *    asking for those parts. The first image is rendered before the answer
 *    starts (its error gets a status); a later failure ends the answer without
 *    its closing delimiter, and is logged (truncatingMultipart.ts).
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { RenderedMediaType } from '../pixels/render.js';
import { checkRenderable, renderInstanceFrame } from '../pixels/renderInstance.js';
import type { Store, StoredInstance, UidSelector } from '../store/types.js';
import { negotiate, requestAccept, type Offer } from './accept.js';
import { dicomWebBaseUrl, instanceUrl, logOf, type Transaction } from './context.js';
import { parseFrameList } from './frames.js';
import { MultipartWriter, type OutgoingPart } from './multipart.js';
import { truncatingMultipartStream } from './truncatingMultipart.js';
import { parseRenderedQuery } from './renderedQuery.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

type Query = Record<string, string | string[] | undefined>;

const IMAGE_OFFERS: Offer[] = [{ mediaType: 'image/jpeg' }, { mediaType: 'image/png' }];
const MULTIPART_OFFERS: Offer[] = [
  { mediaType: 'multipart/related', partType: 'image/jpeg' },
  { mediaType: 'multipart/related', partType: 'image/png' },
];

/** The image media type asked for (406 naming image/jpeg and image/png otherwise). */
export function renderedMediaType(request: FastifyRequest, what: string, multipart = false): RenderedMediaType {
  const { offer } = negotiate(requestAccept(request), multipart ? MULTIPART_OFFERS : IMAGE_OFFERS, what, 'rendered images are image/jpeg or image/png');
  return (offer.partType ?? offer.mediaType) as RenderedMediaType;
}

/** The instance a route names (404 when absent). */
export function instanceOf(store: Store, selector: UidSelector): StoredInstance {
  const [instance] = store.findInstances(selector);
  if (!instance) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  return instance;
}

/** The frame number of a `frames/{n}` route: exactly one. */
export function singleFrameOf(request: FastifyRequest): number {
  const text = (request.params as Record<string, string | undefined>).frames;
  if (text === undefined) return 1;
  const frames = parseFrameList(text);
  if (frames.length !== 1) throw new AppError('bad-request', `rendered frames are answered one at a time: give one frame number, got ${JSON.stringify(text.slice(0, 60))}`);
  return frames[0]!;
}

export const retrieveRendered: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  const query = request.query as Query;
  if (selector.instance !== undefined) {
    const frame = singleFrameOf(request);
    const instance = instanceOf(ctx.store, selector);
    const mediaType = renderedMediaType(request, `rendered ${describeSelector(selector)}`);
    const params = parseRenderedQuery(query, mediaType);
    const bytes = await renderInstanceFrame(ctx.store, instance, frame, params);
    reply.header('Content-Type', mediaType);
    return reply.send(bytes);
  }

  const instances = ctx.store.findInstances(selector);
  if (instances.length === 0) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
  const images = instances.filter((i) => i.pixel !== null);
  if (images.length === 0) throw new AppError('not-acceptable', `${describeSelector(selector)} has no instance with pixel data, so no rendered image`);
  const mediaType = renderedMediaType(request, `rendered ${describeSelector(selector)}`, true);
  const params = parseRenderedQuery(query, mediaType);
  const base = dicomWebBaseUrl(request, ctx.config);
  const part = (instance: StoredInstance, body: Buffer): OutgoingPart => ({
    headers: {
      'Content-Type': mediaType,
      'Content-Location': `${instanceUrl(base, instance.studyInstanceUID, instance.seriesInstanceUID, instance.sopInstanceUID)}/rendered`,
    },
    body,
  });
  for (const instance of images) checkRenderable(instance, 1);
  const first = part(images[0]!, await renderInstanceFrame(ctx.store, images[0]!, 1, params));
  async function* parts(): AsyncGenerator<OutgoingPart> {
    yield first;
    for (const instance of images.slice(1)) yield part(instance, await renderInstanceFrame(ctx.store, instance, 1, params));
  }
  const writer = new MultipartWriter(mediaType);
  reply.header('Content-Type', writer.contentType);
  return reply.send(truncatingMultipartStream(writer, parts(), logOf(ctx), `rendered ${describeSelector(selector)}`));
};

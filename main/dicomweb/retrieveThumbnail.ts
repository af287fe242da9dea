/**
 * WADO-RS Retrieve Thumbnail (PS3.18 10.4.1.1.5 "thumbnail resources", 8.3.5):
 *   GET {Root}studies/{s}/thumbnail, …/series/{se}/thumbnail,
 *       …/instances/{i}/thumbnail, …/instances/{i}/frames/{n}/thumbnail
 * One small image (image/jpeg by default, image/png; viewport 128,128 unless
 * `viewport` is given; `window` and `quality` as for rendered). The
 * representative image, which the standard leaves to the server:
 *  - instance: its first frame (frames/{n}: frame n);
 *  - series: its middle instance with pixel data (InstanceNumber order);
 *  - study: the middle instance of its first series (SeriesNumber order) that
 *    has pixel data.
 * Each thumbnail is rendered once and cached on disk (main/pixels/thumbnailCache.ts).
 */
import { AppError } from '../errors.js';
import { renderInstanceFrame, checkRenderable } from '../pixels/renderInstance.js';
import { cachedThumbnail } from '../pixels/thumbnailCache.js';
import type { StoredInstance } from '../store/types.js';
import type { Transaction } from './context.js';
import { parseRenderedQuery } from './renderedQuery.js';
import { instanceOf, renderedMediaType, singleFrameOf } from './retrieveRendered.js';
import { describeSelector, uidSelectorOf } from './uidSelector.js';

type Query = Record<string, string | string[] | undefined>;

export const THUMBNAIL_VIEWPORT = { width: 128, height: 128 };
export const THUMBNAIL_QUALITY = 80;

/**
 * The middle instance with pixel data of the first series that has any;
 * `instances` in series (SeriesNumber) then InstanceNumber order, as
 * Store.findInstances gives them.
 */
export function representativeInstance(instances: StoredInstance[]): StoredInstance | undefined {
  const firstImage = instances.find((i) => i.pixel !== null);
  if (!firstImage) return undefined;
  const series = instances.filter((i) => i.pixel !== null && i.seriesInstanceUID === firstImage.seriesInstanceUID);
  return series[Math.floor((series.length - 1) / 2)];
}

export const retrieveThumbnail: Transaction = async (request, reply, ctx) => {
  const selector = uidSelectorOf(request);
  let instance: StoredInstance;
  let frame = 1;
  if (selector.instance !== undefined) {
    frame = singleFrameOf(request);
    instance = instanceOf(ctx.store, selector);
  } else {
    const instances = ctx.store.findInstances(selector);
    if (instances.length === 0) throw new AppError('not-found', `no ${describeSelector(selector)} in the store`);
    const chosen = representativeInstance(instances);
    if (!chosen) throw new AppError('not-acceptable', `${describeSelector(selector)} has no instance with pixel data, so no thumbnail`);
    instance = chosen;
  }
  const mediaType = renderedMediaType(request, `thumbnail of ${describeSelector(selector)}`);
  const params = parseRenderedQuery(request.query as Query, mediaType, { viewport: THUMBNAIL_VIEWPORT, quality: THUMBNAIL_QUALITY });
  checkRenderable(instance, frame);
  const { bytes } = await cachedThumbnail(ctx.store.storageDirectory, instance, frame, params, () =>
    renderInstanceFrame(ctx.store, instance, frame, params),
  );
  reply.header('Content-Type', mediaType);
  return reply.send(bytes);
};

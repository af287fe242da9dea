/**
 * One frame of a stored instance rendered (PS3.18 10.4.1.1.3 Rendered, 8.3.5
 * Thumbnail, 9.1.2 WADO-URI images): the stored frame read (pixelSource), the
 * rendering attributes taken from the stored DICOM JSON (no re-parse), then
 * rendered (render.ts): native frames in this thread, compressed ones decoded
 * and rendered together on a pixel worker thread.
 */
import type { DicomJsonDataset } from '../dicom/types.js';
import { frameCount } from '../dicomweb/frames.js';
import { AppError } from '../errors.js';
import type { Store, StoredInstance } from '../store/types.js';
import { isNative, nativeFrame } from './decodeFrame.js';
import { renderInPool } from './decodePool.js';
import { openPixelSource } from './pixelSource.js';
import { renderFrame, type RenderParams } from './render.js';
import { readPalette, renderingAttributesOf } from './renderingAttributes.js';

function describe(instance: StoredInstance): string {
  return `instance ${instance.sopInstanceUID}`;
}

/** The instance's stored DICOM JSON. */
function storedDataset(store: Store, instance: StoredInstance): DicomJsonDataset {
  const selector = { study: instance.studyInstanceUID, series: instance.seriesInstanceUID, instance: instance.sopInstanceUID };
  for (const { json } of store.instanceMetadata(selector)) return JSON.parse(json) as DicomJsonDataset;
  throw new AppError('not-found', `${describe(instance)} is no longer in the store`);
}

/** Throws unless the instance has pixel data with frame `frame` (1-based): 406 for non-image objects, 404 for a frame beyond the last. */
export function checkRenderable(instance: StoredInstance, frame: number): void {
  if (!instance.pixel) {
    throw new AppError(
      'not-acceptable',
      `${describe(instance)} (SOP Class ${instance.sopClassUID}) has no pixel data, so no rendered image; retrieve it as application/dicom`,
    );
  }
  const count = frameCount(instance.pixel);
  if (frame < 1 || frame > count) {
    throw new AppError('not-found', `frame ${frame} does not exist: ${describe(instance)} has ${count} frame${count === 1 ? '' : 's'}`);
  }
}

export async function renderInstanceFrame(store: Store, instance: StoredInstance, frame: number, params: RenderParams): Promise<Buffer> {
  checkRenderable(instance, frame);
  const dataset = storedDataset(store, instance);
  // Big endian 8-bit Pixel Data stored as OW has its bytes swapped in 16-bit words (PS3.5 7.3).
  const eightBitAsOW = instance.bigEndian && instance.pixel!.bitsAllocated === 8 && dataset['7FE00010']?.vr === 'OW';
  const source = await openPixelSource(instance, { eightBitAsOW });
  let stored: Buffer;
  try {
    stored = await source.readStoredFrame(frame);
  } finally {
    await source.close();
  }
  const attributes = renderingAttributesOf(dataset, frame);
  if (source.info.photometricInterpretation === 'PALETTE COLOR') attributes.palette = await readPalette(instance, dataset);
  try {
    // Native frames are windowed here (a table lookup per pixel; sharp encodes on its own
    // threads): handing 0.5 MB to a worker costs more than it saves (measured). Compressed
    // frames are decoded, windowed and encoded together on a pixel worker thread, so the
    // decoded frame never crosses back.
    if (isNative(source.info.transferSyntaxUID)) return await renderFrame(nativeFrame(stored, source.info), attributes, params);
    return await renderInPool(stored, source.info, attributes, params);
  } catch (err) {
    const where = `frame ${frame} of ${describe(instance)} (stored as ${instance.transferSyntaxUID})`;
    if (err instanceof AppError) throw new AppError(err.kind, `${where}: ${err.message}`, err.details);
    throw new AppError('bad-dicom', `${where} cannot be rendered: ${err instanceof Error ? err.message : String(err)}`);
  }
}

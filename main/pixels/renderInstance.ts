/**
 * One frame of a stored instance rendered (PS3.18 10.4.1.1.3 Rendered, 8.3.5
 * Thumbnail, 9.1.2 WADO-URI images): the stored frame read (pixelSource), the
 * rendering attributes taken from the stored DICOM JSON (no re-parse), then
 * rendered (render.ts): the frame is read from the file, decoded and rendered
 * together on a pixel worker thread.
 */
import type { DicomJsonDataset } from '../dicom/types.js';
import { frameCount } from '../dicomweb/frames.js';
import { AppError } from '../errors.js';
import type { Store, StoredInstance } from '../store/types.js';
import { renderStoredInPool } from './decodePool.js';
import type { RenderingAttributes, RenderParams } from './render.js';
import { hasDataLuts, readDataLuts, readPalette, renderingAttributesOf } from './renderingAttributes.js';

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

/** What rendering a frame takes from the dataset, besides the palette (read from the file each time). */
interface FrameRendering {
  attributes: RenderingAttributes;
  eightBitAsOW: boolean;
}

/**
 * Rendering attributes of recently rendered frames, keyed by stored file path
 * and frame: a series' slices are rendered one after the other, often more
 * than once (viewer scrolling, thumbnails), and parsing the instance's whole
 * DICOM JSON per image cost more than the window lookup. A stored file never
 * changes under its path (every store writes a new UUID-named file), so an
 * entry cannot go stale; a deleted instance is not found by the route first.
 */
const FRAME_RENDERING = new Map<string, FrameRendering>();
const MAX_CACHED_FRAMES = 512;

async function frameRendering(store: Store, instance: StoredInstance, frame: number): Promise<FrameRendering> {
  const key = `${instance.path}#${frame}`;
  const hit = FRAME_RENDERING.get(key);
  if (hit) return hit;
  const dataset = storedDataset(store, instance);
  const attributes = renderingAttributesOf(dataset, frame);
  // Modality / VOI LUT Sequences: their tables may be bulk data, read from the file once here.
  if (hasDataLuts(dataset, frame)) Object.assign(attributes, await readDataLuts(instance, dataset, frame));
  const value: FrameRendering = {
    attributes,
    // Big endian 8-bit Pixel Data stored as OW has its bytes swapped in 16-bit words (PS3.5 7.3).
    eightBitAsOW: instance.bigEndian && instance.pixel!.bitsAllocated === 8 && dataset['7FE00010']?.vr === 'OW',
  };
  if (FRAME_RENDERING.size >= MAX_CACHED_FRAMES) FRAME_RENDERING.delete(FRAME_RENDERING.keys().next().value!);
  FRAME_RENDERING.set(key, value);
  return value;
}

export async function renderInstanceFrame(store: Store, instance: StoredInstance, frame: number, params: RenderParams): Promise<Buffer> {
  checkRenderable(instance, frame);
  const rendering = await frameRendering(store, instance, frame);
  const attributes: RenderingAttributes = { ...rendering.attributes };
  if (instance.pixel!.photometricInterpretation === 'PALETTE COLOR') attributes.palette = await readPalette(instance, storedDataset(store, instance));
  const where = `frame ${frame} of ${describe(instance)} (stored as ${instance.transferSyntaxUID})`;
  // The worker reads the frame from the file itself, decodes, windows and encodes it: only the
  // encoded image crosses back, and this thread keeps to HTTP and the index (measured with
  // bench:pixels: rendering here made the event loop the bottleneck; passing the frame's
  // bytes to a worker cost a 0.5 MB copy per image).
  return renderStoredInPool(instance, frame, rendering.eightBitAsOW, attributes, params, (failure) => {
    if (failure.stage === 'read') throw new AppError(failure.kind, failure.message);
    if (failure.appError) throw new AppError(failure.kind, `${where}: ${failure.message}`);
    throw new AppError('bad-dicom', `${where} cannot be rendered: ${failure.message}`);
  });
}

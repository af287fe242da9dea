/**
 * The thumbnail cache (PS3.18 8.3.5 / 10.4.1.1.5 Thumbnail): each thumbnail is
 * rendered once and kept on disk in `{storage}/thumbnails/{file uuid}/`, one
 * file per frame and rendering parameters. Keyed by the stored file's UUID, so
 * deleting the instance (StorageArea.removeSync) removes its thumbnails, and an
 * instance deleted then stored again never meets an old one. Written to a
 * temporary file then renamed (a reader never sees half a file); a file that
 * does not look like a whole JPEG/PNG is recomputed.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { thumbnailFolderOf } from '../store/files.js';
import type { StoredInstance } from '../store/types.js';
import type { RenderParams } from './render.js';

/** Where the thumbnail of `instance`, `frame`, rendered with `params`, is kept. */
export function thumbnailPath(storageDirectory: string, instance: StoredInstance, frame: number, params: RenderParams): string {
  const key = createHash('sha1')
    .update(JSON.stringify([params.mediaType, params.window ?? null, params.viewport ?? null, params.quality ?? null]))
    .digest('hex')
    .slice(0, 20);
  const extension = params.mediaType === 'image/png' ? 'png' : 'jpg';
  return join(thumbnailFolderOf(storageDirectory, basename(instance.path)), `${frame}-${key}.${extension}`);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** A whole JPEG (SOI … EOI) or PNG (signature … IEND): what a cut or garbled file would not be. */
export function looksComplete(bytes: Buffer, mediaType: RenderParams['mediaType']): boolean {
  if (mediaType === 'image/png') {
    return bytes.length > 20 && bytes.subarray(0, 8).equals(PNG_SIGNATURE) && bytes.subarray(bytes.length - 12).equals(PNG_IEND);
  }
  return bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
}

export interface CachedThumbnail {
  bytes: Buffer;
  /** Served from the cache file. */
  cached: boolean;
  path: string;
}

/** The cached thumbnail, or `render()`'s result, stored for next time (a failure to store is not the request's failure). */
export async function cachedThumbnail(
  storageDirectory: string,
  instance: StoredInstance,
  frame: number,
  params: RenderParams,
  render: () => Promise<Buffer>,
): Promise<CachedThumbnail> {
  const path = thumbnailPath(storageDirectory, instance, frame, params);
  const existing = await readFile(path).catch(() => undefined);
  if (existing && looksComplete(existing, params.mediaType)) return { bytes: existing, cached: true, path };
  const bytes = await render();
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(temp, bytes);
    await rename(temp, path);
    // Deleted meanwhile: its folder was removed before this write recreated it.
    if (!existsSync(instance.path)) await rm(join(path, '..'), { recursive: true, force: true });
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
  return { bytes, cached: false, path };
}

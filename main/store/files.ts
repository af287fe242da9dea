/**
 * The files of the store: Part-10 files named by a UUID under two levels of
 * folders, as Orthanc lays out its storage area (`{storage}/ab/cd/abcd….`),
 * and the temp folder `{storage}/tmp` where files are written and fsynced
 * before being renamed into place (same file system, so the rename is atomic).
 *
 * Unlike Orthanc, the first four hex digits of a file's UUID (its folder) come
 * from its study's Orthanc ID, the rest is random: the instances of one study
 * share a folder, so a STOW batch from one study fsyncs one folder, not fifty.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const TEMP_FOLDER = 'tmp';

/**
 * Files derived from a stored file (rendered thumbnails, main/pixels/thumbnailCache.ts)
 * live in `{storage}/thumbnails/{uuid}/`: removing the stored file removes them.
 */
export const THUMBNAIL_FOLDER = 'thumbnails';

export function thumbnailFolderOf(storageDirectory: string, uuid: string): string {
  return join(storageDirectory, THUMBNAIL_FOLDER, uuid);
}

/** Path of a stored file relative to the storage directory. */
export function storedFileRelativePath(uuid: string): string {
  return join(uuid.slice(0, 2), uuid.slice(2, 4), uuid);
}

export class StorageArea {
  readonly tempDirectory: string;
  /** Folders known to exist, so that a batch does not mkdir the same folder fifty times. */
  private readonly knownFolders = new Set<string>();
  /** Folders created since the last syncFolders: their parents must be flushed too. */
  private readonly createdFolders = new Set<string>();

  constructor(readonly directory: string) {
    this.tempDirectory = join(directory, TEMP_FOLDER);
    mkdirSync(this.tempDirectory, { recursive: true });
  }

  pathOf(uuid: string): string {
    return join(this.directory, storedFileRelativePath(uuid));
  }

  private tempPathOf(uuid: string): string {
    return join(this.tempDirectory, `${uuid}.part`);
  }

  /** A new file UUID; `folderKey` (hex, e.g. the study's Orthanc ID) chooses its folder. */
  newUuid(folderKey?: string): string {
    const random = randomUUID();
    const hex = folderKey?.replace(/-/g, '').slice(0, 4) ?? '';
    return /^[0-9a-f]{4}$/.test(hex) ? hex + random.slice(4) : random;
  }

  /**
   * Writes `bytes` (one buffer, or pieces in order) to the temp file of `uuid`
   * (which must not exist) and fsyncs it. One writev whatever the size
   * (FileHandle.writeFile would cut a file in writes of 512 KiB, each a trip
   * through the thread pool).
   */
  async writeTemp(bytes: Uint8Array | readonly Uint8Array[], uuid: string): Promise<void> {
    const path = this.tempPathOf(uuid);
    const pieces = bytes instanceof Uint8Array ? [bytes] : bytes;
    let size = 0;
    for (const piece of pieces) size += piece.length;
    const handle = await open(path, 'wx');
    try {
      // libuv writes all the pieces (it loops over short writes), or fails.
      const { bytesWritten } = await handle.writev(pieces as Uint8Array[]);
      if (bytesWritten !== size) throw new Error(`short write: ${bytesWritten} of ${size} bytes`);
      await handle.sync();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    await handle.close();
  }

  /** Renames a temp file to its place in the storage area. */
  async moveIntoPlace(uuid: string): Promise<void> {
    const target = this.pathOf(uuid);
    const folder = join(this.directory, uuid.slice(0, 2), uuid.slice(2, 4));
    if (!this.knownFolders.has(folder)) {
      const created = await mkdir(folder, { recursive: true });
      this.knownFolders.add(folder);
      if (created !== undefined) this.createdFolders.add(folder);
    }
    await rename(this.tempPathOf(uuid), target);
  }

  /**
   * Flushes the folders that received renamed files (and folders created for
   * them), so that the renames survive a power loss before the index commit.
   */
  async syncFolders(uuids: string[]): Promise<void> {
    const folders = new Set<string>();
    for (const uuid of uuids) folders.add(join(this.directory, uuid.slice(0, 2), uuid.slice(2, 4)));
    for (const created of this.createdFolders) {
      folders.add(dirname(created)); // {storage}/ab holds the new entry cd
      folders.add(this.directory); // and {storage} perhaps a new ab
    }
    this.createdFolders.clear();
    await Promise.all([...folders].map((folder) => syncFolder(folder)));
  }

  /** Removes a temp file that will not be stored (ignores a file already gone). */
  async discardTemp(uuid: string): Promise<void> {
    await unlink(this.tempPathOf(uuid)).catch(ignoreMissing);
  }

  /** Removes a stored file (ignores a file already gone). */
  async remove(uuid: string): Promise<void> {
    await unlink(this.pathOf(uuid)).catch(ignoreMissing);
  }

  /** Removes a stored file now, and the thumbnails made from it (ignores a file already gone). */
  removeSync(uuid: string): void {
    rmSync(this.pathOf(uuid), { force: true });
    rmSync(this.tempPathOf(uuid), { force: true });
    rmSync(thumbnailFolderOf(this.directory, uuid), { force: true, recursive: true });
  }

  /** Deletes everything left in the temp folder (writes interrupted by a crash). Returns how many. */
  clearTemp(): number {
    let count = 0;
    for (const name of readdirSync(this.tempDirectory)) {
      rmSync(join(this.tempDirectory, name), { force: true, recursive: true });
      count++;
    }
    return count;
  }
}

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** ENOENT, or ENOTDIR (a folder on the path is not one): the file is not there. */
function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
}

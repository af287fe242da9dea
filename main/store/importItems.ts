/**
 * What an import reads, as a stream of items: each file under the given
 * paths (folders walked recursively in name order, symbolic links to folders
 * not followed), each entry of a ZIP archive (zipEntries.ts), each file a
 * DICOMDIR names. Items are read lazily, one per `next()`, so a cancelled
 * import stops reading at once.
 *
 * A file is a ZIP archive when its name ends in .zip or it starts with a ZIP
 * local file header, unless it is a Part-10 file. A folder holding a file
 * named DICOMDIR is a medium (PS3.10 8): the files its records reference are
 * imported (dicomdir.ts), not the whole tree; referenced files that are
 * missing are failures; files on the medium the DICOMDIR does not name are
 * left alone. A DICOMDIR that cannot be read is a failure and its folder is
 * then walked like any other. A DICOMDIR given as a path stands for its medium.
 */
import type { Dirent } from 'node:fs';
import { open, opendir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { MediumFiles, invalidFileId, referencedFileIds } from './dicomdir.js';
import { SNIFF_BYTES, isDicomdirName, sniff } from './sniffDicom.js';
import type { ImportProgress } from './types.js';
import { DEFAULT_ZIP_LIMITS, zipItems, type ZipLimits } from './zipEntries.js';

type Container = NonNullable<ImportProgress['container']>;

export type ImportItem = { path: string; container?: Container } & (
  | {
      kind: 'dicom';
      bytes: Buffer;
      /** Has the Part-10 'DICM' prefix: a parse failure is a failure, not a skip. */
      part10: boolean;
    }
  | { kind: 'not-dicom' }
  | { kind: 'dicomdir' }
  | { kind: 'failed'; message: string }
);

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const cannotRead = (path: string, err: unknown): ImportItem => ({ path, kind: 'failed', message: `cannot read ${path}: ${message(err)}` });

/** Reads a file if it may be DICOM; 'zip' when it is an archive (and `zipAllowed`). */
async function readFileItem(path: string, zipAllowed: boolean): Promise<ImportItem | 'zip'> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const kind = sniff(head.subarray(0, bytesRead));
    if (zipAllowed && (kind === 'zip' || (kind !== 'part10' && /\.zip$/i.test(path)))) return 'zip';
    if (kind === 'not-dicom' || kind === 'zip') return { path, kind: 'not-dicom' };
    return { path, kind: 'dicom', bytes: await handle.readFile(), part10: kind === 'part10' };
  } finally {
    await handle.close();
  }
}

interface Walk {
  zipLimits: ZipLimits;
}

async function* fileItems(path: string, walk: Walk): AsyncGenerator<ImportItem> {
  let item: ImportItem | 'zip';
  try {
    item = await readFileItem(path, true);
  } catch (err) {
    yield cannotRead(path, err);
    return;
  }
  if (item === 'zip') yield* zipItems(path, walk.zipLimits);
  else yield item;
}

async function* folderItems(folder: string, walk: Walk, ignoreDicomdir = false): AsyncGenerator<ImportItem> {
  const entries: Dirent[] = [];
  try {
    for await (const entry of await opendir(folder)) entries.push(entry);
  } catch (err) {
    yield cannotRead(folder, err);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!ignoreDicomdir) {
    const dicomdir = entries.find((e) => isDicomdirName(e.name) && (e.isFile() || e.isSymbolicLink()));
    if (dicomdir) {
      yield* mediumItems(join(folder, dicomdir.name), walk);
      return;
    }
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* folderItems(path, walk);
    else if (ignoreDicomdir && isDicomdirName(entry.name)) continue;
    else if (entry.isFile()) yield* fileItems(path, walk);
    else if (entry.isSymbolicLink()) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) yield* fileItems(path, walk);
    }
  }
}

/** The files a DICOMDIR references, relative to its folder. */
async function* mediumItems(dicomdirPath: string, walk: Walk): AsyncGenerator<ImportItem> {
  const root = dirname(dicomdirPath);
  let ids: string[][];
  try {
    ids = referencedFileIds(await readFile(dicomdirPath));
  } catch (err) {
    yield { path: dicomdirPath, kind: 'failed', message: `cannot read the DICOMDIR ${dicomdirPath}: ${message(err)}; its folder is imported file by file` };
    yield* folderItems(root, walk, true);
    return;
  }
  const total = ids.length;
  yield { path: dicomdirPath, kind: 'dicomdir', container: { kind: 'dicomdir', path: dicomdirPath, done: 0, total } };
  const medium = new MediumFiles(root);
  for (const [k, components] of ids.entries()) {
    const container: Container = { kind: 'dicomdir', path: dicomdirPath, done: k + 1, total };
    const shown = components.join(sep);
    const invalid = invalidFileId(components);
    if (invalid) {
      yield { path: dicomdirPath, kind: 'failed', message: `DICOMDIR references ${shown}: ${invalid}`, container };
      continue;
    }
    const path = await medium.find(components);
    if (!path) {
      yield { path: join(root, ...components), kind: 'failed', message: `DICOMDIR references ${shown}, not found on the medium`, container };
      continue;
    }
    let item: ImportItem | 'zip';
    try {
      item = await readFileItem(path, false);
    } catch (err) {
      item = cannotRead(path, err);
    }
    if (item !== 'zip') yield { ...item, container };
  }
}

/** Every item under the paths, in order. */
export async function* importItems(paths: string[], options: { zipLimits?: ZipLimits } = {}): AsyncGenerator<ImportItem> {
  const walk: Walk = { zipLimits: options.zipLimits ?? DEFAULT_ZIP_LIMITS };
  for (const path of paths) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(path)).isDirectory();
    } catch (err) {
      yield cannotRead(path, err);
      continue;
    }
    if (isFolder) yield* folderItems(path, walk);
    else if (isDicomdirName(basename(path))) yield* mediumItems(path, walk);
    else yield* fileItems(path, walk);
  }
}

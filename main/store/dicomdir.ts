/**
 * DICOMDIR of a File-set (CD, DVD, USB medium; PS3.10 8, PS3.3 Annex F): the
 * files it names, found on the medium.
 *
 * The DICOMDIR is read with the project's own Part-10 parser
 * (main/dicom/readPart10.ts): the Directory Record Sequence (0004,1220) holds
 * one record per patient, study, series and instance; the records that name a
 * file carry its Referenced File ID (0004,1500), a CS value whose components
 * are folder names then the file name (PS3.10 8.2, 8.5: up to 8 characters of
 * upper-case letters, digits and '_'). Records whose Record In-use Flag
 * (0004,1410, retired) is 0 are inactive and skipped (PS3.3 F.3.2.2 in older
 * editions). A component is never allowed to climb out of the medium ('..',
 * separators, empty).
 *
 * Names are matched case-insensitively, and with an ISO 9660 version suffix
 * (';1') or a trailing '.' ignored: CD file systems upper-case names and some
 * mounts show those suffixes, while copies made by hand may have lower-cased
 * them. An exact match wins over a case-insensitive one.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { badDicom } from '../dicom/readDataset.js';
import { readPart10 } from '../dicom/readPart10.js';
import type { DicomJsonDataset } from '../dicom/types.js';

/** Media Storage Directory Storage (PS3.4 Annex F): the SOP class of a DICOMDIR, not an instance to store. */
export const MEDIA_STORAGE_DIRECTORY_STORAGE = '1.2.840.10008.1.3.10';

const DIRECTORY_RECORD_SEQUENCE = '00041220'; // DirectoryRecordSequence
const RECORD_IN_USE_FLAG = '00041410'; // RecordInUseFlag
const REFERENCED_FILE_ID = '00041500'; // ReferencedFileID

/**
 * The Referenced File IDs of a DICOMDIR's active records, each as its
 * components, in record order, without repeats. Throws AppError('bad-dicom')
 * when the bytes are not a DICOMDIR.
 */
export function referencedFileIds(bytes: Buffer): string[][] {
  const part10 = readPart10(bytes);
  const sopClass = part10.mediaStorageSOPClassUID;
  if (sopClass !== undefined && sopClass !== MEDIA_STORAGE_DIRECTORY_STORAGE) {
    throw badDicom(`not a DICOMDIR: its Media Storage SOP Class UID is ${sopClass}, not ${MEDIA_STORAGE_DIRECTORY_STORAGE}`);
  }
  const records = part10.reading.dataset[DIRECTORY_RECORD_SEQUENCE];
  if (!records) throw badDicom('not a DICOMDIR: no Directory Record Sequence (0004,1220)');
  const seen = new Set<string>();
  const ids: string[][] = [];
  for (const record of (records.Value ?? []) as DicomJsonDataset[]) {
    if (record?.[RECORD_IN_USE_FLAG]?.Value?.[0] === 0) continue;
    const value = record?.[REFERENCED_FILE_ID]?.Value;
    if (!value || value.length === 0) continue;
    const components = value.map((c) => (typeof c === 'string' ? c : ''));
    const key = components.join('\\').toUpperCase();
    if (seen.has(key)) continue;
    seen.add(key);
    ids.push(components);
  }
  return ids;
}

/** Why a Referenced File ID cannot name a file inside the medium, or undefined when it can. */
export function invalidFileId(components: string[]): string | undefined {
  for (const c of components) {
    if (c === '' || c === '.' || c === '..' || /[/\\\0]/.test(c)) return `component '${c}' is not a file or folder name (PS3.10 8.2)`;
  }
  return undefined;
}

/** A name as a CD may show it: upper case, no ISO 9660 version suffix, no trailing dot. */
function normalized(name: string): string {
  return name.replace(/;\d*$/, '').replace(/\.$/, '').toUpperCase();
}

/** Finds referenced files under the medium's root folder; folder listings are read once. */
export class MediumFiles {
  private readonly listings = new Map<string, Promise<string[]>>();

  constructor(readonly root: string) {}

  /** The path of the file a (valid) Referenced File ID names, or undefined when there is none. */
  async find(components: string[]): Promise<string | undefined> {
    let folder = this.root;
    for (const component of components) {
      const names = await this.listing(folder);
      let name: string | undefined = names.find((n) => n === component);
      if (name === undefined) {
        const wanted = normalized(component);
        name = names.find((n) => normalized(n) === wanted);
      }
      if (name === undefined) return undefined;
      folder = join(folder, name);
    }
    return folder;
  }

  private listing(folder: string): Promise<string[]> {
    let names = this.listings.get(folder);
    if (!names) {
      names = readdir(folder).then(
        (list) => list.sort(),
        () => [],
      );
      this.listings.set(folder, names);
    }
    return names;
  }
}

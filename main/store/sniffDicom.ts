/**
 * What a file (or a ZIP entry) is, from its first bytes, before it is read
 * whole: a Part-10 file (128-byte preamble then 'DICM', PS3.10 7.1), a raw
 * dataset as old software wrote it without preamble (its first tag is of
 * group 0002 or 0008), a ZIP archive (local file header signature
 * PK\x03\x04, APPNOTE 4.3.7), or something else.
 */

export type Sniff = 'part10' | 'raw-dataset' | 'zip' | 'not-dicom';

/** Bytes to read before deciding. */
export const SNIFF_BYTES = 132;

const ZIP_LOCAL_FILE_HEADER = 0x04034b50;

/** `head`: the first SNIFF_BYTES bytes (fewer when the file is shorter). */
export function sniff(head: Buffer): Sniff {
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'part10';
  if (head.length >= 4 && head.readUInt32LE(0) === ZIP_LOCAL_FILE_HEADER) return 'zip';
  if (head.length >= 8) {
    const groupLE = head.readUInt16LE(0);
    const groupBE = head.readUInt16BE(0);
    if (groupLE === 0x0002 || groupLE === 0x0008 || groupBE === 0x0008) return 'raw-dataset';
  }
  return 'not-dicom';
}

/** PS3.10 8.2: the DICOMDIR file of a File-set is named DICOMDIR (any case on media copied by hand). */
export function isDicomdirName(name: string): boolean {
  return name.toUpperCase() === 'DICOMDIR';
}

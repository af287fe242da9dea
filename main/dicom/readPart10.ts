/**
 * Reads a DICOM file: PS3.10 7.1 (128-byte preamble, 'DICM', File Meta
 * Information group 0002 in explicit VR little endian), then the dataset in its
 * transfer syntax (PS3.5 10, A.1-A.5; deflate per A.5 with node:zlib).
 *
 * Also takes bytes with no preamble or no File Meta when the dataset can be
 * recognised: the first elements must read as plausible data elements; the
 * encoding is guessed from them (explicit VR if bytes 4-5 are a VR, byte order
 * from the smaller group number, implicit VR little endian otherwise). The
 * declared transfer syntax is also checked against the first element, as files
 * that say explicit but are implicit (and the reverse) exist.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { HeadTooShort, KNOWN_VRS, LONG_VRS, badDicom, readDataset, type DatasetEncoding, type DatasetReading } from './readDataset.js';

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

const TRANSFER_SYNTAX_UID = 0x00020010; // TransferSyntaxUID
const MEDIA_STORAGE_SOP_CLASS_UID = 0x00020002; // MediaStorageSOPClassUID
const MEDIA_STORAGE_SOP_INSTANCE_UID = 0x00020003; // MediaStorageSOPInstanceUID

export interface Part10 {
  transferSyntaxUID: string;
  /** The transfer syntax was not declared (no File Meta, or no (0002,0010)) and was guessed. */
  guessed: boolean;
  encoding: DatasetEncoding;
  deflated: boolean;
  /** Where the dataset starts in the file (after the File Meta Information). */
  datasetOffset: number;
  /** The bytes `reading`'s offsets refer to: the file, or the inflated dataset when deflated. */
  bytes: Buffer;
  reading: DatasetReading;
  mediaStorageSOPClassUID?: string;
  mediaStorageSOPInstanceUID?: string;
}

interface FileMeta {
  datasetOffset: number;
  transferSyntaxUID?: string;
  mediaStorageSOPClassUID?: string;
  mediaStorageSOPInstanceUID?: string;
}

function uidAt(buf: Buffer, offset: number, length: number): string {
  return buf.toString('latin1', offset, offset + length).replace(/[\0 ]+$/, '').trim();
}

function isVr(buf: Buffer, pos: number): boolean {
  return pos + 6 <= buf.length && KNOWN_VRS.has(String.fromCharCode(buf[pos + 4], buf[pos + 5]));
}

/** Group 0002 elements from `pos` (explicit VR little endian; an implicit one is tolerated). */
function readFileMeta(buf: Buffer, pos: number): FileMeta {
  const meta: FileMeta = { datasetOffset: pos };
  while (pos + 8 <= buf.length && buf.readUInt16LE(pos) === 0x0002) {
    const element = buf.readUInt16LE(pos + 2);
    let length: number;
    let valueOffset: number;
    if (isVr(buf, pos)) {
      const vr = String.fromCharCode(buf[pos + 4], buf[pos + 5]);
      if (LONG_VRS.has(vr)) {
        if (pos + 12 > buf.length) throw badDicom(`truncated at offset ${buf.length} while reading the File Meta Information header at offset ${pos}`);
        length = buf.readUInt32LE(pos + 8);
        valueOffset = pos + 12;
      } else {
        length = buf.readUInt16LE(pos + 6);
        valueOffset = pos + 8;
      }
    } else {
      length = buf.readUInt32LE(pos + 4);
      valueOffset = pos + 8;
    }
    if (length === 0xffffffff || valueOffset + length > buf.length) {
      throw badDicom(`truncated at offset ${buf.length} while reading File Meta Information element (0002,${element.toString(16).toUpperCase().padStart(4, '0')}) at offset ${pos}`);
    }
    const fullTag = (0x0002 * 0x10000 + element) >>> 0;
    if (fullTag === TRANSFER_SYNTAX_UID) meta.transferSyntaxUID = uidAt(buf, valueOffset, length);
    else if (fullTag === MEDIA_STORAGE_SOP_CLASS_UID) meta.mediaStorageSOPClassUID = uidAt(buf, valueOffset, length);
    else if (fullTag === MEDIA_STORAGE_SOP_INSTANCE_UID) meta.mediaStorageSOPInstanceUID = uidAt(buf, valueOffset, length);
    pos = valueOffset + length;
  }
  meta.datasetOffset = pos;
  return meta;
}

/**
 * Whether the bytes at `pos` read as data elements in `encoding`: up to 4
 * elements with ascending tags, known VRs (explicit) and lengths that fit.
 */
function looksLikeDataset(buf: Buffer, pos: number, encoding: DatasetEncoding): boolean {
  const { explicit, little } = encoding;
  let previous = -1;
  for (let n = 0; n < 4 && pos < buf.length; n++) {
    if (buf.length - pos < 8) return n > 0;
    const group = little ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
    const element = little ? buf.readUInt16LE(pos + 2) : buf.readUInt16BE(pos + 2);
    const tag = group * 0x10000 + element;
    if (tag <= previous || group === 0xfffe) return false;
    previous = tag;
    let length: number;
    let valueOffset: number;
    if (explicit) {
      if (!isVr(buf, pos)) return false;
      const vr = String.fromCharCode(buf[pos + 4], buf[pos + 5]);
      if (LONG_VRS.has(vr)) {
        if (buf.length - pos < 12) return false;
        length = little ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
        valueOffset = pos + 12;
      } else {
        length = little ? buf.readUInt16LE(pos + 6) : buf.readUInt16BE(pos + 6);
        valueOffset = pos + 8;
      }
    } else {
      length = little ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      valueOffset = pos + 8;
    }
    if (length === 0xffffffff) return true; // a sequence or encapsulated data: the walk will tell
    if (valueOffset + length > buf.length) return false;
    pos = valueOffset + length;
  }
  return true;
}

/** The encoding of a dataset at `pos`, guessed from its first elements, or undefined. */
function guessEncoding(buf: Buffer, pos: number): DatasetEncoding | undefined {
  if (buf.length - pos < 8) return undefined;
  if (isVr(buf, pos)) {
    const little = buf.readUInt16LE(pos) <= buf.readUInt16BE(pos);
    for (const candidate of [{ explicit: true, little }, { explicit: true, little: !little }]) {
      if (looksLikeDataset(buf, pos, candidate)) return candidate;
    }
  }
  const implicit = { explicit: false, little: true };
  return looksLikeDataset(buf, pos, implicit) ? implicit : undefined;
}

function transferSyntaxOf(encoding: DatasetEncoding): string {
  if (!encoding.explicit) return IMPLICIT_VR_LITTLE_ENDIAN;
  return encoding.little ? EXPLICIT_VR_LITTLE_ENDIAN : EXPLICIT_VR_BIG_ENDIAN;
}

function declaredEncoding(transferSyntaxUID: string): DatasetEncoding {
  if (transferSyntaxUID === IMPLICIT_VR_LITTLE_ENDIAN) return { explicit: false, little: true };
  if (transferSyntaxUID === EXPLICIT_VR_BIG_ENDIAN) return { explicit: true, little: false };
  return { explicit: true, little: true }; // all others, compressed ones included (PS3.5 A.4)
}

function inflate(buf: Buffer, offset: number): Buffer {
  const deflated = buf.subarray(offset);
  try {
    return inflateRawSync(deflated);
  } catch (rawError) {
    try {
      return inflateSync(deflated); // some writers keep the zlib header (not PS3.5 A.5, but seen)
    } catch {
      throw badDicom(`deflated dataset at offset ${offset} cannot be inflated: ${(rawError as Error).message}`);
    }
  }
}

/**
 * `fileLength`, when longer than `buf`: `buf` is only the start of a file of
 * that length (see readDataset). Only a file with a preamble, a File Meta
 * Information that fits in `buf` and declares a transfer syntax its first
 * element agrees with, and no deflate, is read so; any other throws
 * HeadTooShort, as does a dataset that needs bytes past `buf`.
 */
export function readPart10(buf: Buffer, fileLength = buf.length): Part10 {
  if (fileLength > buf.length) return readPart10Head(buf, fileLength);
  if (buf.length === 0) throw badDicom('not a DICOM file: it is empty (0 bytes)');
  let meta: FileMeta | undefined;
  if (buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM') meta = readFileMeta(buf, 132);
  else if (buf.toString('latin1', 0, 4) === 'DICM') meta = readFileMeta(buf, 4);
  else if (buf.length >= 8 && buf.readUInt16LE(0) === 0x0002 && isVr(buf, 0)) meta = readFileMeta(buf, 0);

  const datasetOffset = meta?.datasetOffset ?? 0;
  let transferSyntaxUID = meta?.transferSyntaxUID;
  let encoding: DatasetEncoding;
  let guessed = false;
  if (transferSyntaxUID) {
    encoding = declaredEncoding(transferSyntaxUID);
    // Check the declaration against the first element (not possible for deflated data).
    if (transferSyntaxUID !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN && buf.length - datasetOffset >= 8) {
      const found = isVr(buf, datasetOffset);
      if (found !== encoding.explicit && !looksLikeDataset(buf, datasetOffset, encoding)) {
        const other = { explicit: found, little: encoding.little };
        if (looksLikeDataset(buf, datasetOffset, other)) encoding = other;
      }
    }
  } else {
    if (datasetOffset >= buf.length && meta) throw badDicom('no dataset after the File Meta Information');
    const guess = guessEncoding(buf, datasetOffset);
    if (!guess) {
      throw badDicom(meta ? `no transfer syntax (0002,0010) in the File Meta Information and no recognizable dataset at offset ${datasetOffset}` : "not a DICOM file: no 'DICM' prefix and no recognizable dataset");
    }
    encoding = guess;
    transferSyntaxUID = transferSyntaxOf(guess);
    guessed = true;
  }

  const deflated = transferSyntaxUID === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN;
  const bytes = deflated ? inflate(buf, datasetOffset) : buf;
  const reading = readDataset(bytes, deflated ? 0 : datasetOffset, encoding, deflated ? ' of the inflated dataset' : '');
  return {
    transferSyntaxUID,
    guessed,
    encoding,
    deflated,
    datasetOffset,
    bytes,
    reading,
    mediaStorageSOPClassUID: meta?.mediaStorageSOPClassUID,
    mediaStorageSOPInstanceUID: meta?.mediaStorageSOPInstanceUID,
  };
}

/** readPart10 of the start of a file: only the plain case, where the guesses of the whole-file reading cannot depend on what `buf` lacks. */
function readPart10Head(buf: Buffer, fileLength: number): Part10 {
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') throw new HeadTooShort(132);
  const meta = readFileMeta(buf, 132);
  const { datasetOffset, transferSyntaxUID } = meta;
  // The File Meta walk stops at the end of `buf` as at its last element: it must have stopped at the dataset.
  if (datasetOffset + 8 > buf.length) throw new HeadTooShort(datasetOffset + 8);
  if (!transferSyntaxUID || transferSyntaxUID === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) throw new HeadTooShort(fileLength);
  const encoding = declaredEncoding(transferSyntaxUID);
  // A declaration the first element contradicts is settled by looking further (readPart10): not from a head.
  if (isVr(buf, datasetOffset) !== encoding.explicit) throw new HeadTooShort(fileLength);
  return {
    transferSyntaxUID,
    guessed: false,
    encoding,
    deflated: false,
    datasetOffset,
    bytes: buf,
    reading: readDataset(buf, datasetOffset, encoding, '', fileLength),
    mediaStorageSOPClassUID: meta.mediaStorageSOPClassUID,
    mediaStorageSOPInstanceUID: meta.mediaStorageSOPInstanceUID,
  };
}

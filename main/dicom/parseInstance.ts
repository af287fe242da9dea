/**
 * parseInstance: the one parse every stored instance goes through (STOW-RS,
 * PS3.18 10.5; import). Turns Part-10 bytes into what the store indexes and the
 * WADO-RS transactions serve without reading the file again: identifying UIDs,
 * the dataset as DICOM JSON (PS3.18 F.2) with bulk data as URIs, the byte range
 * of every bulk value and the pixel data layout.
 *
 * Fails with AppError('bad-dicom', …) saying what is wrong: not DICOM,
 * truncated (where, in which element), or a missing identifying UID.
 */
import { AppError } from '../errors.js';
import { readPart10, EXPLICIT_VR_BIG_ENDIAN } from './readPart10.js';
import { pixelLayoutOf, pixelShapeOf, frameLengthOf } from './pixelLayout.js';
import type { DicomJsonDataset, ParsedInstance } from './types.js';

function uidOf(dataset: DicomJsonDataset, key: string): string | undefined {
  const v = dataset[key]?.Value?.[0];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function required(dataset: DicomJsonDataset, key: string, name: string): string {
  const uid = uidOf(dataset, key);
  if (!uid) throw missingUid(name, key);
  return uid;
}

/** A readable dataset that lacks an identifying UID: 'bad-dicom' with `details.missingUid` (STOW-RS tells it apart). */
function missingUid(name: string, key: string): AppError {
  return new AppError('bad-dicom', `missing ${name} (${key.slice(0, 4)},${key.slice(4)})`, { missingUid: name });
}

/**
 * How much of a file in pieces parseInstanceOfChunks joins for a first try:
 * the attributes before the pixel data are a few KB in most files.
 */
const HEAD_BYTES = 32 * 1024;

/**
 * parseInstance of a file given as the pieces it arrived in (a STOW-RS part,
 * a retrieved part): the pieces are not joined when the attributes can be
 * read from the first one, or else from the first HEAD_BYTES, the bulk data
 * past them being only located (readPart10's `fileLength`); otherwise, and
 * whenever that reading fails, the whole file is joined and parsed, so the
 * result (or the error) is parseInstance's.
 */
export function parseInstanceOfChunks(chunks: readonly Buffer[], size: number): ParsedInstance {
  if (chunks.length === 1) return parseInstance(chunks[0]!);
  // The first piece alone (no copy at all) when the attributes end in it: a
  // socket read holds a few tens of KB, and joining each instance of a
  // retrieve was a copy of the whole answer.
  try {
    return parseInstance(chunks[0]!, size);
  } catch {
    // The attributes go on past it (or the file fails): a longer head, then the whole file.
  }
  let headLength = 0;
  let count = 0;
  while (count < chunks.length && headLength < HEAD_BYTES) headLength += chunks[count++]!.length;
  if (headLength < size) {
    const head = count === 1 ? chunks[0]! : Buffer.concat(chunks.slice(0, count), headLength);
    try {
      return parseInstance(head, size);
    } catch {
      // Needs more than the head (or fails): the whole file decides.
    }
  }
  return parseInstance(Buffer.concat(chunks, size));
}

/** `fileLength`: see readPart10 (`bytes` is then only the start of the file). */
export function parseInstance(bytes: Buffer, fileLength = bytes.length): ParsedInstance {
  const file = readPart10(bytes, fileLength);
  const { dataset, bulk, pixelData, writtenText } = file.reading;

  const sopInstanceUID = required(dataset, '00080018', 'SOPInstanceUID');
  const studyInstanceUID = required(dataset, '0020000D', 'StudyInstanceUID');
  const seriesInstanceUID = required(dataset, '0020000E', 'SeriesInstanceUID');
  // SOP Class from the dataset, else from the File Meta (0002,0002).
  const sopClassUID = uidOf(dataset, '00080016') ?? file.mediaStorageSOPClassUID;
  if (!sopClassUID) throw missingUid('SOPClassUID', '00080016');
  const patientID = dataset['00100020']?.Value?.[0]; // PatientID

  const parsed: ParsedInstance = {
    transferSyntaxUID: file.transferSyntaxUID,
    sopClassUID,
    sopInstanceUID,
    studyInstanceUID,
    seriesInstanceUID,
    patientID: typeof patientID === 'string' ? patientID : '',
    dataset,
    bulk: file.deflated ? {} : bulk,
    writtenText,
    deflated: file.deflated,
    bigEndian: file.transferSyntaxUID === EXPLICIT_VR_BIG_ENDIAN,
  };
  if (pixelData) {
    if (file.deflated) {
      // Offsets would index the inflated dataset: shape only (locateBulk gives the ranges).
      const shape = pixelShapeOf(dataset, pixelData.encapsulated);
      if (!pixelData.encapsulated) shape.frameLength = frameLengthOf(shape);
      parsed.pixel = shape;
    } else {
      parsed.pixel = pixelLayoutOf(bytes, dataset, pixelData, file.transferSyntaxUID, bulk['7FE00001']); // ExtendedOffsetTable
    }
  }
  return parsed;
}

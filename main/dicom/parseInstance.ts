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

export function parseInstance(bytes: Buffer): ParsedInstance {
  const file = readPart10(bytes);
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

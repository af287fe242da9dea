/**
 * Orthanc resource identifiers, computed exactly as Orthanc does
 * (OrthancFramework DicomInstanceHasher): the SHA-1 of the DICOM identifiers
 * of the resource and its parents joined by '|', written as five groups of
 * eight lower-case hex digits. Same file, same IDs as a real Orthanc.
 */
import { createHash } from 'node:crypto';
import type { ResourceIds } from './types.js';

/** SHA-1 of `parts.join('|')` as `xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx`. */
export function orthancId(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('|'), 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}-${hex.slice(24, 32)}-${hex.slice(32, 40)}`;
}

/** The four identifiers of an instance: patient, patient|study, …|series, …|instance. */
export function resourceIds(uids: {
  patientID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
}): ResourceIds {
  const { patientID, studyInstanceUID, seriesInstanceUID, sopInstanceUID } = uids;
  return {
    patient: orthancId(patientID),
    study: orthancId(patientID, studyInstanceUID),
    series: orthancId(patientID, studyInstanceUID, seriesInstanceUID),
    instance: orthancId(patientID, studyInstanceUID, seriesInstanceUID, sopInstanceUID),
  };
}

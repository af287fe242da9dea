/**
 * The fields of a job's description that copy Orthanc's jobs engine (GET
 * /jobs/{id}): times written as Orthanc writes them (UTC, ISO basic format
 * "20240131T142530.123456") and Orthanc's numeric ErrorCode for each of our
 * error kinds (OrthancFramework/Sources/Enumerations.h, ErrorCode_…).
 */
import type { ErrorKind } from '../errors.js';

/** Orthanc's timestamp format: YYYYMMDDTHHMMSS.ffffff, UTC. */
export function orthancTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}000`
  );
}

/** Orthanc's ErrorCode for a failed job, by kind (0 = Success). */
export const orthancErrorCodeOfKind: Record<ErrorKind, number> = {
  'bad-request': 8, // BadRequest
  'bad-dicom': 15, // BadFileFormat
  'not-found': 17, // UnknownResource
  conflict: 8, // BadRequest
  'unsupported-media-type': 8, // BadRequest
  'not-acceptable': 34, // NotAcceptable
  'payload-too-large': 8, // BadRequest
  unauthorized: 29, // Unauthorized
  config: 5, // BadParameterType
  'store-corrupt': 20, // CorruptedFile
  'store-in-use': 11, // Database
  'remote-unreachable': 9, // NetworkProtocol
  'remote-status': 9, // NetworkProtocol
  cancelled: 37, // CanceledJob
  internal: -1, // InternalError
};

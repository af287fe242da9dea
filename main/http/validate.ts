/**
 * Validation of identifiers taken from URLs, before they reach the store or the
 * file system (no path traversal, no SQL surprises): DICOM UIDs (PS3.5 9.1) and
 * Orthanc identifiers (SHA-1 as five groups of 8 hex digits).
 */
import { AppError } from '../errors.js';

const UID = /^[0-9]+(\.[0-9]+)*$/;
const ORTHANC_ID = /^[0-9a-f]{8}(-[0-9a-f]{8}){4}$/;

/** A DICOM UID (digits and dots, at most 64 characters), else a 400 naming `what`. */
export function parseUid(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64 || !UID.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
    throw new AppError('bad-request', `${what} must be a DICOM UID (digits and dots, at most 64 characters), got ${shown}`);
  }
  return value;
}

/** An Orthanc identifier, else a 400 naming `what`. */
export function parseOrthancId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !ORTHANC_ID.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
    throw new AppError('bad-request', `${what} must be an Orthanc identifier (xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx), got ${shown}`);
  }
  return value;
}

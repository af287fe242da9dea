/**
 * The body of POST {Root}servers/{name}/stow (the Orthanc DICOMweb plugin's
 * STOW-RS client route), read into a value object:
 *   { "Resources": [Orthanc IDs of patients, studies, series, instances],
 *     "HttpHeaders": { name: value }, "Synchronous": bool }
 * As in Orthanc, "Asynchronous": true is read too, and the call is
 * synchronous by default. The body is JSON whatever its Content-Type says
 * (curl -d sends application/x-www-form-urlencoded).
 */
import { AppError } from '../errors.js';

export interface StowRequest {
  /** Orthanc IDs as given, in order. */
  resources: string[];
  /** Extra headers for the STOW-RS requests (values may be tokens: never logged). */
  httpHeaders: Record<string, string>;
  synchronous: boolean;
}

/** Largest JSON body taken (a list of IDs). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates the body of a /stow call; `what` prefixes every message ("stow to 'pacs'"). */
export function parseStowRequest(body: unknown, what: string): StowRequest {
  if (!isPlainObject(body) || !Array.isArray(body.Resources)) {
    throw new AppError('bad-request', `${what}: the body must be a JSON object with "Resources", an array of Orthanc identifiers of patients, studies, series or instances`);
  }
  const resources = body.Resources.map((id, i) => {
    if (typeof id !== 'string' || id.length === 0) {
      throw new AppError('bad-request', `${what}: Resources[${i}] must be a non-empty string (an Orthanc identifier), got ${JSON.stringify(id)}`);
    }
    return id;
  });

  const httpHeaders: Record<string, string> = {};
  if (body.HttpHeaders !== undefined) {
    if (!isPlainObject(body.HttpHeaders)) throw new AppError('bad-request', `${what}: "HttpHeaders" must be an object of strings`);
    for (const [name, value] of Object.entries(body.HttpHeaders)) {
      // The value is not shown: it may be a token.
      if (typeof value !== 'string') throw new AppError('bad-request', `${what}: HttpHeaders.${name} must be a string`);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new AppError('bad-request', `${what}: HttpHeaders has a name that is not an HTTP header name: ${JSON.stringify(name)}`);
      if (/[\r\n\0]/.test(value)) throw new AppError('bad-request', `${what}: HttpHeaders.${name} holds a line break`);
      httpHeaders[name] = value;
    }
  }

  let synchronous = true; // Orthanc: "synchronous by default, for compatibility with <= 0.6"
  if (body.Synchronous !== undefined) {
    if (typeof body.Synchronous !== 'boolean') throw new AppError('bad-request', `${what}: "Synchronous" must be true or false`);
    synchronous = body.Synchronous;
  } else if (body.Asynchronous !== undefined) {
    if (typeof body.Asynchronous !== 'boolean') throw new AppError('bad-request', `${what}: "Asynchronous" must be true or false`);
    synchronous = !body.Asynchronous;
  }
  return { resources, httpHeaders, synchronous };
}

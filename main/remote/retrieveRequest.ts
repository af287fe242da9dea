/**
 * The body of `POST {Root}servers/{name}/retrieve` (Orthanc DICOMweb plugin,
 * "Retrieving DICOM resources from a WADO-RS server") as a value object:
 *
 *   { "Resources": [ { "Study": uid, "Series"?: uid, "Instance"?: uid }, … ],
 *     "HttpHeaders"?: { name: value },        added to every request to the server
 *     "Arguments"?: { name: value },          query arguments of every request
 *                                             ("HttpArguments", the seed's spelling, too)
 *     "Synchronous"?: boolean,                default true, as Orthanc 1.10 + plugin 1.7
 *     "Asynchronous"?: boolean }              Orthanc's other spelling (true = not synchronous)
 *
 * Resources use DICOM UIDs (not Orthanc IDs); an Instance needs its Series.
 */
import { AppError } from '../errors.js';
import { parseUid } from '../http/validate.js';

export interface RetrieveResource {
  Study: string;
  Series?: string;
  Instance?: string;
}

export interface RetrieveRequest {
  resources: RetrieveResource[];
  headers: Record<string, string>;
  query: Record<string, string>;
  synchronous: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{ name: string }` or undefined, else a 400 naming `what`. */
function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new AppError('bad-request', `retrieve: "${what}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw new AppError('bad-request', `retrieve: "${what}.${key}" must be a string`);
    out[key] = String(v);
  }
  return out;
}

export function parseRetrieveRequest(body: unknown): RetrieveRequest {
  if (!isPlainObject(body)) {
    throw new AppError('bad-request', 'retrieve: the body must be a JSON object { "Resources": [ { "Study": uid, "Series"?: uid, "Instance"?: uid } ] }');
  }
  const list = body.Resources;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AppError('bad-request', 'retrieve: "Resources" must be a non-empty list of { "Study": uid, "Series"?: uid, "Instance"?: uid }');
  }
  const resources = list.map((item, i): RetrieveResource => {
    if (!isPlainObject(item)) throw new AppError('bad-request', `retrieve: Resources[${i}] must be an object { "Study": uid, "Series"?: uid, "Instance"?: uid }`);
    const resource: RetrieveResource = { Study: parseUid(item.Study, `retrieve: Resources[${i}].Study`) };
    if (item.Series !== undefined) resource.Series = parseUid(item.Series, `retrieve: Resources[${i}].Series`);
    if (item.Instance !== undefined) {
      if (resource.Series === undefined) throw new AppError('bad-request', `retrieve: Resources[${i}] names an Instance without its Series`);
      resource.Instance = parseUid(item.Instance, `retrieve: Resources[${i}].Instance`);
    }
    return resource;
  });
  if (body.Arguments !== undefined && body.HttpArguments !== undefined) {
    throw new AppError('bad-request', 'retrieve: give "Arguments" or "HttpArguments", not both');
  }
  const synchronous =
    typeof body.Synchronous === 'boolean' ? body.Synchronous : typeof body.Asynchronous === 'boolean' ? !body.Asynchronous : true;
  for (const key of ['Synchronous', 'Asynchronous'] as const) {
    if (body[key] !== undefined && typeof body[key] !== 'boolean') throw new AppError('bad-request', `retrieve: "${key}" must be true or false`);
  }
  return {
    resources,
    headers: stringMap(body.HttpHeaders, 'HttpHeaders'),
    query: stringMap(body.Arguments ?? body.HttpArguments, body.Arguments !== undefined ? 'Arguments' : 'HttpArguments'),
    synchronous,
  };
}

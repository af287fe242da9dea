/**
 * Query strings for remote DICOMweb servers (the "Arguments" of
 * POST {Root}servers/{name}/get and /qido, QIDO-RS PS3.18 10.6 / 8.3.4).
 *
 * Orthanc 1.10's DICOMweb plugin does NOT percent-decode QIDO keys or values:
 * `PatientName=DOE%5E*` finds nothing there, `PatientName=DOE^*` finds DOE^JOHN.
 * So every character that may legally stand raw in a query value is sent
 * raw — letters, digits, `-` `.` `_` `~`, the DICOM wildcards `*` and `?`,
 * `,` (list of values), `^` (person name components: not an RFC 3986
 * character, but every server we know takes it) and the harmless
 * `! $ ( ) ; : @ /` — and the rest is percent-encoded as UTF-8: space, `&`
 * `=` `+` `#` `%` `'` `"`, controls and non-ASCII. A server that decodes (the
 * standard, our own engine, dcm4chee) reads the same value either way.
 * Orthanc 1.10 cannot match a value holding a space or a non-ASCII character
 * at all: raw bytes get 400 from its HTTP server, encoded ones are not decoded.
 */
import { AppError } from '../errors.js';

/** Characters sent as they are (see above). */
const RAW = /[A-Za-z0-9\-._~*?,^!$();:@/]/;

/** One key or value of a query string, encoded for real DICOMweb servers. */
export function encodeQueryComponent(text: string): string {
  let out = '';
  for (const char of text) {
    if (char.length === 1 && RAW.test(char)) out += char;
    else out += encodeURIComponent(char).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  return out;
}

/**
 * `key=value&key2=value2` from Arguments, in key order (as Orthanc sends
 * them); an empty value gives a bare `key` (Orthanc's `?expand`-style flags).
 */
export function encodeQuery(args: Record<string, string> | undefined): string {
  if (!args) return '';
  return Object.keys(args)
    .sort()
    .map((key) => {
      const value = args[key];
      return value === '' ? encodeQueryComponent(key) : `${encodeQueryComponent(key)}=${encodeQueryComponent(value)}`;
    })
    .join('&');
}

/**
 * A request's path relative to the server's Url: no query (Arguments carry
 * it, as Orthanc requires), no scheme or host, leading slashes dropped.
 * `what` names the request in messages.
 */
export function relativeRemotePath(uri: string, what: string): string {
  if (uri.includes('?')) {
    throw new AppError('bad-request', `${what}: "Uri" must not contain '?': give the query in "Arguments" (found ${JSON.stringify(uri.slice(0, 200))})`);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || uri.startsWith('//')) {
    throw new AppError('bad-request', `${what}: "Uri" must be a path relative to the server's Url, such as "/studies" (found ${JSON.stringify(uri.slice(0, 200))})`);
  }
  if (uri.includes('#')) {
    throw new AppError('bad-request', `${what}: "Uri" must not contain '#' (found ${JSON.stringify(uri.slice(0, 200))})`);
  }
  // Characters a URL path cannot carry raw are encoded; '/' and what is already encoded stay.
  const path = uri.replace(/^\/+/, '').replace(/\/{2,}/g, '/');
  return path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%^]/gu, (c) => encodeURIComponent(c));
}

/** The absolute URL of a request: server Url (ending in '/') + path + encoded query. */
export function remoteUrl(serverUrl: string, path: string, query?: Record<string, string>): string {
  const base = serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`;
  const q = encodeQuery(query);
  return base + path.replace(/^\/+/, '') + (q ? `?${q}` : '');
}

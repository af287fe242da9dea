/**
 * Media type values as they appear in Content-Type and Accept headers
 * (RFC 9110 8.3.1 and 12.5.1): `type/subtype; name=value; name="quoted value"`,
 * comma-separated lists. Used by STOW-RS (PS3.18 10.5, request Content-Type)
 * and by Accept negotiation (PS3.18 8.7.3).
 *
 * Written by hand: the only npm parsers (content-type, negotiator) reject the
 * unquoted `type=application/dicom` that many DICOMweb clients send ('/' is not
 * a token character), and do not expose the `transfer-syntax` parameter.
 */

export interface MediaType {
  /** Lower-case `type/subtype`, e.g. `multipart/related`. */
  mediaType: string;
  /** Parameter names lower-cased; values unquoted (case kept). */
  params: Record<string, string>;
}

/**
 * Splits a header value on commas that are outside quoted strings
 * (`a/b; x="1,2", c/d` → two items). Empty items are dropped.
 */
export function splitHeaderList(value: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * One media type with its parameters. Lenient like Orthanc: parameter values
 * may be quoted strings (with backslash escapes) or bare text up to the next ';'.
 */
export function parseMediaType(value: string): MediaType {
  let i = value.indexOf(';');
  if (i < 0) i = value.length;
  const mediaType = value.slice(0, i).trim().toLowerCase();
  const params: Record<string, string> = {};
  while (i < value.length) {
    i++; // skip ';'
    const eq = value.indexOf('=', i);
    const semi = value.indexOf(';', i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      // A parameter without '=': ignore it.
      i = semi < 0 ? value.length : semi;
      continue;
    }
    const name = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < value.length && (value[j] === ' ' || value[j] === '\t')) j++;
    let paramValue = '';
    if (value[j] === '"') {
      j++;
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        paramValue += value[j];
        j++;
      }
      j++; // closing quote
      const next = value.indexOf(';', j);
      i = next < 0 ? value.length : next;
    } else {
      const next = value.indexOf(';', j);
      i = next < 0 ? value.length : next;
      paramValue = value.slice(j, i).trim();
    }
    if (name) params[name] = paramValue;
  }
  return { mediaType, params };
}

/** A parameter value as it must be written: bare when it is a token, otherwise quoted. */
export function formatParam(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * One element's value field → the "Value" array of the DICOM JSON Model
 * (PS3.18 F.2.3, F.2.5), for every VR that is not binary bulk data or a
 * sequence. Padding and value rules per VR from PS3.5 6.2 (Table 6.2-1):
 * trailing spaces (and NULs, a common writer slip) are removed everywhere;
 * leading spaces only where PS3.5 calls them insignificant (AE, AS, CS, DA,
 * DS, DT, IS, LO, SH, TM, UI); LT, ST, UT, UR are never split on backslash.
 * IS/DS become JSON numbers unless not a valid number (kept as the string);
 * an empty value inside a multi-valued element is null (F.2.5).
 */
import type { DicomJsonPersonName, DicomJsonValue } from './types.js';
import type { TextDecoding } from './characterSets.js';

/** VRs whose value is text in the Specific Character Set (PS3.5 6.1.2.3). */
const CHARSET_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']);
const TEXT_VRS = new Set(['LT', 'ST', 'UT', 'UR']);
const TRIM_LEADING = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'SH', 'TM', 'UI']);
const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

/** Byte size of one value of each binary numeric VR. */
export const NUMBER_SIZE: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4 };

export function isStringVr(vr: string): boolean {
  return STRING_VRS.has(vr);
}

export function isNumberVr(vr: string): boolean {
  return NUMBER_SIZE[vr] !== undefined;
}

const DS_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const IS_PATTERN = /^[+-]?\d+$/;

function stripTrailing(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x00) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

function stripLeading(s: string): string {
  let start = 0;
  while (start < s.length && s.charCodeAt(start) === 0x20) start++;
  return start === 0 ? s : s.slice(start);
}

/** A DS/IS string as a JSON number, or the string itself when it is not a valid number. */
function numberOf(s: string, vr: 'DS' | 'IS'): number | string {
  if (vr === 'IS' ? IS_PATTERN.test(s) : DS_PATTERN.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  return s;
}

/** 'Family^Given=…=…' → { Alphabetic, Ideographic, Phonetic }, empty groups at the end dropped. */
export function personNameOf(s: string): DicomJsonPersonName | null {
  const groups = s.split('=');
  while (groups.length > 0 && stripTrailing(groups[groups.length - 1]) === '') groups.pop();
  if (groups.length === 0) return null;
  const pn: DicomJsonPersonName = { Alphabetic: stripTrailing(groups[0]) };
  if (groups.length > 1) pn.Ideographic = stripTrailing(groups[1]);
  if (groups.length > 2) pn.Phonetic = stripTrailing(groups[2]);
  return pn;
}

/** The Value array of a string VR element, or undefined when the element is empty. */
export function stringValues(buf: Buffer, offset: number, length: number, vr: string, decoding: TextDecoding): DicomJsonValue[] | undefined {
  return valuesOfText(decodedText(buf, offset, length, vr, decoding), vr);
}

/** A string VR element's value field decoded (Specific Character Set for SH, LO, ST, LT, UC, UT, PN), trailing padding removed. */
export function decodedText(buf: Buffer, offset: number, length: number, vr: string, decoding: TextDecoding): string {
  const end = offset + length;
  const text = CHARSET_VRS.has(vr)
    ? decoding.decode(buf, offset, end, vr === 'PN' ? 'pn' : TEXT_VRS.has(vr) ? 'text' : 'multi')
    : buf.toString('latin1', offset, end);
  return stripTrailing(text);
}

/** The Value array of a string VR element from its decodedText, or undefined when the element is empty. */
export function valuesOfText(text: string, vr: string): DicomJsonValue[] | undefined {
  if (text === '') return undefined;

  if (TEXT_VRS.has(vr)) return [vr === 'UR' ? stripLeading(text) : text];

  const parts = text.split('\\');
  const values: DicomJsonValue[] = new Array(parts.length);
  const trimLeading = TRIM_LEADING.has(vr);
  for (let i = 0; i < parts.length; i++) {
    let s = stripTrailing(parts[i]);
    if (trimLeading) s = stripLeading(s);
    if (s === '') {
      values[i] = null;
    } else if (vr === 'PN') {
      values[i] = personNameOf(s);
    } else if (vr === 'DS' || vr === 'IS') {
      values[i] = numberOf(s, vr);
    } else {
      values[i] = s;
    }
  }
  if (values.length === 1 && values[0] === null) return undefined;
  return values;
}

/**
 * A DS or IS decodedText as written, each value without the spaces around it
 * (`1.000000\ 2.5` → `1.000000\2.5`): the text DICOM JSON numbers lose (PS3.18 F.2.3).
 */
export function numberTextAsWritten(text: string): string {
  if (text.indexOf(' ') === -1 && text.indexOf('\0') === -1) return text;
  const parts = text.split('\\');
  for (let i = 0; i < parts.length; i++) parts[i] = stripLeading(stripTrailing(parts[i]));
  return parts.join('\\');
}

/**
 * The Value array of a binary numeric VR (US, SS, UL, SL, FL, FD, SV, UV, AT),
 * undefined when empty, or 'bad-length' when the length is not a multiple of
 * the value size (the caller keeps such a value as bulk data rather than lose it).
 * SV/UV beyond 2^53 become strings (PS3.18 F.2.3.1); non-finite floats null.
 */
export function numberValues(buf: Buffer, offset: number, length: number, vr: string, little: boolean): DicomJsonValue[] | undefined | 'bad-length' {
  const size = NUMBER_SIZE[vr];
  if (length === 0) return undefined;
  if (length % size !== 0) return 'bad-length';
  const n = length / size;
  const values: DicomJsonValue[] = new Array(n);
  for (let i = 0, p = offset; i < n; i++, p += size) {
    switch (vr) {
      case 'US':
        values[i] = little ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
        break;
      case 'SS':
        values[i] = little ? buf.readInt16LE(p) : buf.readInt16BE(p);
        break;
      case 'UL':
        values[i] = little ? buf.readUInt32LE(p) : buf.readUInt32BE(p);
        break;
      case 'SL':
        values[i] = little ? buf.readInt32LE(p) : buf.readInt32BE(p);
        break;
      case 'FL': {
        const v = little ? buf.readFloatLE(p) : buf.readFloatBE(p);
        values[i] = Number.isFinite(v) ? v : null;
        break;
      }
      case 'FD': {
        const v = little ? buf.readDoubleLE(p) : buf.readDoubleBE(p);
        values[i] = Number.isFinite(v) ? v : null;
        break;
      }
      case 'SV':
      case 'UV': {
        const v = vr === 'SV' ? (little ? buf.readBigInt64LE(p) : buf.readBigInt64BE(p)) : little ? buf.readBigUInt64LE(p) : buf.readBigUInt64BE(p);
        const abs = v < 0n ? -v : v;
        values[i] = abs <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
        break;
      }
      case 'AT': {
        const group = little ? buf.readUInt16LE(p) : buf.readUInt16BE(p);
        const element = little ? buf.readUInt16LE(p + 2) : buf.readUInt16BE(p + 2);
        values[i] = (((group << 16) | element) >>> 0).toString(16).toUpperCase().padStart(8, '0');
        break;
      }
    }
  }
  return values;
}

/**
 * Reading values out of DICOM JSON elements (PS3.18 F.2) as the index needs
 * them: plain strings (PN groups joined by '=', several values by '\', as in
 * the DICOM encoding, PS3.5 6.2), canonical dates and times for range
 * matching (PS3.4 C.2.2.2.5), upper-cased names for case-insensitive matching.
 */
import type { DicomJsonDataset, DicomJsonElement, DicomJsonPersonName, DicomJsonValue } from '../dicom/types.js';

function isPersonName(v: DicomJsonValue): v is DicomJsonPersonName {
  return typeof v === 'object' && v !== null && ('Alphabetic' in v || 'Ideographic' in v || 'Phonetic' in v);
}

/** A person name object as its DICOM string `Alphabetic=Ideographic=Phonetic`, empty trailing groups dropped. */
export function personNameString(pn: DicomJsonPersonName): string {
  const groups = [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/** One value as a string ('' for null, sequence items give ''). */
export function valueString(v: DicomJsonValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (isPersonName(v)) return personNameString(v);
  return '';
}

/** Every value of the element as strings; [] when absent or empty. */
export function elementStrings(el: DicomJsonElement | undefined): string[] {
  if (!el?.Value) return [];
  return el.Value.map(valueString);
}

/** The element's values as the DICOM string (values joined by '\'); '' when absent or empty. */
export function elementString(el: DicomJsonElement | undefined): string {
  return elementStrings(el).join('\\');
}

/** The first value of a tag as a string; '' when absent or empty. */
export function firstString(ds: DicomJsonDataset, tag: string): string {
  const v = ds[tag]?.Value?.[0];
  return v === undefined ? '' : valueString(v);
}

/** The first value of a tag as an integer, or null. */
export function firstInteger(ds: DicomJsonDataset, tag: string): number | null {
  const v = ds[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

/** DA as YYYYMMDD ('' when empty); the old ACR-NEMA form YYYY.MM.DD is accepted. */
export function canonicalDate(value: string): string {
  return value.trim().replace(/\./g, '');
}

/**
 * TM as HHMMSS[.FFFFFF] so that text order is time order ('' when empty):
 * HH and HHMM are padded with zeros, the old HH:MM:SS form loses its colons.
 */
export function canonicalTime(value: string): string {
  const t = value.trim().replace(/:/g, '');
  if (t === '') return '';
  const dot = t.indexOf('.');
  const whole = dot < 0 ? t : t.slice(0, dot);
  const fraction = dot < 0 ? '' : t.slice(dot);
  return whole.padEnd(6, '0') + fraction;
}

/** A person name for case-insensitive matching: upper case, padding spaces of each group removed. */
export function normalisePersonName(value: string): string {
  return value
    .split('=')
    .map((group) => group.trim())
    .join('=')
    .toUpperCase();
}

/** The subset of `ds` with the given tags (elements kept as they are). */
export function pickTags(ds: DicomJsonDataset, tags: readonly string[]): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of tags) {
    const el = ds[tag];
    if (el) out[tag] = el;
  }
  return out;
}

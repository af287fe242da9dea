/**
 * Orthanc's "main DICOM tags" of each level (levelAttributes.ts), computed once
 * at ingest as Orthanc 1.10 does: tag keyword -> the value as written in the
 * file (values joined by '\', person name groups by '='), '' for an element
 * present but empty, absent elements left out, and values longer than 256
 * bytes of UTF-8 left out (Orthanc's ORTHANC_MAXIMUM_TAG_LENGTH).
 *
 * DICOM JSON loses some of the text as written: DS and IS become numbers
 * ("1.000000" becomes 1, "007" becomes 7) and person names lose empty trailing
 * groups ("Wang^XiaoDong=王^小東="). For those the parser's text as written
 * (ParsedInstance.writtenText, same single parse) is used.
 */
import type { DicomJsonDataset } from '../dicom/types.js';
import { elementString } from './dicomValues.js';
import { ORTHANC_MAIN_TAGS, type OrthancLevel } from './levelAttributes.js';

export type MainTags = Record<string, string>;

const MAXIMUM_TAG_LENGTH = 256;

/** The main tag's value as Orthanc shows it. */
function valueOf(tag: string, ds: DicomJsonDataset, written: Record<string, string>): string {
  const el = ds[tag]!;
  const fromJson = elementString(el);
  const text = written[tag];
  if (text === undefined) return fromJson;
  if (el.vr === 'DS' || el.vr === 'IS') return text;
  if (el.vr !== 'PN' || el.Value?.length !== 1 || !text.endsWith('=')) return fromJson;
  // Only the empty trailing groups are taken from the text: JSON has the groups' padding removed (PS3.5 6.2, PN).
  const groupsWritten = text.split('=').length;
  const groupsJson = fromJson.split('=').length;
  return groupsWritten > groupsJson ? fromJson + '='.repeat(groupsWritten - groupsJson) : fromJson;
}

/** One level's main tags; `written`: ParsedInstance.writtenText (without it, the DICOM JSON values are shown). */
export function mainTagsOf(level: OrthancLevel, ds: DicomJsonDataset, written: Record<string, string> = {}): MainTags {
  const out: MainTags = {};
  for (const [keyword, tag] of ORTHANC_MAIN_TAGS[level]) {
    if (!ds[tag]) continue;
    const value = valueOf(tag, ds, written);
    if (Buffer.byteLength(value, 'utf8') <= MAXIMUM_TAG_LENGTH) out[keyword] = value;
  }
  return out;
}

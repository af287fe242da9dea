/**
 * Orthanc's "main DICOM tags" of each level (levelAttributes.ts), computed once
 * at ingest as Orthanc 1.10 does: tag keyword -> the value as written in the
 * file (values joined by '\', person name groups by '='), '' for an element
 * present but empty, absent elements left out, and values longer than 256
 * bytes of UTF-8 left out (Orthanc's ORTHANC_MAXIMUM_TAG_LENGTH).
 *
 * DICOM JSON loses some of the text as written: DS and IS become numbers
 * ("1.000000" becomes 1, "007" becomes 7) and person names lose empty trailing
 * groups ("Wang^XiaoDong=王^小東="). For those main tags the text as written is
 * read from the file with dicom-parser (a lazy element index, ~50 µs a file);
 * when that fails (e.g. deflated data) the JSON values are used.
 */
import dicomParser from 'dicom-parser';
import type { DicomJsonDataset } from '../dicom/types.js';
import { elementString } from './dicomValues.js';
import { ORTHANC_MAIN_TAGS, type OrthancLevel } from './levelAttributes.js';

export type MainTags = Record<string, string>;

export interface MainTagsOfInstance {
  patient: MainTags;
  study: MainTags;
  series: MainTags;
  instance: MainTags;
}

const MAXIMUM_TAG_LENGTH = 256;

const ALL_MAIN_TAGS = [...new Set(Object.values(ORTHANC_MAIN_TAGS).flatMap((list) => list.map(([, tag]) => tag)))];

/** DS and IS values as written (ASCII); person names with the empty trailing groups they were written with. */
function valuesAsWritten(bytes: Buffer, ds: DicomJsonDataset, deflated: boolean): Record<string, string> {
  const numeric = ALL_MAIN_TAGS.filter((tag) => (ds[tag]?.vr === 'DS' || ds[tag]?.vr === 'IS') && ds[tag]?.Value !== undefined);
  const names = ALL_MAIN_TAGS.filter((tag) => ds[tag]?.vr === 'PN' && ds[tag]?.Value?.length === 1);
  if ((numeric.length === 0 && names.length === 0) || deflated) return {};
  let parsed: dicomParser.DataSet;
  try {
    parsed = dicomParser.parseDicom(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { untilTag: 'x7fe00010' });
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  const text = (tag: string) => {
    try {
      return parsed.string(`x${tag.toLowerCase()}`);
    } catch {
      return undefined;
    }
  };
  for (const tag of numeric) {
    const written = text(tag);
    if (written !== undefined) out[tag] = written.replace(/ +(?=\\|$)/g, '').replace(/(^|\\) +/g, '$1');
  }
  for (const tag of names) {
    const written = text(tag);
    const fromJson = elementString(ds[tag]);
    if (written === undefined || !written.endsWith('=')) continue;
    // '=' is ASCII in every character set DICOM allows, and a value ends in the ASCII state (PS3.5 6.1.2.5.3).
    const groupsWritten = written.split('=').length;
    const groupsJson = fromJson.split('=').length;
    if (groupsWritten > groupsJson) out[tag] = fromJson + '='.repeat(groupsWritten - groupsJson);
  }
  return out;
}

function tagsOf(level: OrthancLevel, ds: DicomJsonDataset, written: Record<string, string>): MainTags {
  const out: MainTags = {};
  for (const [keyword, tag] of ORTHANC_MAIN_TAGS[level]) {
    const el = ds[tag];
    if (!el) continue;
    const value = written[tag] ?? elementString(el);
    if (Buffer.byteLength(value, 'utf8') <= MAXIMUM_TAG_LENGTH) out[keyword] = value;
  }
  return out;
}

export function orthancMainTags(bytes: Buffer, ds: DicomJsonDataset, deflated: boolean): MainTagsOfInstance {
  const written = valuesAsWritten(bytes, ds, deflated);
  return {
    patient: tagsOf('Patient', ds, written),
    study: tagsOf('Study', ds, written),
    series: tagsOf('Series', ds, written),
    instance: tagsOf('Instance', ds, written),
  };
}

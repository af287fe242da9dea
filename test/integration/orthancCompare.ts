/**
 * Comparing our DICOM JSON answers (PS3.18 Annex F) with Orthanc's for the
 * same files, element by element, with pydicom as the tie-breaker: where we and
 * Orthanc differ but pydicom reads the file as we do, the difference is
 * Orthanc's (recorded, not failed). Used by orthancInterop.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Element = { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string };
export type Dataset = Record<string, Element>;

export const value = (ds: Dataset, tag: string): unknown => ds[tag]?.Value?.[0];
export const uidsOf = (answer: Dataset[], tag: string): string[] => answer.map((ds) => String(value(ds, tag))).sort();
export const byUid = (answer: Dataset[], tag: string): Map<string, Dataset> => new Map(answer.map((ds) => [String(value(ds, tag)), ds]));

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** VRs whose leading spaces are significant (PS3.5 6.2): only trailing ones are padding. */
const TRAILING_ONLY = new Set(['ST', 'LT', 'UT', 'UC', 'UR']);

// QIDO-RS return attributes compared (PS3.18 10.6.3.3). SpecificCharacterSet is
// left out: a DICOM JSON answer is UTF-8 whatever the file says.
export const STUDY_TAGS = [
  '00080020', // StudyDate
  '00080030', // StudyTime
  '00080050', // AccessionNumber
  '00080061', // ModalitiesInStudy
  '00080090', // ReferringPhysicianName
  '00081030', // StudyDescription (includefield)
  '00100010', // PatientName
  '00100020', // PatientID
  '00100030', // PatientBirthDate
  '00100040', // PatientSex
  '0020000D', // StudyInstanceUID
  '00200010', // StudyID
  '00201206', // NumberOfStudyRelatedSeries
  '00201208', // NumberOfStudyRelatedInstances
];
export const SERIES_TAGS = [
  '00080060', // Modality
  '0008103E', // SeriesDescription (includefield)
  '0020000E', // SeriesInstanceUID
  '00200011', // SeriesNumber
  '00201209', // NumberOfSeriesRelatedInstances
];
export const INSTANCE_TAGS = [
  '00080016', // SOPClassUID
  '00080018', // SOPInstanceUID
  '00200013', // InstanceNumber
  '00280010', // Rows
  '00280011', // Columns
  '00280100', // BitsAllocated
  '00280008', // NumberOfFrames
];

const isEmpty = (e: Element | undefined) => !e || (!e.Value?.length && e.BulkDataURI === undefined && e.InlineBinary === undefined);

/**
 * An element's content as compared: binary elements by presence only (inline
 * or bulk data is each server's choice, PS3.18 8.7.3.3.2); padding spaces
 * dropped (PS3.5 6.2: not significant; Orthanc keeps "DERIVED " inside a
 * multi-valued CS); empty PN component groups dropped (Orthanc writes
 * "Phonetic": "" for a name with none); an empty value in a multi-valued
 * string as '' (PS3.18 F.2.5 encodes it null, pydicom 2.3 as "").
 */
function normalise(e: Element | undefined): string {
  if (isEmpty(e)) return 'empty';
  const { vr, Value } = e!;
  if (BINARY_VRS.has(vr)) return `${vr}:binary`;
  const trim = (s: string) => (TRAILING_ONLY.has(vr) ? s.trimEnd() : s.trim());
  const values = (Value ?? []).map((v) => {
    if (v === null) return '';
    if (typeof v === 'string') return trim(v);
    if (vr === 'PN' && v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v as Record<string, string>).map(([k, g]) => [k, g.trim()]).filter(([, g]) => g !== ''));
    }
    return v;
  });
  return `${vr}:${JSON.stringify(values)}`;
}

export interface Comparison {
  /** Where we and Orthanc differ and pydicom does not side with us (or there is no pydicom reading). */
  diffs: string[];
  /** Where we and Orthanc differ and pydicom reads the file as we do: Orthanc's deviations. */
  orthancDeviations: string[];
}

/**
 * Compares `ours` with `theirs` (all elements, or `tags`), sequences item by
 * item; `oracle` is pydicom's reading of the same dataset, when there is one.
 * Absent and empty count as the same.
 */
export function compareDatasets(ours: Dataset, theirs: Dataset, where: string, options: { tags?: string[]; oracle?: Dataset } = {}, into: Comparison = { diffs: [], orthancDeviations: [] }): Comparison {
  const { tags, oracle } = options;
  const keys = tags ?? [...new Set([...Object.keys(ours), ...Object.keys(theirs)])].sort();
  for (const tag of keys) {
    const a = ours[tag];
    const b = theirs[tag];
    const o = oracle?.[tag];
    if (a?.vr === 'SQ' && b?.vr === 'SQ') {
      const ai = (a.Value ?? []) as Dataset[];
      const bi = (b.Value ?? []) as Dataset[];
      const oi = o?.vr === 'SQ' ? ((o.Value ?? []) as Dataset[]) : undefined;
      if (ai.length !== bi.length) record(into, `${where} ${tag}: ${ai.length} items ours, ${bi.length} Orthanc`, oi !== undefined && oi.length === ai.length);
      for (let i = 0; i < Math.min(ai.length, bi.length); i++) compareDatasets(ai[i], bi[i], `${where} ${tag}[${i}]`, { oracle: oi?.[i] }, into);
      continue;
    }
    const na = normalise(a);
    const nb = normalise(b);
    if (na === nb) continue;
    record(into, `${where} ${tag}: ours ${na}, Orthanc ${nb}${oracle ? `, pydicom ${normalise(o)}` : ''}`, oracle !== undefined && normalise(o) === na);
  }
  return into;
}

function record(into: Comparison, line: string, pydicomSidesWithUs: boolean): void {
  (pydicomSidesWithUs ? into.orthancDeviations : into.diffs).push(line);
}

/** pydicom's DICOM JSON of each file (test/support/pydicomJson.py), keyed by path; files it cannot read are left out. */
export function pydicomDatasets(files: string[]): Map<string, Dataset> {
  const script = fileURLToPath(new URL('../support/pydicomJson.py', import.meta.url));
  const out = execFileSync('/usr/bin/python3', [script, ...files], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  const parsed = JSON.parse(out) as Record<string, { dataset?: Dataset }>;
  return new Map(Object.entries(parsed).flatMap(([file, r]) => (r.dataset ? [[file, r.dataset] as const] : [])));
}

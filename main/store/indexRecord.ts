/**
 * What the index keeps of one parsed instance: the column values of each level
 * (PS3.18 10.6.1.2 matching attributes, in canonical form for matching) and
 * each level's attributes as DICOM JSON (levelAttributes.ts). Computed before
 * the index transaction so that the transaction only writes.
 */
import type { ParsedInstance } from '../dicom/types.js';
import { canonicalDate, canonicalTime, firstInteger, firstString, normalisePersonName, pickTags } from './dicomValues.js';
import { INSTANCE_TAGS, PATIENT_TAGS, SERIES_TAGS, STUDY_TAGS } from './levelAttributes.js';
import { mainTagsOf } from './orthancMainTags.js';
import type { ResourceIds } from './types.js';
import { stringifyDataset } from '../dicom/datasetJson.js';

/**
 * The patient, study and series rows an instance would create. Made once per
 * series of a batch, not per instance (ingest.ts): only the first instance that
 * names a row creates it, and making these texts was half of an instance's record.
 */
export interface LevelRecords {
  patient: { patient_id: string; attrs: string; main_tags: string };
  study: {
    study_uid: string;
    patient_id: string;
    patient_name: string;
    patient_birth_date: string;
    patient_sex: string;
    study_date: string;
    study_time: string;
    accession_number: string;
    study_id: string;
    study_description: string;
    referring_physician_name: string;
    attrs: string;
    main_tags: string;
    patient_main_tags: string;
  };
  series: {
    series_uid: string;
    modality: string;
    series_number: number | null;
    series_description: string;
    series_date: string;
    series_time: string;
    pps_start_date: string;
    pps_start_time: string;
    attrs: string;
    main_tags: string;
  };
}

export interface InstanceRecord {
  ids: ResourceIds;
  /** Shared by the instances of one series in a batch. */
  levels: LevelRecords;
  instance: {
    sop_uid: string;
    sop_class_uid: string;
    instance_number: number | null;
    rows: number | null;
    columns: number | null;
    bits_allocated: number | null;
    number_of_frames: number | null;
    transfer_syntax: string;
    size: number;
    deflated: number;
    big_endian: number;
    pixel: string | null;
    bulk: string;
    attrs: string;
    main_tags: string;
  };
  /** The full DICOM JSON. */
  dataset: string;
}

/** The level rows `parsed` would create (see LevelRecords). */
export function levelRecords(parsed: ParsedInstance): LevelRecords {
  const ds = parsed.dataset;
  const written = parsed.writtenText;
  const patientMainTags = JSON.stringify(mainTagsOf('Patient', ds, written));
  const patientAttrs = pickTags(ds, PATIENT_TAGS);
  return {
    patient: { patient_id: parsed.patientID, attrs: JSON.stringify(patientAttrs), main_tags: patientMainTags },
    study: {
      study_uid: parsed.studyInstanceUID,
      patient_id: parsed.patientID,
      patient_name: normalisePersonName(firstString(ds, '00100010')), // PatientName
      patient_birth_date: canonicalDate(firstString(ds, '00100030')), // PatientBirthDate
      patient_sex: firstString(ds, '00100040'), // PatientSex
      study_date: canonicalDate(firstString(ds, '00080020')), // StudyDate
      study_time: canonicalTime(firstString(ds, '00080030')), // StudyTime
      accession_number: firstString(ds, '00080050'), // AccessionNumber
      study_id: firstString(ds, '00200010'), // StudyID
      study_description: firstString(ds, '00081030'), // StudyDescription
      referring_physician_name: normalisePersonName(firstString(ds, '00080090')), // ReferringPhysicianName
      attrs: JSON.stringify({ ...patientAttrs, ...pickTags(ds, STUDY_TAGS) }),
      main_tags: JSON.stringify(mainTagsOf('Study', ds, written)),
      patient_main_tags: patientMainTags,
    },
    series: {
      series_uid: parsed.seriesInstanceUID,
      modality: firstString(ds, '00080060'), // Modality
      series_number: firstInteger(ds, '00200011'), // SeriesNumber
      series_description: firstString(ds, '0008103E'), // SeriesDescription
      series_date: canonicalDate(firstString(ds, '00080021')), // SeriesDate
      series_time: canonicalTime(firstString(ds, '00080031')), // SeriesTime
      pps_start_date: canonicalDate(firstString(ds, '00400244')), // PerformedProcedureStepStartDate
      pps_start_time: canonicalTime(firstString(ds, '00400245')), // PerformedProcedureStepStartTime
      attrs: JSON.stringify(pickTags(ds, SERIES_TAGS)),
      main_tags: JSON.stringify(mainTagsOf('Series', ds, written)),
    },
  };
}

/** `size`: the length of the Part-10 file in bytes; `levels`: levelRecords of this instance or of another of its series. */
export function instanceRecord(parsed: ParsedInstance, ids: ResourceIds, size: number, levels: LevelRecords): InstanceRecord {
  const ds = parsed.dataset;
  return {
    ids,
    levels,
    instance: {
      sop_uid: parsed.sopInstanceUID,
      sop_class_uid: parsed.sopClassUID,
      instance_number: firstInteger(ds, '00200013'), // InstanceNumber
      rows: firstInteger(ds, '00280010'), // Rows
      columns: firstInteger(ds, '00280011'), // Columns
      bits_allocated: firstInteger(ds, '00280100'), // BitsAllocated
      number_of_frames: firstInteger(ds, '00280008'), // NumberOfFrames
      transfer_syntax: parsed.transferSyntaxUID,
      size,
      deflated: parsed.deflated ? 1 : 0,
      big_endian: parsed.bigEndian ? 1 : 0,
      pixel: parsed.pixel ? JSON.stringify(parsed.pixel) : null,
      bulk: JSON.stringify(parsed.bulk),
      attrs: JSON.stringify(pickTags(ds, INSTANCE_TAGS)),
      main_tags: JSON.stringify(mainTagsOf('Instance', ds, parsed.writtenText)),
    },
    dataset: stringifyDataset(ds),
  };
}

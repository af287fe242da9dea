/**
 * The SQLite index (better-sqlite3, WAL): one table per level of the DICOM
 * information model (PS3.3 A.1.2) with the attributes QIDO-RS matches on as
 * columns (PS3.18 10.6.1.2), each level's attributes as DICOM JSON, and per
 * instance the full DICOM JSON, pixel layout and bulk map so that no search or
 * metadata request reads a DICOM file. `pending_files` is the ingest/delete
 * journal (see files.ts and recovery.ts).
 */
import Database from 'better-sqlite3';
import { AppError } from '../errors.js';

export type Db = Database.Database;

const SCHEMA_VERSION = 1;

/**
 * Indexes added after version 1 of the schema: created by any version-1 store
 * on open (IF NOT EXISTS), so no migration; a program that does not know them
 * uses the store as before.
 */
const ADDED_INDEXES = `
-- ModalitiesInStudy of each study answered (QIDO-RS) read in modality order from the index, no sort per study.
CREATE INDEX IF NOT EXISTS series_study_modality ON series(study_pk, modality);
`;

const DDL = `
CREATE TABLE patients (
  pk INTEGER PRIMARY KEY,
  orthanc_id TEXT NOT NULL UNIQUE,
  patient_id TEXT NOT NULL,
  attrs TEXT NOT NULL,             -- DICOM JSON: patient module attributes
  main_tags TEXT NOT NULL,         -- JSON: Orthanc's MainDicomTags
  last_update INTEGER NOT NULL     -- ms since epoch
);

CREATE TABLE studies (
  pk INTEGER PRIMARY KEY,
  patient_pk INTEGER NOT NULL REFERENCES patients(pk),
  orthanc_id TEXT NOT NULL UNIQUE,
  study_uid TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  patient_name TEXT NOT NULL,      -- upper case, groups joined by '=', for case-insensitive matching
  patient_birth_date TEXT NOT NULL,
  patient_sex TEXT NOT NULL,
  study_date TEXT NOT NULL,        -- YYYYMMDD
  study_time TEXT NOT NULL,        -- HHMMSS[.FFFFFF]
  accession_number TEXT NOT NULL,
  study_id TEXT NOT NULL,
  study_description TEXT NOT NULL,
  referring_physician_name TEXT NOT NULL, -- upper case
  series_count INTEGER NOT NULL DEFAULT 0,   -- kept by triggers
  instance_count INTEGER NOT NULL DEFAULT 0, -- kept by triggers
  attrs TEXT NOT NULL,             -- DICOM JSON: patient + study module attributes
  main_tags TEXT NOT NULL,         -- JSON: Orthanc's MainDicomTags
  patient_main_tags TEXT NOT NULL, -- JSON: Orthanc's PatientMainDicomTags
  last_update INTEGER NOT NULL
);
CREATE INDEX studies_patient ON studies(patient_pk);
CREATE INDEX studies_uid ON studies(study_uid);
CREATE INDEX studies_date ON studies(study_date, study_time);
CREATE INDEX studies_patient_id ON studies(patient_id COLLATE NOCASE);
CREATE INDEX studies_accession ON studies(accession_number COLLATE NOCASE);

CREATE TABLE series (
  pk INTEGER PRIMARY KEY,
  study_pk INTEGER NOT NULL REFERENCES studies(pk),
  orthanc_id TEXT NOT NULL UNIQUE,
  series_uid TEXT NOT NULL,
  modality TEXT NOT NULL,
  series_number INTEGER,
  series_description TEXT NOT NULL,
  series_date TEXT NOT NULL,
  series_time TEXT NOT NULL,
  pps_start_date TEXT NOT NULL,
  pps_start_time TEXT NOT NULL,
  instance_count INTEGER NOT NULL DEFAULT 0, -- kept by triggers
  attrs TEXT NOT NULL,             -- DICOM JSON: series-level attributes
  main_tags TEXT NOT NULL,         -- JSON: Orthanc's MainDicomTags
  last_update INTEGER NOT NULL
);
CREATE INDEX series_study ON series(study_pk, series_number);
CREATE INDEX series_uid ON series(series_uid);
CREATE INDEX series_modality ON series(modality COLLATE NOCASE, study_pk);
${ADDED_INDEXES}

CREATE TABLE instances (
  pk INTEGER PRIMARY KEY,
  series_pk INTEGER NOT NULL REFERENCES series(pk),
  orthanc_id TEXT NOT NULL UNIQUE,
  sop_uid TEXT NOT NULL,
  sop_class_uid TEXT NOT NULL,
  instance_number INTEGER,
  rows INTEGER,
  columns INTEGER,
  bits_allocated INTEGER,
  number_of_frames INTEGER,
  transfer_syntax TEXT NOT NULL,
  file_uuid TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  deflated INTEGER NOT NULL,
  big_endian INTEGER NOT NULL,
  pixel TEXT,                      -- JSON PixelLayout
  bulk TEXT NOT NULL,              -- JSON Record<string, ByteRange>
  attrs TEXT NOT NULL,             -- DICOM JSON: instance-level attributes
  main_tags TEXT NOT NULL,         -- JSON: Orthanc's MainDicomTags
  last_update INTEGER NOT NULL
);
CREATE INDEX instances_series ON instances(series_pk, instance_number);
CREATE INDEX instances_sop ON instances(sop_uid);

-- The full dataset apart, so that scans of 'instances' stay on small rows.
CREATE TABLE datasets (
  instance_pk INTEGER PRIMARY KEY REFERENCES instances(pk) ON DELETE CASCADE,
  json TEXT NOT NULL               -- DICOM JSON with '@INSTANCE@' bulk data URIs
);

-- NumberOfStudyRelatedSeries/Instances, NumberOfSeriesRelatedInstances without counting at search time.
CREATE TRIGGER series_added AFTER INSERT ON series BEGIN
  UPDATE studies SET series_count = series_count + 1 WHERE pk = NEW.study_pk;
END;
CREATE TRIGGER series_removed AFTER DELETE ON series BEGIN
  UPDATE studies SET series_count = series_count - 1 WHERE pk = OLD.study_pk;
END;
CREATE TRIGGER instance_added AFTER INSERT ON instances BEGIN
  UPDATE series SET instance_count = instance_count + 1 WHERE pk = NEW.series_pk;
  UPDATE studies SET instance_count = instance_count + 1 WHERE pk = (SELECT study_pk FROM series WHERE pk = NEW.series_pk);
END;
CREATE TRIGGER instance_removed AFTER DELETE ON instances BEGIN
  UPDATE series SET instance_count = instance_count - 1 WHERE pk = OLD.series_pk;
  UPDATE studies SET instance_count = instance_count - 1 WHERE pk = (SELECT study_pk FROM series WHERE pk = OLD.series_pk);
END;

-- Files that may exist on disk without being indexed (being stored, being deleted).
CREATE TABLE pending_files (
  file_uuid TEXT PRIMARY KEY
);
`;

/**
 * Opens (creating when needed) the index file; WAL, synchronous FULL, foreign keys on.
 * `nativeBinding`: better-sqlite3's addon built for another ABI (Electron).
 */
export function openIndex(path: string, nativeBinding?: string): Db {
  let db: Db;
  try {
    db = new Database(path, nativeBinding ? { nativeBinding } : {});
  } catch (err) {
    throw new AppError('store-corrupt', `cannot open the index ${path}: ${(err as Error).message}`);
  }
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the files it journals are renamed into place.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -32000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      db.exec('BEGIN');
      db.exec(DDL);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.exec('COMMIT');
    } else if (version === SCHEMA_VERSION) {
      db.exec(ADDED_INDEXES);
    } else {
      throw new AppError('store-corrupt', `the index ${path} has schema version ${version}; this program knows version ${SCHEMA_VERSION}`);
    }
  } catch (err) {
    db.close();
    if (err instanceof AppError) throw err;
    throw new AppError('store-corrupt', `the index ${path} cannot be used: ${(err as Error).message}`);
  }
  return db;
}

/**
 * Writes instance records into the index: a patient, study and series row is
 * created by the first instance that names it (its attributes are that
 * instance's, as in Orthanc) and only its last_update changes afterwards.
 * Call inside a transaction.
 */
import type { Db } from './schema.js';
import type { InstanceRecord } from './indexRecord.js';

export class IndexWriter {
  private readonly upsertPatient;
  private readonly upsertStudy;
  private readonly upsertSeries;
  private readonly insertInstance;
  private readonly insertDataset;
  private readonly instanceExists;
  private readonly addPending;
  private readonly removePending;

  constructor(db: Db) {
    this.upsertPatient = db.prepare<[string, string, string, string, number], { pk: number }>(
      `INSERT INTO patients (orthanc_id, patient_id, attrs, main_tags, last_update) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(orthanc_id) DO UPDATE SET last_update = excluded.last_update RETURNING pk`,
    );
    this.upsertStudy = db.prepare<Record<string, unknown>, { pk: number }>(
      `INSERT INTO studies (patient_pk, orthanc_id, study_uid, patient_id, patient_name, patient_birth_date, patient_sex,
         study_date, study_time, accession_number, study_id, study_description, referring_physician_name, attrs, main_tags,
         patient_main_tags, last_update)
       VALUES (@patient_pk, @orthanc_id, @study_uid, @patient_id, @patient_name, @patient_birth_date, @patient_sex,
         @study_date, @study_time, @accession_number, @study_id, @study_description, @referring_physician_name, @attrs, @main_tags,
         @patient_main_tags, @last_update)
       ON CONFLICT(orthanc_id) DO UPDATE SET last_update = excluded.last_update RETURNING pk`,
    );
    this.upsertSeries = db.prepare<Record<string, unknown>, { pk: number }>(
      `INSERT INTO series (study_pk, orthanc_id, series_uid, modality, series_number, series_description, series_date, series_time,
         pps_start_date, pps_start_time, attrs, main_tags, last_update)
       VALUES (@study_pk, @orthanc_id, @series_uid, @modality, @series_number, @series_description, @series_date, @series_time,
         @pps_start_date, @pps_start_time, @attrs, @main_tags, @last_update)
       ON CONFLICT(orthanc_id) DO UPDATE SET last_update = excluded.last_update RETURNING pk`,
    );
    this.insertInstance = db.prepare<Record<string, unknown>>(
      `INSERT INTO instances (series_pk, orthanc_id, sop_uid, sop_class_uid, instance_number, rows, columns, bits_allocated,
         number_of_frames, transfer_syntax, file_uuid, size, deflated, big_endian, pixel, bulk, attrs, main_tags, last_update)
       VALUES (@series_pk, @orthanc_id, @sop_uid, @sop_class_uid, @instance_number, @rows, @columns, @bits_allocated,
         @number_of_frames, @transfer_syntax, @file_uuid, @size, @deflated, @big_endian, @pixel, @bulk, @attrs, @main_tags, @last_update)`,
    );
    this.insertDataset = db.prepare<[number | bigint, string]>('INSERT INTO datasets (instance_pk, json) VALUES (?, ?)');
    this.instanceExists = db.prepare<[string], { pk: number }>('SELECT pk FROM instances WHERE orthanc_id = ?');
    this.addPending = db.prepare<[string]>('INSERT OR IGNORE INTO pending_files (file_uuid) VALUES (?)');
    this.removePending = db.prepare<[string]>('DELETE FROM pending_files WHERE file_uuid = ?');
  }

  hasInstance(orthancId: string): boolean {
    return this.instanceExists.get(orthancId) !== undefined;
  }

  /**
   * Indexes one instance whose file is `fileUuid`. `levels`, shared by the
   * inserts of one transaction with the same `now`, keeps the pks of the
   * patient, study and series rows already upserted: the next instances of
   * the same series skip three upserts that would set last_update to the
   * same value (a STOW-RS batch holds ~10 instances per series). Keys are
   * the Orthanc IDs with their level.
   */
  insert(record: InstanceRecord, fileUuid: string, now: number, levels: Map<string, number> = new Map()): void {
    const { ids } = record;
    let seriesPk = levels.get(`series ${ids.series}`);
    if (seriesPk === undefined) {
      let studyPk = levels.get(`study ${ids.study}`);
      if (studyPk === undefined) {
        let patientPk = levels.get(`patient ${ids.patient}`);
        if (patientPk === undefined) {
          const { patient } = record.levels;
          patientPk = this.upsertPatient.get(ids.patient, patient.patient_id, patient.attrs, patient.main_tags, now)!.pk;
          levels.set(`patient ${ids.patient}`, patientPk);
        }
        studyPk = this.upsertStudy.get({ ...record.levels.study, patient_pk: patientPk, orthanc_id: ids.study, last_update: now })!.pk;
        levels.set(`study ${ids.study}`, studyPk);
      }
      seriesPk = this.upsertSeries.get({ ...record.levels.series, study_pk: studyPk, orthanc_id: ids.series, last_update: now })!.pk;
      levels.set(`series ${ids.series}`, seriesPk);
    }
    const info = this.insertInstance.run({ ...record.instance, series_pk: seriesPk, orthanc_id: ids.instance, file_uuid: fileUuid, last_update: now });
    this.insertDataset.run(info.lastInsertRowid, record.dataset);
  }

  /** Journals a file that exists on disk before it is indexed (or after it is unindexed). */
  journal(fileUuid: string): void {
    this.addPending.run(fileUuid);
  }

  /** The file is now consistent with the index (indexed, or gone from disk). */
  unjournal(fileUuid: string): void {
    this.removePending.run(fileUuid);
  }
}

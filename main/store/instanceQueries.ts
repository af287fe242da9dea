/**
 * What WADO-RS (PS3.18 10.4) and WADO-URI need from the index: the stored
 * instances under a study/series/instance UID, their stored DICOM JSON for
 * metadata, one instance by Orthanc ID. Index only, no file read.
 * Metadata is read in pages of a few dozen instances, so that a big study is
 * never held whole in memory and the connection is never left busy between
 * two pages (better-sqlite3 allows no other statement during an iteration).
 */
import { join, sep } from 'node:path';
import type { ByteRange, PixelLayout } from '../dicom/types.js';
import { storedFileRelativePath } from './files.js';
import type { Db } from './schema.js';
import type { InstanceMetadata, StoredFileRef, StoredInstance, UidSelector } from './types.js';

const METADATA_PAGE = 128;

/**
 * Just what a metadata answer needs to place each dataset: its key and the
 * UIDs of its URL (the study's is the selector's), as arrays (statement.raw()):
 * half the cost of row objects with every UID for 1,000 instances.
 */
const UID_COLUMNS = `i.pk, se.series_uid, i.sop_uid`;
const UID_JOIN = `instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk`;
/** Just what a retrieve needs: the UIDs and the file (a third of the cost of INSTANCE_COLUMNS for 1,000 rows). */
const FILE_COLUMNS = `s.study_uid, se.series_uid, i.sop_uid, i.transfer_syntax, i.file_uuid, i.size`;

const INSTANCE_COLUMNS = `i.pk, i.orthanc_id AS instance_id, se.orthanc_id AS series_id, s.orthanc_id AS study_id,
  p.orthanc_id AS patient_id, s.study_uid, se.series_uid, i.sop_uid, i.sop_class_uid, i.transfer_syntax,
  i.instance_number, i.file_uuid, i.size, i.pixel, i.bulk, i.deflated, i.big_endian`;

const INSTANCE_JOIN = `instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk
  JOIN patients p ON p.pk = s.patient_pk`;

/** Series in SeriesNumber order, instances in InstanceNumber order, missing numbers last. */
const INSTANCE_ORDER = `s.pk, se.series_number IS NULL, se.series_number, se.pk, i.instance_number IS NULL, i.instance_number, i.pk`;

/** [pk, series_uid, sop_uid] */
type UidRow = [number, string, string];

interface FileRow {
  study_uid: string;
  series_uid: string;
  sop_uid: string;
  transfer_syntax: string;
  file_uuid: string;
  size: number;
}

interface InstanceRow {
  pk: number;
  instance_id: string;
  series_id: string;
  study_id: string;
  patient_id: string;
  study_uid: string;
  series_uid: string;
  sop_uid: string;
  sop_class_uid: string;
  transfer_syntax: string;
  instance_number: number | null;
  file_uuid: string;
  size: number;
  pixel: string | null;
  bulk: string;
  deflated: number;
  big_endian: number;
}

export class InstanceQueries {
  private readonly byStudy;
  private readonly bySeries;
  private readonly bySop;
  private readonly byOrthancId;
  private readonly datasetsOf;
  private readonly uidsByStudy;
  private readonly uidsBySeries;
  private readonly uidsBySop;
  private readonly filesByStudy;
  private readonly filesBySeries;
  private readonly filesBySop;

  constructor(
    db: Db,
    private readonly storageDirectory: string,
  ) {
    const select = `SELECT ${INSTANCE_COLUMNS} FROM ${INSTANCE_JOIN}`;
    this.byStudy = db.prepare<[string], InstanceRow>(`${select} WHERE s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`);
    this.bySeries = db.prepare<[string, string], InstanceRow>(
      `${select} WHERE se.series_uid = ? AND s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`,
    );
    this.bySop = db.prepare<[string], InstanceRow>(`${select} WHERE i.sop_uid = ? ORDER BY ${INSTANCE_ORDER}`);
    this.byOrthancId = db.prepare<[string], InstanceRow>(`${select} WHERE i.orthanc_id = ?`);
    const selectUids = `SELECT ${UID_COLUMNS} FROM ${UID_JOIN}`;
    this.uidsByStudy = db.prepare<[string], UidRow>(`${selectUids} WHERE s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`).raw();
    this.uidsBySeries = db.prepare<[string, string], UidRow>(`${selectUids} WHERE se.series_uid = ? AND s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`).raw();
    this.uidsBySop = db.prepare<[string, string], UidRow>(`${selectUids} WHERE i.sop_uid = ? AND s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`).raw();
    const selectFiles = `SELECT ${FILE_COLUMNS} FROM ${UID_JOIN}`;
    this.filesByStudy = db.prepare<[string], FileRow>(`${selectFiles} WHERE s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`);
    this.filesBySeries = db.prepare<[string, string], FileRow>(`${selectFiles} WHERE se.series_uid = ? AND s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`);
    this.filesBySop = db.prepare<[string, string], FileRow>(`${selectFiles} WHERE i.sop_uid = ? AND s.study_uid = ? ORDER BY ${INSTANCE_ORDER}`);
    this.datasetsOf = db
      .prepare<[string], [number, string]>('SELECT instance_pk, json FROM datasets WHERE instance_pk IN (SELECT value FROM json_each(?))')
      .raw();
  }

  private rows(selector: UidSelector): InstanceRow[] {
    if (selector.instance !== undefined) {
      return this.bySop
        .all(selector.instance)
        .filter((r) => r.study_uid === selector.study && (selector.series === undefined || r.series_uid === selector.series));
    }
    if (selector.series !== undefined) return this.bySeries.all(selector.series, selector.study);
    return this.byStudy.all(selector.study);
  }

  private toStored(row: InstanceRow): StoredInstance {
    return {
      ids: { patient: row.patient_id, study: row.study_id, series: row.series_id, instance: row.instance_id },
      studyInstanceUID: row.study_uid,
      seriesInstanceUID: row.series_uid,
      sopInstanceUID: row.sop_uid,
      sopClassUID: row.sop_class_uid,
      transferSyntaxUID: row.transfer_syntax,
      instanceNumber: row.instance_number,
      path: join(this.storageDirectory, storedFileRelativePath(row.file_uuid)),
      size: row.size,
      pixel: row.pixel === null ? null : (JSON.parse(row.pixel) as PixelLayout),
      bulk: JSON.parse(row.bulk) as Record<string, ByteRange>,
      deflated: row.deflated !== 0,
      bigEndian: row.big_endian !== 0,
    };
  }

  findInstances(selector: UidSelector): StoredInstance[] {
    return this.rows(selector).map((r) => this.toStored(r));
  }

  instanceFiles(selector: UidSelector): StoredFileRef[] {
    let rows: FileRow[];
    if (selector.instance !== undefined) {
      rows = this.filesBySop.all(selector.instance, selector.study);
      if (selector.series !== undefined) rows = rows.filter((r) => r.series_uid === selector.series);
    } else if (selector.series !== undefined) rows = this.filesBySeries.all(selector.series, selector.study);
    else rows = this.filesByStudy.all(selector.study);
    return rows.map((r) => ({
      studyInstanceUID: r.study_uid,
      seriesInstanceUID: r.series_uid,
      sopInstanceUID: r.sop_uid,
      transferSyntaxUID: r.transfer_syntax,
      path: this.storageDirectory + sep + storedFileRelativePath(r.file_uuid), // storageDirectory is absolute and normalized
      size: r.size,
    }));
  }

  getInstance(orthancId: string): StoredInstance | undefined {
    const row = this.byOrthancId.get(orthancId);
    return row ? this.toStored(row) : undefined;
  }

  private uidRows(selector: UidSelector): UidRow[] {
    if (selector.instance !== undefined) {
      const rows = this.uidsBySop.all(selector.instance, selector.study);
      return selector.series === undefined ? rows : rows.filter((r) => r[1] === selector.series);
    }
    if (selector.series !== undefined) return this.uidsBySeries.all(selector.series, selector.study);
    return this.uidsByStudy.all(selector.study);
  }

  /** UIDs first (small rows), then the datasets page by page: no StoredInstance, no JSON.parse. */
  *instanceMetadata(selector: UidSelector): Generator<InstanceMetadata> {
    const rows = this.uidRows(selector);
    for (let start = 0; start < rows.length; start += METADATA_PAGE) {
      const page = rows.slice(start, start + METADATA_PAGE);
      const json = new Map<number, string>();
      for (const [pk, text] of this.datasetsOf.all(JSON.stringify(page.map((r) => r[0])))) json.set(pk, text);
      for (const [pk, seriesInstanceUID, sopInstanceUID] of page) {
        const text = json.get(pk);
        // An instance deleted meanwhile is skipped.
        if (text !== undefined) yield { studyInstanceUID: selector.study, seriesInstanceUID, sopInstanceUID, json: text };
      }
    }
  }
}

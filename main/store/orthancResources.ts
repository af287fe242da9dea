/**
 * The store as Orthanc's REST API shows it (GET /patients, /studies/{id}…,
 * DELETE /{level}/{id}, /statistics): resources named by Orthanc IDs, their
 * main DICOM tags as Orthanc 1.10 lists them (orthancMainTags.ts), children,
 * LastUpdate and IsStable (no new instance for 60 s, Orthanc's StableAge).
 */
import type { StorageArea } from './files.js';
import type { OrthancLevel } from './levelAttributes.js';
import type { Db } from './schema.js';
import type { Level, OrthancResource } from './types.js';

const STABLE_AGE_MS = 60_000;

const TABLE: Record<Level, string> = { patient: 'patients', study: 'studies', series: 'series', instance: 'instances' };
const TYPE: Record<Level, OrthancLevel> = { patient: 'Patient', study: 'Study', series: 'Series', instance: 'Instance' };
const PATH: Record<Level, string> = { patient: 'patients', study: 'studies', series: 'series', instance: 'instances' };
const PARENT: Record<Level, { level: Level; column: string } | null> = {
  patient: null,
  study: { level: 'patient', column: 'patient_pk' },
  series: { level: 'study', column: 'study_pk' },
  instance: { level: 'series', column: 'series_pk' },
};

/** Orthanc's date-time form, local time: YYYYMMDDTHHMMSS. */
export function orthancTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

interface ResourceRow {
  pk: number;
  orthanc_id: string;
  main_tags: string;
  patient_main_tags?: string;
  last_update: number;
  parent_pk?: number;
}

export class OrthancResources {
  constructor(
    private readonly db: Db,
    private readonly storage: StorageArea,
  ) {}

  listResources(level: Level, options: { limit?: number; since?: number } = {}): string[] {
    const limit = options.limit ?? -1;
    const since = options.since ?? 0;
    return this.db.prepare(`SELECT orthanc_id FROM ${TABLE[level]} ORDER BY pk LIMIT ? OFFSET ?`).pluck().all(limit, since) as string[];
  }

  private row(level: Level, id: string): ResourceRow | undefined {
    const parent = PARENT[level];
    const parentColumn = parent ? `, ${parent.column} AS parent_pk` : '';
    const patientTags = level === 'study' ? ', patient_main_tags' : '';
    return this.db
      .prepare<[string], ResourceRow>(
        `SELECT pk, orthanc_id, main_tags${patientTags}, last_update${parentColumn} FROM ${TABLE[level]} WHERE orthanc_id = ?`,
      )
      .get(id);
  }

  private idOf(level: Level, pk: number): string {
    return this.db.prepare(`SELECT orthanc_id FROM ${TABLE[level]} WHERE pk = ?`).pluck().get(pk) as string;
  }

  private childIds(level: Level, pk: number): string[] {
    const child: Level = level === 'patient' ? 'study' : level === 'study' ? 'series' : 'instance';
    const column = PARENT[child]!.column;
    return this.db.prepare(`SELECT orthanc_id FROM ${TABLE[child]} WHERE ${column} = ? ORDER BY pk`).pluck().all(pk) as string[];
  }

  getResource(level: Level, id: string): OrthancResource | undefined {
    const row = this.row(level, id);
    if (!row) return undefined;
    const MainDicomTags = JSON.parse(row.main_tags) as Record<string, string>;
    const base = {
      ID: row.orthanc_id,
      Type: TYPE[level],
      IsStable: Date.now() - row.last_update >= STABLE_AGE_MS,
      LastUpdate: orthancTimestamp(row.last_update),
    };
    switch (level) {
      case 'patient':
        return { ...base, MainDicomTags, Studies: this.childIds(level, row.pk) };
      case 'study':
        return {
          ...base,
          MainDicomTags,
          PatientMainDicomTags: JSON.parse(row.patient_main_tags!) as Record<string, string>,
          ParentPatient: this.idOf('patient', row.parent_pk!),
          Series: this.childIds(level, row.pk),
        };
      case 'series':
        return {
          ...base,
          MainDicomTags,
          ParentStudy: this.idOf('study', row.parent_pk!),
          Instances: this.childIds(level, row.pk),
        };
      case 'instance': {
        const file = this.db
          .prepare<[number], { size: number; file_uuid: string; instance_number: number | null }>(
            'SELECT size, file_uuid, instance_number FROM instances WHERE pk = ?',
          )
          .get(row.pk)!;
        return {
          ...base,
          MainDicomTags,
          ParentSeries: this.idOf('series', row.parent_pk!),
          FileSize: file.size,
          FileUuid: file.file_uuid,
          IndexInSeries: file.instance_number,
        };
      }
    }
  }

  /**
   * Deletes a resource, its children and the parents it leaves empty. The files
   * are journaled in the same transaction that removes their rows, then
   * unlinked, so a crash in between leaves no orphan after recovery.
   */
  deleteResource(level: Level, id: string): { deleted: boolean; remainingAncestor: { Type: string; ID: string; Path: string } | null } {
    const db = this.db;
    const row = this.row(level, id);
    if (!row) return { deleted: false, remainingAncestor: null };

    const uuids = this.fileUuidsUnder(level, row.pk);
    let remainingAncestor: { Type: string; ID: string; Path: string } | null = null;
    db.transaction(() => {
      const journal = db.prepare<[string]>('INSERT OR IGNORE INTO pending_files (file_uuid) VALUES (?)');
      for (const uuid of uuids) journal.run(uuid);
      this.deleteSubtree(level, row.pk);
      // Walk up: delete parents left without children; the first one with children remains.
      let current: Level = level;
      let parentPk = row.parent_pk;
      while (PARENT[current] && parentPk !== undefined) {
        const parentLevel = PARENT[current]!.level;
        const childColumn = PARENT[current]!.column;
        const stillUsed = db.prepare(`SELECT 1 FROM ${TABLE[current]} WHERE ${childColumn} = ? LIMIT 1`).get(parentPk);
        const grandParent = PARENT[parentLevel];
        const parentRow = db
          .prepare<[number], { orthanc_id: string; up?: number }>(
            `SELECT orthanc_id${grandParent ? `, ${grandParent.column} AS up` : ''} FROM ${TABLE[parentLevel]} WHERE pk = ?`,
          )
          .get(parentPk)!;
        if (stillUsed) {
          remainingAncestor = { Type: TYPE[parentLevel], ID: parentRow.orthanc_id, Path: `/${PATH[parentLevel]}/${parentRow.orthanc_id}` };
          break;
        }
        db.prepare(`DELETE FROM ${TABLE[parentLevel]} WHERE pk = ?`).run(parentPk);
        current = parentLevel;
        parentPk = parentRow.up;
      }
    })();

    for (const uuid of uuids) this.storage.removeSync(uuid);
    db.transaction(() => {
      const unjournal = db.prepare<[string]>('DELETE FROM pending_files WHERE file_uuid = ?');
      for (const uuid of uuids) unjournal.run(uuid);
    })();
    return { deleted: true, remainingAncestor };
  }

  private fileUuidsUnder(level: Level, pk: number): string[] {
    const where: Record<Level, string> = {
      instance: 'i.pk = ?',
      series: 'i.series_pk = ?',
      study: 'se.study_pk = ?',
      patient: 's.patient_pk = ?',
    };
    return this.db
      .prepare(
        `SELECT i.file_uuid FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk WHERE ${where[level]}`,
      )
      .pluck()
      .all(pk) as string[];
  }

  private deleteSubtree(level: Level, pk: number): void {
    const db = this.db;
    const seriesOfStudies = 'SELECT pk FROM series WHERE study_pk IN (SELECT pk FROM studies WHERE patient_pk = ?)';
    switch (level) {
      case 'instance':
        db.prepare('DELETE FROM instances WHERE pk = ?').run(pk);
        break;
      case 'series':
        db.prepare('DELETE FROM instances WHERE series_pk = ?').run(pk);
        db.prepare('DELETE FROM series WHERE pk = ?').run(pk);
        break;
      case 'study':
        db.prepare('DELETE FROM instances WHERE series_pk IN (SELECT pk FROM series WHERE study_pk = ?)').run(pk);
        db.prepare('DELETE FROM series WHERE study_pk = ?').run(pk);
        db.prepare('DELETE FROM studies WHERE pk = ?').run(pk);
        break;
      case 'patient':
        db.prepare(`DELETE FROM instances WHERE series_pk IN (${seriesOfStudies})`).run(pk);
        db.prepare('DELETE FROM series WHERE study_pk IN (SELECT pk FROM studies WHERE patient_pk = ?)').run(pk);
        db.prepare('DELETE FROM studies WHERE patient_pk = ?').run(pk);
        db.prepare('DELETE FROM patients WHERE pk = ?').run(pk);
        break;
    }
  }

  statistics(): { CountPatients: number; CountStudies: number; CountSeries: number; CountInstances: number; TotalDiskSize: number } {
    const row = this.db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM patients) AS CountPatients, (SELECT COUNT(*) FROM studies) AS CountStudies,
           (SELECT COUNT(*) FROM series) AS CountSeries, (SELECT COUNT(*) FROM instances) AS CountInstances,
           (SELECT COALESCE(SUM(size), 0) FROM instances) AS TotalDiskSize`,
      )
      .get() as { CountPatients: number; CountStudies: number; CountSeries: number; CountInstances: number; TotalDiskSize: number };
    return row;
  }
}

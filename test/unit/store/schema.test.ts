/**
 * The index's schema on a real SQLite file: created at version 1, refused at a
 * version this program does not know, and indexes added after version 1
 * created when an older store is opened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { openIndex } from '../../../main/store/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function indexPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'schema-'));
  dirs.push(dir);
  return join(dir, 'index.sqlite');
}
const indexNames = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'series' ORDER BY name").pluck().all() as string[]);

describe('index schema', () => {
  test('a new index is at version 1 with the series index ModalitiesInStudy reads', () => {
    const path = indexPath();
    const db = openIndex(path);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(indexNames(db)).toContain('series_study_modality');
    db.close();
  });

  test('a version-1 index made before series_study_modality existed gets it on open; its data is kept', () => {
    const path = indexPath();
    const first = openIndex(path);
    first.prepare("INSERT INTO patients (orthanc_id, patient_id, attrs, main_tags, last_update) VALUES ('p', 'P1', '{}', '{}', 0)").run();
    first.exec('DROP INDEX series_study_modality');
    first.close();
    const older = new Database(path);
    expect(indexNames(older)).not.toContain('series_study_modality');
    older.close();
    const reopened = openIndex(path);
    expect(indexNames(reopened)).toContain('series_study_modality');
    expect(reopened.prepare('SELECT patient_id FROM patients').pluck().all()).toEqual(['P1']);
    reopened.close();
  });

  test('an index of an unknown schema version is refused with a store-corrupt error naming it', () => {
    const path = indexPath();
    const other = new Database(path);
    other.pragma('user_version = 7');
    other.close();
    expect(() => openIndex(path)).toThrow(expect.objectContaining({ kind: 'store-corrupt', message: expect.stringContaining('schema version 7') }));
  });
});

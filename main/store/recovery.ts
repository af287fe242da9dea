/**
 * Recovery when the store opens: brings files and index back in agreement
 * after a crash, without scanning the storage tree. Temp files (writes that
 * never reached the journal) are deleted; each journaled file (pending_files)
 * is deleted unless an indexed instance owns it, then its journal row goes.
 */
import type { StorageArea } from './files.js';
import type { Db } from './schema.js';

export interface RecoveryReport {
  tempFilesRemoved: number;
  orphansRemoved: number;
}

export function recover(db: Db, storage: StorageArea): RecoveryReport {
  const tempFilesRemoved = storage.clearTemp();
  const pending = db.prepare('SELECT file_uuid FROM pending_files').pluck().all() as string[];
  const owned = db.prepare<[string], number>('SELECT 1 FROM instances WHERE file_uuid = ?').pluck();
  const unjournal = db.prepare<[string]>('DELETE FROM pending_files WHERE file_uuid = ?');
  let orphansRemoved = 0;
  for (const uuid of pending) {
    if (owned.get(uuid) === undefined) {
      storage.removeSync(uuid);
      orphansRemoved++;
    }
    unjournal.run(uuid);
  }
  return { tempFilesRemoved, orphansRemoved };
}

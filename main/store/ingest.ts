/**
 * Atomic ingest of Part-10 files (the store side of STOW-RS, PS3.18 10.5, and
 * of imports). For a batch:
 *   1. parse every buffer (a bad one gets its failure outcome, the others go on);
 *   2. write the new ones to temp files and fsync them, concurrently;
 *   3. journal their UUIDs in `pending_files` (one transaction);
 *   4. rename them into place, concurrently, and fsync the folders they went to;
 *   5. one index transaction inserts the instances and clears their journal rows.
 * A crash before 3 leaves only temp files; between 3 and 5, journaled files
 * that recovery.ts deletes at the next open. Either way no half-indexed
 * instance and no unindexed file stays visible.
 * An instance already in the store (same Orthanc instance ID, i.e. same
 * PatientID, Study, Series and SOP Instance UID) is 'AlreadyStored' and its
 * stored file is left unchanged, as Orthanc does by default.
 */
import { AppError } from '../errors.js';
import type { ParsedInstance } from '../dicom/types.js';
import { parseInstance } from '../dicom/parseInstance.js';
import type { StorageArea } from './files.js';
import { instanceRecord, type InstanceRecord } from './indexRecord.js';
import type { IndexWriter } from './indexWriter.js';
import { resourceIds } from './orthancIds.js';
import type { Db } from './schema.js';
import type { StoreOutcome } from './types.js';

export interface IngestContext {
  db: Db;
  storage: StorageArea;
  writer: IndexWriter;
}

interface Candidate {
  index: number;
  bytes: Buffer;
  parsed: ParsedInstance;
  record: InstanceRecord;
  uuid?: string;
}

function success(parsed: ParsedInstance, record: InstanceRecord, status: 'Success' | 'AlreadyStored'): StoreOutcome {
  return {
    ok: true,
    status,
    ids: record.ids,
    sopClassUID: parsed.sopClassUID,
    sopInstanceUID: parsed.sopInstanceUID,
    studyInstanceUID: parsed.studyInstanceUID,
    seriesInstanceUID: parsed.seriesInstanceUID,
    transferSyntaxUID: parsed.transferSyntaxUID,
  };
}

function ioFailure(parsed: ParsedInstance, err: unknown): StoreOutcome {
  return {
    ok: false,
    reason: 'io',
    message: `could not write instance ${parsed.sopInstanceUID} to the storage area: ${(err as Error).message}`,
    sopClassUID: parsed.sopClassUID,
    sopInstanceUID: parsed.sopInstanceUID,
  };
}

/**
 * parseInstance reports a missing identifying UID as 'bad-dicom' with
 * `details.missingUid`; STOW-RS tells it apart (missing-uid, 0xA900).
 */
function missingUid(err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  return typeof err.details?.missingUid === 'string';
}

/** Parses and checks one input; a failure outcome, or the parsed instance. */
function examine(bytes: Buffer, studyInstanceUID: string | undefined): StoreOutcome | ParsedInstance {
  let parsed: ParsedInstance;
  try {
    parsed = parseInstance(bytes);
  } catch (err) {
    const message = err instanceof AppError ? err.message : `unreadable DICOM: ${(err as Error).message}`;
    return { ok: false, reason: missingUid(err) ? 'missing-uid' : 'bad-dicom', message };
  }
  const missing = (
    [
      ['SOPClassUID', parsed.sopClassUID],
      ['SOPInstanceUID', parsed.sopInstanceUID],
      ['StudyInstanceUID', parsed.studyInstanceUID],
      ['SeriesInstanceUID', parsed.seriesInstanceUID],
    ] as const
  )
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) {
    return {
      ok: false,
      reason: 'missing-uid',
      message: `missing ${missing.join(', ')}`,
      sopClassUID: parsed.sopClassUID || undefined,
      sopInstanceUID: parsed.sopInstanceUID || undefined,
    };
  }
  if (studyInstanceUID !== undefined && parsed.studyInstanceUID !== studyInstanceUID) {
    return {
      ok: false,
      reason: 'study-mismatch',
      message: `instance ${parsed.sopInstanceUID} belongs to study ${parsed.studyInstanceUID}, not to study ${studyInstanceUID} named by the request`,
      sopClassUID: parsed.sopClassUID,
      sopInstanceUID: parsed.sopInstanceUID,
    };
  }
  return parsed;
}

export async function ingest(ctx: IngestContext, files: Buffer[], options: { studyInstanceUID?: string } = {}): Promise<StoreOutcome[]> {
  const { db, storage, writer } = ctx;
  const outcomes: StoreOutcome[] = new Array(files.length);
  const candidates: Candidate[] = [];
  /** Orthanc instance ID -> input index of its first occurrence in this batch. */
  const firstInBatch = new Map<string, number>();
  const duplicates: Array<{ index: number; of: number }> = [];

  // 1. Parse and check.
  files.forEach((bytes, index) => {
    const examined = examine(bytes, options.studyInstanceUID);
    if ('ok' in examined) {
      outcomes[index] = examined;
      return;
    }
    const record = instanceRecord(examined, resourceIds(examined), bytes);
    const id = record.ids.instance;
    const first = firstInBatch.get(id);
    if (first !== undefined) {
      duplicates.push({ index, of: first });
      return;
    }
    firstInBatch.set(id, index);
    if (writer.hasInstance(id)) {
      outcomes[index] = success(examined, record, 'AlreadyStored');
      return;
    }
    candidates.push({ index, bytes, parsed: examined, record });
  });

  // 2. Temp files, fsynced, concurrently on the thread pool, while 3. the main
  // thread journals their names (one commit): the two disk waits overlap. The
  // journal must be durable before any rename (recovery deletes journaled files
  // no instance owns; names journaled for files never written are harmless).
  for (const c of candidates) c.uuid = storage.newUuid(c.record.ids.study);
  const writing = Promise.allSettled(candidates.map((c) => storage.writeTemp(c.bytes, c.uuid!)));
  if (candidates.length > 0) {
    db.transaction(() => {
      for (const c of candidates) writer.journal(c.uuid!);
    })();
  }
  const written = await writing;
  const toMove: Candidate[] = [];
  const discard: string[] = [];
  written.forEach((result, k) => {
    const c = candidates[k]!;
    if (result.status === 'fulfilled') toMove.push(c);
    else {
      outcomes[c.index] = ioFailure(c.parsed, result.reason);
      discard.push(c.uuid!);
    }
  });

  if (toMove.length > 0) {
    // 4. Rename into place.
    const moved = await Promise.allSettled(toMove.map((c) => storage.moveIntoPlace(c.uuid!)));
    const inPlace: Candidate[] = [];
    moved.forEach((result, k) => {
      const c = toMove[k]!;
      if (result.status === 'fulfilled') inPlace.push(c);
      else {
        outcomes[c.index] = ioFailure(c.parsed, result.reason);
        discard.push(c.uuid!);
      }
    });

    await storage.syncFolders(inPlace.map((c) => c.uuid!)).catch(() => undefined); // best effort: the files are fsynced already

    // 5. One index transaction for the batch. Another batch may have stored the same instance meanwhile.
    const now = Date.now();
    db.transaction(() => {
      for (const c of inPlace) {
        if (writer.hasInstance(c.record.ids.instance)) {
          outcomes[c.index] = success(c.parsed, c.record, 'AlreadyStored');
          discard.push(c.uuid!);
        } else {
          writer.insert(c.record, c.uuid!, now);
          writer.unjournal(c.uuid!);
          outcomes[c.index] = success(c.parsed, c.record, 'Success');
        }
      }
    })();
  }

  // Files that will not be indexed: delete them, then their journal rows
  // (a file that cannot be deleted keeps its row: the next open retries).
  if (discard.length > 0) {
    const removed = await Promise.allSettled(discard.map((uuid) => Promise.all([storage.remove(uuid), storage.discardTemp(uuid)])));
    db.transaction(() => {
      discard.forEach((uuid, k) => {
        if (removed[k]!.status === 'fulfilled') writer.unjournal(uuid);
      });
    })();
  }

  for (const { index, of } of duplicates) {
    const first = outcomes[of]!;
    outcomes[index] = first.ok ? { ...first, status: 'AlreadyStored' } : first;
  }
  return outcomes;
}

/**
 * Atomic ingest of Part-10 files (the store side of STOW-RS, PS3.18 10.5, and
 * of imports). For a batch:
 *   1. parse every buffer (a bad one gets its failure outcome, the others go on);
 *   2. write the new ones to temp files and fsync them, each as soon as it
 *      is added (IngestBatch: while a STOW-RS body still arrives);
 *   3. journal their UUIDs in `pending_files` (one transaction);
 *   4. rename each into place once it is written, and fsync the folders they went to;
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
import { parseInstance, parseInstanceOfChunks } from '../dicom/parseInstance.js';
import type { StorageArea } from './files.js';
import { instanceRecord, levelRecords, type InstanceRecord, type LevelRecords } from './indexRecord.js';
import type { IndexWriter } from './indexWriter.js';
import { resourceIds } from './orthancIds.js';
import type { Db } from './schema.js';
import type { DurableCommits } from './durableCommit.js';
import type { FileBytes, StoreBatch, StoreOutcome } from './types.js';

export interface IngestContext {
  db: Db;
  storage: StorageArea;
  writer: IndexWriter;
  /** The batch's journal and index commits, durable without blocking the event loop. */
  commits: DurableCommits;
}

interface Candidate {
  index: number;
  parsed: ParsedInstance;
  record: InstanceRecord;
  uuid: string;
  /** Its temp file written and fsynced, or why not. */
  written: Promise<PromiseSettledResult<void>>;
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

/** Parses and checks one input of `size` bytes; a failure outcome, or the parsed instance. */
function examine(bytes: FileBytes, size: number, studyInstanceUID: string | undefined): StoreOutcome | ParsedInstance {
  let parsed: ParsedInstance;
  try {
    parsed = Buffer.isBuffer(bytes) ? parseInstance(bytes) : parseInstanceOfChunks(bytes, size);
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

function sizeOf(bytes: FileBytes): number {
  if (Buffer.isBuffer(bytes)) return bytes.length;
  let size = 0;
  for (const piece of bytes) size += piece.length;
  return size;
}

/** One instance of a batch: a failure already known, or a candidate being written. */
type Entry = { outcome: StoreOutcome } | { duplicateOf: number } | { candidate: Candidate };

/**
 * A batch filled instance by instance: each one is parsed, checked and its
 * temp file written and fsynced (steps 1 and 2) as soon as it is added, so
 * that the disk works while the rest of the batch still arrives (STOW-RS
 * parts come off the socket one by one; files fsynced one by one as they come
 * cost the disk no more than all at once); commit() does steps 3 to 5 once,
 * for the whole batch. A batch never committed leaves only temp files, which
 * the next open deletes.
 */
export class IngestBatch implements StoreBatch {
  private readonly entries: Entry[] = [];
  /** Orthanc instance ID -> index of its first occurrence in this batch. */
  private readonly firstInBatch = new Map<string, number>();
  /**
   * Orthanc series ID -> the level rows of the first instance of the batch in
   * that series: a row is created by the first instance that names it, and only
   * when it does not exist yet (IndexWriter.insert).
   */
  private readonly levelsOfSeries = new Map<string, LevelRecords>();
  private unwritten = 0;
  private readonly waiters: Array<{ bytes: number; resolve: () => void }> = [];
  private committed = false;

  constructor(
    private readonly ctx: IngestContext,
    private readonly options: { studyInstanceUID?: string } = {},
  ) {}

  /** Instances added so far. */
  get size(): number {
    return this.entries.length;
  }

  /** Bytes added whose temp file is not written yet. */
  get unwrittenBytes(): number {
    return this.unwritten;
  }

  /** Resolves once at most `bytes` remain unwritten (backpressure for a fast sender). */
  async drained(bytes: number): Promise<void> {
    if (this.unwritten <= bytes) return;
    await new Promise<void>((resolve) => this.waiters.push({ bytes, resolve }));
  }

  /** Parses and checks `bytes` and starts writing its temp file; its outcome comes from commit(). */
  add(bytes: FileBytes): void {
    if (this.committed) throw new AppError('internal', 'ingest: an instance was added to a batch already committed');
    const index = this.entries.length;
    const size = sizeOf(bytes);
    const examined = examine(bytes, size, this.options.studyInstanceUID);
    if ('ok' in examined) {
      this.entries.push({ outcome: examined });
      return;
    }
    let record: InstanceRecord;
    try {
      const ids = resourceIds(examined);
      let levels = this.levelsOfSeries.get(ids.series);
      if (!levels) this.levelsOfSeries.set(ids.series, (levels = levelRecords(examined)));
      record = instanceRecord(examined, ids, size, levels);
    } catch (err) {
      const message = `instance ${examined.sopInstanceUID} cannot be indexed: ${(err as Error).message}`;
      this.entries.push({ outcome: { ok: false, reason: 'bad-dicom', message, sopClassUID: examined.sopClassUID, sopInstanceUID: examined.sopInstanceUID } });
      return;
    }
    const id = record.ids.instance;
    const first = this.firstInBatch.get(id);
    if (first !== undefined) {
      this.entries.push({ duplicateOf: first });
      return;
    }
    const alreadyStored = this.ctx.writer.hasInstance(id);
    this.firstInBatch.set(id, index);
    if (alreadyStored) {
      this.entries.push({ outcome: success(examined, record, 'AlreadyStored') });
      return;
    }
    const uuid = this.ctx.storage.newUuid(record.ids.study);
    this.unwritten += size;
    const written = this.ctx.storage.writeTemp(bytes, uuid).then(
      (): PromiseSettledResult<void> => ({ status: 'fulfilled', value: undefined }),
      (reason: unknown): PromiseSettledResult<void> => ({ status: 'rejected', reason }),
    );
    void written.then(() => this.wrote(size));
    this.entries.push({ candidate: { index, parsed: examined, record, uuid, written } });
  }

  private wrote(bytes: number): void {
    this.unwritten -= bytes;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (this.unwritten <= waiter.bytes) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /** Steps 3 to 5 for the whole batch; one outcome per instance added, in order. */
  async commit(): Promise<StoreOutcome[]> {
    if (this.committed) throw new AppError('internal', 'ingest: a batch was committed twice');
    this.committed = true;
    const { db, storage, writer, commits } = this.ctx;
    const outcomes: StoreOutcome[] = new Array(this.entries.length);
    const candidates: Candidate[] = [];
    this.entries.forEach((entry, index) => {
      if ('outcome' in entry) outcomes[index] = entry.outcome;
      else if ('candidate' in entry) candidates.push(entry.candidate);
    });

    // 3. Journal the names (one commit) while the last temp files are still
    // being written and fsynced on the thread pool: the two disk waits overlap.
    // The journal must be durable before any rename (recovery deletes
    // journaled files no instance owns; names journaled for files never
    // written are harmless).
    if (candidates.length > 0) {
      await commits.commit(() => {
        for (const c of candidates) writer.journal(c.uuid);
      });
    }
    // 4. Rename each file into place as soon as it is written (the journal is durable now).
    const moved = await Promise.all(
      candidates.map(async (c): Promise<PromiseSettledResult<void>> => {
        const written = await c.written;
        if (written.status === 'rejected') return written;
        try {
          return { status: 'fulfilled', value: await storage.moveIntoPlace(c.uuid) };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      }),
    );
    const inPlace: Candidate[] = [];
    const discard: string[] = [];
    moved.forEach((result, k) => {
      const c = candidates[k]!;
      if (result.status === 'fulfilled') inPlace.push(c);
      else {
        outcomes[c.index] = ioFailure(c.parsed, result.reason);
        discard.push(c.uuid);
      }
    });

    if (inPlace.length > 0) {
      await storage.syncFolders(inPlace.map((c) => c.uuid)).catch(() => undefined); // best effort: the files are fsynced already

      // 5. One index transaction for the batch. Another batch may have stored the same instance meanwhile.
      const now = Date.now();
      await commits.commit(() => {
        const levels = new Map<string, number>();
        for (const c of inPlace) {
          if (writer.hasInstance(c.record.ids.instance)) {
            outcomes[c.index] = success(c.parsed, c.record, 'AlreadyStored');
            discard.push(c.uuid);
          } else {
            writer.insert(c.record, c.uuid, now, levels);
            writer.unjournal(c.uuid);
            outcomes[c.index] = success(c.parsed, c.record, 'Success');
          }
        }
      });
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

    this.entries.forEach((entry, index) => {
      if (!('duplicateOf' in entry)) return;
      const first = outcomes[entry.duplicateOf]!;
      outcomes[index] = first.ok ? { ...first, status: 'AlreadyStored' } : first;
    });
    return outcomes;
  }
}

/** A whole batch at once (imports, retrieves, tests). */
export async function ingest(ctx: IngestContext, files: readonly FileBytes[], options: { studyInstanceUID?: string } = {}): Promise<StoreOutcome[]> {
  const batch = new IngestBatch(ctx, options);
  for (const bytes of files) batch.add(bytes);
  return batch.commit();
}

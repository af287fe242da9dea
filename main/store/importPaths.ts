/**
 * Import of files, folders (recursive), ZIP archives and DICOMDIR media into
 * the store, in batches through the atomic ingest. What is read, and in which
 * order, is importItems.ts (zipEntries.ts for archives, dicomdir.ts for media);
 * this module counts, batches and reports.
 *
 * A file is taken as DICOM when it has the Part-10 preamble and 'DICM' prefix
 * (PS3.10 7.1), or when it starts like a raw dataset (a tag of group 0002 or
 * 0008, as written without preamble by old software) and parses. Other files
 * are skipped and counted, not failures; unreadable files, Part-10 files that
 * do not parse, damaged or unsupported ZIP entries and files a DICOMDIR names
 * but the medium lacks are failures with their reason. A DICOMDIR is counted
 * apart and never stored (it is no instance: SOP class 1.2.840.10008.1.3.10).
 * Progress callbacks come after each batch and, in between, at most every
 * PROGRESS_INTERVAL_MS; an AbortSignal cancels between files (and between the
 * entries of an archive): the promise then rejects with AppError('cancelled')
 * whose details.report tells what was done. Instances of the batch being
 * gathered are not stored; those stored stay stored, each whole (ingest is
 * atomic per batch).
 */
import { AppError } from '../errors.js';
import { importItems, type ImportItem } from './importItems.js';
import type { ImportProgress, ImportReport, StoreOutcome } from './types.js';
import type { ZipLimits } from './zipEntries.js';

const BATCH_FILES = 50;
const BATCH_BYTES = 64 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

export type Ingest = (files: Buffer[]) => Promise<StoreOutcome[]>;

type Pending = Extract<ImportItem, { kind: 'dicom' }>;

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** Limits on ZIP entries (default DEFAULT_ZIP_LIMITS). */
  zipLimits?: ZipLimits;
}

export async function importPaths(
  ingest: Ingest,
  paths: string[],
  options: ImportOptions = {},
): Promise<ImportReport> {
  const { onProgress, signal } = options;
  const report: ImportReport = { filesSeen: 0, stored: 0, alreadyStored: 0, skippedNotDicom: 0, dicomdirs: 0, failed: 0, bytes: 0, failures: [] };
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = now;
    const { failures: _failures, container, ...snapshot } = report;
    onProgress(container ? { ...snapshot, container: { ...container } } : snapshot);
  };
  const fail = (path: string, message: string) => {
    report.failed++;
    report.failures.push({ path, message });
  };
  const cancelled = () => new AppError('cancelled', `import cancelled after ${report.filesSeen} files (${report.stored} stored)`, { report });

  let batch: Pending[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    batchBytes = 0;
    const outcomes = await ingest(current.map((p) => p.bytes));
    outcomes.forEach((outcome, k) => {
      const { path, part10 } = current[k]!;
      if (outcome.ok) {
        if (outcome.status === 'Success') report.stored++;
        else report.alreadyStored++;
      } else if (outcome.reason === 'bad-dicom' && !part10) report.skippedNotDicom++;
      else fail(path, outcome.message);
    });
    progress(true); // after each batch (at most one per BATCH_FILES files), per-file progress is throttled
  };

  const items = importItems(paths, { zipLimits: options.zipLimits });
  try {
    for (;;) {
      if (signal?.aborted) throw cancelled(); // checked before the next file is read
      const next = await items.next();
      if (next.done) break;
      const item = next.value;
      report.filesSeen++;
      report.currentPath = item.path;
      if (item.container) report.container = item.container;
      else delete report.container;
      if (item.kind === 'failed') fail(item.path, item.message);
      else if (item.kind === 'not-dicom') report.skippedNotDicom++;
      else if (item.kind === 'dicomdir') report.dicomdirs++;
      else {
        report.bytes += item.bytes.length;
        batch.push(item);
        batchBytes += item.bytes.length;
        if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
          await flush();
          continue;
        }
      }
      progress();
    }
    await flush();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('internal', `import failed after ${report.filesSeen} files: ${(err as Error).message}`, { report });
  } finally {
    await items.return(undefined); // closes an archive left open by a cancel
  }
  delete report.currentPath;
  delete report.container;
  progress(true);
  return report;
}

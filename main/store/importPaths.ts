/**
 * Import of files and folders (recursive) into the store, in batches through
 * the atomic ingest. A file is taken as DICOM when it has the Part-10 preamble
 * and 'DICM' prefix (PS3.10 7.1), or when it starts like a raw dataset (a tag
 * of group 0002 or 0008, as written without preamble by old software) and
 * parses. Other files are skipped and counted, not failures; unreadable files
 * and Part-10 files that do not parse are failures with their message.
 * Progress callbacks come after each batch and, in between, at most every
 * PROGRESS_INTERVAL_MS; an AbortSignal cancels between files, the
 * promise then rejects with AppError('cancelled') whose details.report tells
 * what was done (instances already stored stay stored).
 */
import type { Dirent } from 'node:fs';
import { open, opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { ImportProgress, ImportReport, StoreOutcome } from './types.js';

const BATCH_FILES = 50;
const BATCH_BYTES = 64 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

export type Ingest = (files: Buffer[]) => Promise<StoreOutcome[]>;

interface Pending {
  path: string;
  bytes: Buffer;
  /** Has the Part-10 'DICM' prefix: a parse failure is a failure, not a skip. */
  part10: boolean;
}

type Sniff = 'part10' | 'raw-dataset' | 'not-dicom';

/** Looks at the first 132 bytes. */
function sniff(head: Buffer): Sniff {
  if (head.length >= 132 && head.toString('latin1', 128, 132) === 'DICM') return 'part10';
  if (head.length >= 8) {
    const groupLE = head.readUInt16LE(0);
    const groupBE = head.readUInt16BE(0);
    if (groupLE === 0x0002 || groupLE === 0x0008 || groupBE === 0x0008) return 'raw-dataset';
  }
  return 'not-dicom';
}

/** Reads a file if it may be DICOM; undefined when it is not. */
async function readCandidate(path: string): Promise<{ bytes: Buffer; part10: boolean } | undefined> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    const kind = sniff(head.subarray(0, bytesRead));
    if (kind === 'not-dicom') return undefined;
    return { bytes: await handle.readFile(), part10: kind === 'part10' };
  } finally {
    await handle.close();
  }
}

interface Walked {
  path: string;
  /** The path or folder could not be read. */
  error?: Error;
}

/** Every regular file under the paths, folders walked recursively in name order (symbolic links to folders not followed). */
async function* walk(paths: string[]): AsyncGenerator<Walked> {
  for (const path of paths) {
    let isFolder: boolean;
    try {
      isFolder = (await stat(path)).isDirectory();
    } catch (error) {
      yield { path, error: error as Error };
      continue;
    }
    if (isFolder) yield* walkFolder(path);
    else yield { path };
  }
}

async function* walkFolder(folder: string): AsyncGenerator<Walked> {
  const entries: Dirent[] = [];
  try {
    for await (const entry of await opendir(folder)) entries.push(entry);
  } catch (error) {
    yield { path: folder, error: error as Error };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walkFolder(path);
    else if (entry.isFile()) yield { path };
    else if (entry.isSymbolicLink()) {
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) yield { path };
    }
  }
}

export async function importPaths(
  ingest: Ingest,
  paths: string[],
  options: { onProgress?: (p: ImportProgress) => void; signal?: AbortSignal } = {},
): Promise<ImportReport> {
  const { onProgress, signal } = options;
  const report: ImportReport = { filesSeen: 0, stored: 0, alreadyStored: 0, skippedNotDicom: 0, failed: 0, bytes: 0, failures: [] };
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!onProgress) return;
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
    lastProgress = now;
    const { failures: _failures, ...snapshot } = report;
    onProgress(snapshot);
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

  try {
    for await (const { path, error } of walk(paths)) {
      if (signal?.aborted) throw cancelled();
      report.filesSeen++;
      report.currentPath = path;
      let candidate: { bytes: Buffer; part10: boolean } | undefined;
      try {
        if (error) throw error;
        candidate = await readCandidate(path);
      } catch (err) {
        fail(path, `cannot read ${path}: ${(err as Error).message}`);
        progress();
        continue;
      }
      if (!candidate) {
        report.skippedNotDicom++;
        progress();
        continue;
      }
      report.bytes += candidate.bytes.length;
      batch.push({ path, ...candidate });
      batchBytes += candidate.bytes.length;
      if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) await flush();
      else progress();
    }
    if (signal?.aborted) throw cancelled();
    await flush();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('internal', `import failed after ${report.filesSeen} files: ${(err as Error).message}`, { report });
  }
  delete report.currentPath;
  progress(true);
  return report;
}

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { openStore } from '../../../main/store/openStore.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'ingestLoop.ts');
const dir = mkdtempSync(join(tmpdir(), 'store-crash-'));
const storage = join(dir, 'storage');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the ingest loop and SIGKILLs it after `afterLines` output lines plus `delayMs`. */
function runAndKill(seed: string, afterLines: number, delayMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, storage, seed], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let stderr = '';
    let killing = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter(Boolean));
      if (!killing && lines.length >= afterLines) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`ingest child exited by itself (code ${code}): ${stderr}`));
    });
  });
}

/** What a crash left before recovery: journal rows and temp files. */
function leftovers(): { pending: number; temp: number } {
  const db = new Database(join(storage, 'index.sqlite'));
  const pending = (db.prepare('SELECT COUNT(*) AS n FROM pending_files').get() as { n: number }).n;
  db.close();
  const tmp = join(storage, 'tmp');
  return { pending, temp: existsSync(tmp) ? readdirSync(tmp).length : 0 };
}

function storedFiles(): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.add(p);
    }
  };
  for (const e of readdirSync(storage, { withFileTypes: true })) {
    if (e.isDirectory() && e.name !== 'tmp') walk(join(storage, e.name));
  }
  return out;
}

/** Index and files agree after recovery. */
function checkConsistency(): number {
  const store = openStore({ storageDirectory: storage });
  try {
    const files = storedFiles();
    const ids = store.listResources('instance');
    const paths = new Set<string>();
    for (const [k, id] of ids.entries()) {
      const instance = store.getInstance(id)!;
      expect(existsSync(instance.path), `indexed file ${relative(storage, instance.path)} exists`).toBe(true);
      expect(statSync(instance.path).size).toBe(instance.size);
      if (k % 7 === 0) expect(parseInstance(readFileSync(instance.path)).sopInstanceUID).toBe(instance.sopInstanceUID);
      paths.add(instance.path);
    }
    const orphans = [...files].filter((f) => !paths.has(f));
    expect(orphans, 'files without an index row').toEqual([]);
    expect(readdirSync(join(storage, 'tmp')), 'temp files').toEqual([]);
    const stats = store.statistics();
    expect(stats.CountInstances).toBe(ids.length);
    expect(stats.TotalDiskSize).toBe([...paths].reduce((n, p) => n + statSync(p).size, 0));
    // Every resource has children: no series, study or patient left empty.
    for (const id of store.listResources('series')) expect(store.getResource('series', id)!.Instances!.length).toBeGreaterThan(0);
    for (const id of store.listResources('study')) expect(store.getResource('study', id)!.Series!.length).toBeGreaterThan(0);
    for (const id of store.listResources('patient')) expect(store.getResource('patient', id)!.Studies!.length).toBeGreaterThan(0);
    // The counts QIDO answers (kept by triggers) agree with the resources.
    for (const match of store.search({ level: 'study', filters: [], fuzzy: false, offset: 0 })) {
      const series = store.getResource('study', match.ids.study)!.Series!;
      const instances = series.reduce((n, id) => n + store.getResource('series', id)!.Instances!.length, 0);
      expect(match.dataset['00201206']!.Value).toEqual([series.length]); // NumberOfStudyRelatedSeries
      expect(match.dataset['00201208']!.Value).toEqual([instances]); // NumberOfStudyRelatedInstances
    }
    expect(stats).toMatchObject({
      CountSeries: store.listResources('series').length,
      CountStudies: store.listResources('study').length,
      CountPatients: store.listResources('patient').length,
    });
  } finally {
    store.close();
  }
  const db = new Database(join(storage, 'index.sqlite'));
  const pending = (db.prepare('SELECT COUNT(*) AS n FROM pending_files').get() as { n: number }).n;
  db.close();
  expect(pending, 'journal rows after recovery').toBe(0);
  return storedFiles().size;
}

test('a store killed with SIGKILL at any moment of ingest or delete reopens with index and files in agreement', async () => {
  let interrupted = 0;
  let rounds = 0;
  // Kill at different moments; go on until at least three kills caught files in flight.
  for (const [afterLines, delayMs] of [[1, 5], [2, 0], [3, 17], [4, 3], [5, 29], [6, 11], [3, 1], [2, 23], [4, 7], [5, 13]] as const) {
    rounds++;
    const lines = await runAndKill(`r${rounds}`, afterLines, delayMs);
    expect(lines[0]).toBe('ready');
    const left = leftovers();
    if (left.pending + left.temp > 0) interrupted++;
    checkConsistency();
    if (interrupted >= 3 && rounds >= 5) break;
  }
  expect(interrupted, `kills that caught files in flight out of ${rounds}`).toBeGreaterThanOrEqual(1);
}, 120_000);

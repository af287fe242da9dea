/**
 * Store.beginBatch (store/ingest.ts IngestBatch): the ingest STOW-RS uses,
 * filled one instance at a time. Each instance's temp file is written and
 * fsynced when it is added; nothing is indexed or in place before commit();
 * a batch that was never committed leaves nothing once the store reopens.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { synthStudy } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore('store-batch-');
});
afterEach(() => t.cleanup());

const tempFiles = () => readdirSync(join(t.store.storageDirectory, 'tmp'));
/** Folders of stored files (two hex levels), without tmp/. */
const storedFolders = () => readdirSync(t.store.storageDirectory).filter((name) => /^[0-9a-f]{2}$/.test(name));

describe('beginBatch', () => {
  test('writes each temp file as the instance is added, indexes nothing before commit, then one outcome per instance in order', async () => {
    const files = synthStudy({ key: 'batch-1', patientID: 'PB1', patientName: 'BATCH^ONE', series: 1, instancesPerSeries: 3 });
    const batch = t.store.beginBatch();
    batch.add(files[0]!);
    batch.add(Buffer.from('not a DICOM file at all'));
    batch.add(files[1]!);
    batch.add(files[0]!); // the same instance again in this batch
    batch.add(files[2]!);
    expect(batch.size).toBe(5);
    expect(batch.unwrittenBytes).toBeGreaterThan(0);
    await batch.drained(0);
    expect(batch.unwrittenBytes).toBe(0);
    expect(tempFiles()).toHaveLength(3);
    expect(t.store.statistics().CountInstances).toBe(0);
    expect(storedFolders()).toEqual([]);

    const outcomes = await batch.commit();
    expect(outcomes.map((o) => (o.ok ? o.status : o.reason))).toEqual(['Success', 'bad-dicom', 'Success', 'AlreadyStored', 'Success']);
    expect(tempFiles()).toEqual([]);
    expect(t.store.statistics().CountInstances).toBe(3);
    for (const [k, i] of [0, 2, 4].entries()) {
      const outcome = outcomes[i]!;
      if (!outcome.ok) throw new Error('expected a stored instance');
      expect(readFileSync(t.store.getInstance(outcome.ids.instance)!.path).equals(files[k]!)).toBe(true);
    }
    expect(() => batch.add(files[0]!)).toThrow(/already committed/);
  });

  test('an instance already in the store is AlreadyStored and writes no temp file', async () => {
    const files = synthStudy({ key: 'batch-2', patientID: 'PB2', patientName: 'BATCH^TWO', series: 1, instancesPerSeries: 2 });
    await t.store.storeInstances([files[0]!]);
    const batch = t.store.beginBatch();
    batch.add(files[0]!);
    batch.add(files[1]!);
    await batch.drained(0);
    expect(tempFiles()).toHaveLength(1);
    expect((await batch.commit()).map((o) => o.ok && o.status)).toEqual(['AlreadyStored', 'Success']);
    expect(t.store.statistics().CountInstances).toBe(2);
  });

  test('a batch never committed (the process died) leaves neither files nor index rows after the store reopens', async () => {
    const files = synthStudy({ key: 'batch-3', patientID: 'PB3', patientName: 'BATCH^THREE', series: 1, instancesPerSeries: 4 });
    const batch = t.store.beginBatch();
    for (const f of files) batch.add(f);
    await batch.drained(0);
    expect(tempFiles()).toHaveLength(4);
    const store = t.reopen();
    expect(tempFiles()).toEqual([]);
    expect(storedFolders()).toEqual([]);
    expect(store.statistics().CountInstances).toBe(0);
  });

  test('with a study named by the request, an instance of another study fails as study-mismatch and is not written', async () => {
    const a = synthStudy({ key: 'batch-4a', patientID: 'PB4', patientName: 'BATCH^FOUR', series: 1, instancesPerSeries: 1 });
    const b = synthStudy({ key: 'batch-4b', patientID: 'PB4', patientName: 'BATCH^FOUR', series: 1, instancesPerSeries: 1 });
    const first = await t.store.storeInstances(a);
    if (!first[0]!.ok) throw new Error('expected a stored instance');
    const batch = t.store.beginBatch({ studyInstanceUID: first[0]!.studyInstanceUID });
    batch.add(b[0]!);
    await batch.drained(0);
    expect(tempFiles()).toEqual([]);
    expect((await batch.commit()).map((o) => !o.ok && o.reason)).toEqual(['study-mismatch']);
  });

  test('an instance given as the pieces it arrived in is stored byte for byte, with the same record as from one buffer', async () => {
    const files = synthStudy({ key: 'batch-5', patientID: 'PB5', patientName: 'BATCH^FIVE', series: 1, instancesPerSeries: 2, rows: 256, columns: 256 });
    const pieces = (bytes: Buffer, size: number) => Array.from({ length: Math.ceil(bytes.length / size) }, (_, k) => bytes.subarray(k * size, (k + 1) * size));
    const batch = t.store.beginBatch();
    batch.add(pieces(files[0]!, 65536));
    batch.add(pieces(files[1]!, 100)); // more pieces than one writev call takes (IOV_MAX 1024)
    batch.add([Buffer.from('not a DICOM '), Buffer.from('file at all')]);
    batch.add([]);
    expect(batch.unwrittenBytes).toBe(files[0]!.length + files[1]!.length);
    const outcomes = await batch.commit();
    expect(outcomes.map((o) => (o.ok ? o.status : o.reason))).toEqual(['Success', 'Success', 'bad-dicom', 'bad-dicom']);
    const other = tempStore('store-batch-whole-');
    try {
      await other.store.storeInstances(files);
      for (const [k, outcome] of outcomes.slice(0, 2).entries()) {
        if (!outcome.ok) throw new Error('expected a stored instance');
        const stored = t.store.getInstance(outcome.ids.instance)!;
        expect(readFileSync(stored.path).equals(files[k]!)).toBe(true);
        const fromWhole = other.store.getInstance(outcome.ids.instance)!;
        expect({ ...stored, path: '' }).toEqual({ ...fromWhole, path: '' });
        const selector = { study: outcome.studyInstanceUID, instance: outcome.sopInstanceUID };
        const metadata = [...t.store.instanceMetadata(selector)];
        expect(metadata).toHaveLength(1);
        expect(metadata).toEqual([...other.store.instanceMetadata(selector)]);
      }
    } finally {
      other.cleanup();
    }
  });
});

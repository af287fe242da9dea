import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { sample } from '../../support/samples.js';
import { synthInstance, synthStudy, synthUid } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';
import { parseQidoQuery } from '../../../main/dicomweb/qidoQuery.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore();
});
afterEach(() => t.cleanup());

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('storeInstances', () => {
  test('stores every instance of a batch and keeps the bytes unchanged on disk', async () => {
    const files = synthStudy({ key: 'ingest-1', patientID: 'P1', patientName: 'DOE^JANE', series: 2, instancesPerSeries: 3 });
    const outcomes = await t.store.storeInstances(files);
    expect(outcomes.map((o) => o.ok && o.status)).toEqual(Array(6).fill('Success'));
    for (const [k, outcome] of outcomes.entries()) {
      if (!outcome.ok) throw new Error('unexpected failure');
      const stored = t.store.getInstance(outcome.ids.instance)!;
      expect(stored.sopInstanceUID).toBe(outcome.sopInstanceUID);
      expect(sha1(readFileSync(stored.path))).toBe(sha1(files[k]!));
      expect(stored.size).toBe(files[k]!.length);
    }
    expect(t.store.statistics()).toMatchObject({ CountPatients: 1, CountStudies: 1, CountSeries: 2, CountInstances: 6 });
  });

  test('storing the same SOP instance again answers AlreadyStored and leaves the stored file unchanged', async () => {
    const spec = {
      patientID: 'P2',
      patientName: 'SAME^AGAIN',
      studyInstanceUID: synthUid('again', 1),
      seriesInstanceUID: synthUid('again', 2),
      sopInstanceUID: synthUid('again', 3),
    };
    const first = synthInstance({ ...spec, seriesDescription: 'first version' });
    const second = synthInstance({ ...spec, seriesDescription: 'second version, different bytes' });
    expect(sha1(first)).not.toBe(sha1(second));
    const [a] = await t.store.storeInstances([first]);
    const [b] = await t.store.storeInstances([second]);
    expect(a).toMatchObject({ ok: true, status: 'Success' });
    expect(b).toMatchObject({ ok: true, status: 'AlreadyStored' });
    if (!a!.ok || !b!.ok) throw new Error('unexpected failure');
    expect(b.ids).toEqual(a.ids);
    const stored = t.store.getInstance(a.ids.instance)!;
    expect(sha1(readFileSync(stored.path))).toBe(sha1(first));
    expect(t.store.statistics().CountInstances).toBe(1);
    // No second file was left behind.
    expect(filesUnder(t.store.storageDirectory).filter((p) => !/index\.(sqlite|lock)/.test(p))).toEqual([stored.path]);
  });

  test('the same instance twice in one batch is stored once, the second answer is AlreadyStored', async () => {
    const file = readFileSync(sample('CT_small.dcm'));
    const outcomes = await t.store.storeInstances([file, file]);
    expect(outcomes.map((o) => o.ok && o.status)).toEqual(['Success', 'AlreadyStored']);
    expect(t.store.statistics().CountInstances).toBe(1);
  });

  test('concurrent batches storing the same instance index it once and leave no extra file', async () => {
    const files = synthStudy({ key: 'race', patientID: 'P3', patientName: 'RACE^ONE', series: 1, instancesPerSeries: 5 });
    const [x, y] = await Promise.all([t.store.storeInstances(files), t.store.storeInstances(files)]);
    const statuses = [...x!, ...y!].map((o) => o.ok && o.status);
    expect(statuses.filter((s) => s === 'Success')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'AlreadyStored')).toHaveLength(5);
    const stored = filesUnder(t.store.storageDirectory).filter((p) => !/index\.(sqlite|lock)/.test(p));
    expect(stored).toHaveLength(5);
  });

  test('a buffer that is not DICOM fails as bad-dicom without stopping the others', async () => {
    const good = synthStudy({ key: 'mixed', patientID: 'P4', patientName: 'MIXED^BAG', series: 1, instancesPerSeries: 2 });
    const outcomes = await t.store.storeInstances([good[0]!, Buffer.from('definitely not a DICOM file'), good[1]!]);
    expect(outcomes[0]).toMatchObject({ ok: true, status: 'Success' });
    expect(outcomes[1]).toMatchObject({ ok: false, reason: 'bad-dicom' });
    expect((outcomes[1] as { message: string }).message).toMatch(/DICOM/);
    expect(outcomes[2]).toMatchObject({ ok: true, status: 'Success' });
    expect(t.store.statistics().CountInstances).toBe(2);
  });

  test('an instance without SOP Instance UID fails as missing-uid naming the attribute', async () => {
    const file = synthInstance({
      patientID: 'P5',
      patientName: 'NO^UID',
      studyInstanceUID: synthUid('nouid', 1),
      seriesInstanceUID: synthUid('nouid', 2),
      sopInstanceUID: synthUid('nouid', 3),
      extra: { '00080018': { vr: 'UI', Value: [] } }, // SOPInstanceUID emptied
    });
    const [outcome] = await t.store.storeInstances([file]);
    expect(outcome).toMatchObject({ ok: false, reason: 'missing-uid' });
    expect((outcome as { message: string }).message).toContain('SOPInstanceUID');
    expect(t.store.statistics().CountInstances).toBe(0);
  });

  test('with a study named by the request, instances of another study fail as study-mismatch', async () => {
    const files = synthStudy({ key: 'mismatch', patientID: 'P6', patientName: 'OTHER^STUDY', series: 1, instancesPerSeries: 1 });
    const ct = readFileSync(sample('CT_small.dcm'));
    const outcomes = await t.store.storeInstances([files[0]!, ct], { studyInstanceUID: synthUid('mismatch', 1) });
    expect(outcomes[0]).toMatchObject({ ok: true, status: 'Success' });
    expect(outcomes[1]).toMatchObject({ ok: false, reason: 'study-mismatch', sopInstanceUID: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322' });
    expect(t.store.statistics().CountInstances).toBe(1);
  });

  test('a write that fails gives an io outcome and indexes nothing for it', async () => {
    const files = synthStudy({ key: 'io', patientID: 'P7', patientName: 'IO^FAIL', series: 1, instancesPerSeries: 2 });
    // Replace the temp folder by a file: writing temp files now fails with ENOTDIR.
    const { rmSync, writeFileSync } = await import('node:fs');
    const tmp = join(t.store.storageDirectory, 'tmp');
    rmSync(tmp, { recursive: true });
    writeFileSync(tmp, 'in the way');
    const outcomes = await t.store.storeInstances(files);
    expect(outcomes.map((o) => !o.ok && o.reason)).toEqual(['io', 'io']);
    expect(t.store.statistics().CountInstances).toBe(0);
    rmSync(tmp);
  });

  test('patient, study and series rows take the attributes of the first instance that names them, within a batch and across batches', async () => {
    const spec = (series: number, instance: number, words: string) => ({
      patientID: 'FIRST',
      patientName: `FIRST^${words}`,
      studyInstanceUID: synthUid('first-study', 1),
      studyDescription: `study ${words}`,
      seriesInstanceUID: synthUid('first-series', series),
      seriesDescription: `series ${words}`,
      sopInstanceUID: synthUid('first-instance', series, instance),
      instanceNumber: instance,
      rows: 4,
      columns: 4,
    });
    const ok = (outcomes: Awaited<ReturnType<typeof t.store.storeInstances>>) => expect(outcomes.every((o) => o.ok)).toBe(true);
    ok(await t.store.storeInstances([synthInstance(spec(1, 1, 'ONE')), synthInstance(spec(1, 2, 'TWO')), synthInstance(spec(2, 1, 'THREE'))]));
    ok(await t.store.storeInstances([synthInstance(spec(1, 3, 'FOUR')), synthInstance(spec(3, 1, 'FIVE'))]));
    const search = (level: 'study' | 'series') => [...t.store.search(parseQidoQuery(level, {}).search)];
    const [study] = search('study');
    expect(study!.dataset['00081030']?.Value).toEqual(['study ONE']);
    expect(study!.dataset['00100010']?.Value).toEqual([{ Alphabetic: 'FIRST^ONE' }]);
    expect(study!.dataset['00201208']?.Value).toEqual([5]);
    expect(search('series').map((m) => m.dataset['0008103E']?.Value?.[0]).sort()).toEqual(['series FIVE', 'series ONE', 'series THREE']);
    // Each instance keeps its own full dataset.
    const instances = [...t.store.search(parseQidoQuery('instance', {}).search)];
    expect(instances.map((m) => m.instanceDataset()['0008103E']?.Value?.[0]).sort()).toEqual(['series FIVE', 'series FOUR', 'series ONE', 'series THREE', 'series TWO']);
  });

  test('the index file lives in the index directory when one is given', async () => {
    const { existsSync } = await import('node:fs');
    const { openStore } = await import('../../../main/store/openStore.js');
    const store = openStore({ storageDirectory: join(t.dir, 'files'), indexDirectory: join(t.dir, 'index') });
    try {
      await store.storeInstances([readFileSync(sample('MR_small.dcm'))]);
      expect(existsSync(join(t.dir, 'index', 'index.sqlite'))).toBe(true);
      expect(existsSync(join(t.dir, 'files', 'index.sqlite'))).toBe(false);
      expect(store.statistics().CountInstances).toBe(1);
    } finally {
      store.close();
    }
  });

  test('the index survives closing and opening the store again', async () => {
    const files = synthStudy({ key: 'reopen', patientID: 'P8', patientName: 'RE^OPEN', series: 1, instancesPerSeries: 3 });
    await t.store.storeInstances(files);
    const before = t.store.statistics();
    const store = t.reopen();
    expect(store.statistics()).toEqual(before);
    for (const id of store.listResources('instance')) expect(statSync(store.getInstance(id)!.path).size).toBeGreaterThan(0);
  });
});

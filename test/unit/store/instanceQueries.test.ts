import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset } from '../../../main/dicom/types.js';
import { sample } from '../../support/samples.js';
import { synthStudy, synthUid } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';

let t: TempStore;
beforeEach(() => {
  t = tempStore('store-queries-');
});
afterEach(() => t.cleanup());

/** Deterministic shuffle, so that storage order differs from series/instance order. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const STUDY = synthUid('queries', 1);
const seriesUid = (s: number) => synthUid('queries', 2, s);
const sopUid = (s: number, i: number) => synthUid('queries', 3, s, i);

describe('findInstances, instanceMetadata, getInstance', () => {
  beforeEach(async () => {
    const files = synthStudy({ key: 'queries', patientID: 'Q1', patientName: 'QUERY^ME', series: 3, instancesPerSeries: 30 });
    await t.store.storeInstances(shuffled(files));
  });

  test('instances of a study come ordered by series number then instance number, whatever the storage order', () => {
    const found = t.store.findInstances({ study: STUDY });
    expect(found).toHaveLength(90);
    const expected = [1, 2, 3].flatMap((s) => Array.from({ length: 30 }, (_, i) => sopUid(s, i + 1)));
    expect(found.map((f) => f.sopInstanceUID)).toEqual(expected);
    expect(found.map((f) => f.instanceNumber)).toEqual([1, 2, 3].flatMap(() => Array.from({ length: 30 }, (_, i) => i + 1)));
  });

  test('series and instance selectors narrow the answer; unknown or inconsistent UIDs give []', () => {
    expect(t.store.findInstances({ study: STUDY, series: seriesUid(2) }).map((f) => f.sopInstanceUID)).toEqual(
      Array.from({ length: 30 }, (_, i) => sopUid(2, i + 1)),
    );
    const one = t.store.findInstances({ study: STUDY, series: seriesUid(3), instance: sopUid(3, 7) });
    expect(one.map((f) => f.sopInstanceUID)).toEqual([sopUid(3, 7)]);
    expect(t.store.findInstances({ study: STUDY, instance: sopUid(1, 1) })).toHaveLength(1);
    expect(t.store.findInstances({ study: '1.2.3.4' })).toEqual([]);
    expect(t.store.findInstances({ study: STUDY, series: seriesUid(1), instance: sopUid(3, 7) })).toEqual([]);
    expect(t.store.findInstances({ study: '1.2.3', instance: sopUid(3, 7) })).toEqual([]);
  });

  test('metadata yields each stored dataset in the same order, with bulk data URIs relative to the instance', () => {
    const items = [...t.store.instanceMetadata({ study: STUDY })];
    const found = t.store.findInstances({ study: STUDY });
    expect(items.map((i) => [i.studyInstanceUID, i.seriesInstanceUID, i.sopInstanceUID])).toEqual(
      found.map((f) => [f.studyInstanceUID, f.seriesInstanceUID, f.sopInstanceUID]),
    );
    for (const { studyInstanceUID, seriesInstanceUID, sopInstanceUID, json } of items) {
      const ds = JSON.parse(json) as DicomJsonDataset;
      expect(ds['0020000D']!.Value).toEqual([studyInstanceUID]); // StudyInstanceUID
      expect(ds['0020000E']!.Value).toEqual([seriesInstanceUID]); // SeriesInstanceUID
      expect(ds['00080018']!.Value).toEqual([sopInstanceUID]); // SOPInstanceUID
      expect(ds['7FE00010']!.BulkDataURI).toBe(`${INSTANCE_URL_TOKEN}/bulk/7FE00010`); // PixelData
    }
  });

  test('metadata narrows by series and instance like findInstances; unknown or inconsistent UIDs yield nothing', () => {
    const uids = (selector: Parameters<typeof t.store.findInstances>[0]) => [...t.store.instanceMetadata(selector)].map((i) => i.sopInstanceUID);
    expect(uids({ study: STUDY, series: seriesUid(2) })).toEqual(Array.from({ length: 30 }, (_, i) => sopUid(2, i + 1)));
    expect(uids({ study: STUDY, series: seriesUid(3), instance: sopUid(3, 7) })).toEqual([sopUid(3, 7)]);
    expect(uids({ study: STUDY, instance: sopUid(1, 1) })).toEqual([sopUid(1, 1)]);
    expect(uids({ study: '1.2.3.4' })).toEqual([]);
    expect(uids({ study: STUDY, series: seriesUid(1), instance: sopUid(3, 7) })).toEqual([]);
    expect(uids({ study: '1.2.3', instance: sopUid(3, 7) })).toEqual([]);
  });

  test('instance files give the UIDs, path, size and syntax of findInstances, in the same order and with the same selectors', () => {
    const lean = (selector: Parameters<typeof t.store.findInstances>[0]) =>
      t.store.findInstances(selector).map((f) => ({
        studyInstanceUID: f.studyInstanceUID,
        seriesInstanceUID: f.seriesInstanceUID,
        sopInstanceUID: f.sopInstanceUID,
        transferSyntaxUID: f.transferSyntaxUID,
        path: f.path,
        size: f.size,
      }));
    const files = t.store.instanceFiles({ study: STUDY });
    expect(files).toHaveLength(90);
    expect(files).toEqual(lean({ study: STUDY }));
    for (const file of files) expect(readFileSync(file.path).length).toBe(file.size);
    for (const selector of [
      { study: STUDY, series: seriesUid(2) },
      { study: STUDY, series: seriesUid(3), instance: sopUid(3, 7) },
      { study: STUDY, instance: sopUid(1, 1) },
      { study: STUDY, series: seriesUid(1), instance: sopUid(3, 7) },
      { study: '1.2.3', instance: sopUid(3, 7) },
      { study: '1.2.3.4' },
    ]) {
      expect(t.store.instanceFiles(selector), JSON.stringify(selector)).toEqual(lean(selector));
    }
  });

  test('an instance found by Orthanc ID carries its file, pixel layout and bulk ranges', async () => {
    const bytes = readFileSync(sample('CT_small.dcm'));
    const [outcome] = await t.store.storeInstances([bytes]);
    if (!outcome!.ok) throw new Error(outcome!.message);
    const stored = t.store.getInstance(outcome!.ids.instance)!;
    expect(stored).toMatchObject({
      ids: outcome!.ids,
      sopInstanceUID: '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322',
      transferSyntaxUID: '1.2.840.10008.1.2.1',
      size: bytes.length,
      deflated: false,
      bigEndian: false,
      pixel: { rows: 128, columns: 128, bitsAllocated: 16, numberOfFrames: 1, encapsulated: false },
    });
    const range = stored.pixel!.value!;
    expect(range.offset + range.length).toBeLessThanOrEqual(bytes.length);
    expect(range.length).toBe(128 * 128 * 2);
    expect(stored.bulk['7FE00010']).toEqual(range);
    expect(readFileSync(stored.path).equals(bytes)).toBe(true);
    expect(t.store.getInstance('00000000-00000000-00000000-00000000-00000000')).toBeUndefined();
  });
});

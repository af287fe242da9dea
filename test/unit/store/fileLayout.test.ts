import { afterEach, describe, expect, it } from 'vitest';
import { dirname, relative } from 'node:path';
import { readFileSync } from 'node:fs';
import { synthStudy } from '../../support/synth.js';
import { tempStore, type TempStore } from './tempStore.js';

describe('file layout', () => {
  let t: TempStore;
  afterEach(() => t?.cleanup());

  it('puts the instances of one study in one folder named after the study ID, so a batch fsyncs few folders', async () => {
    t = tempStore();
    const a = synthStudy({ key: 'layout-a', patientID: 'PA', patientName: 'A^A', series: 2, instancesPerSeries: 5 });
    const b = synthStudy({ key: 'layout-b', patientID: 'PB', patientName: 'B^B', series: 1, instancesPerSeries: 5 });
    const outcomes = await t.store.storeInstances([...a, ...b]);
    const folderOf = (i: number) => {
      const o = outcomes[i]!;
      if (!o.ok) throw new Error(o.message);
      const stored = t.store.getInstance(o.ids.instance)!;
      expect(readFileSync(stored.path).equals([...a, ...b][i]!)).toBe(true);
      return { folder: relative(t.store.storageDirectory, dirname(stored.path)), study: o.ids.study };
    };
    const folders = outcomes.map((_, i) => folderOf(i));
    const ofA = new Set(folders.slice(0, 10).map((f) => f.folder));
    const ofB = new Set(folders.slice(10).map((f) => f.folder));
    expect(ofA.size).toBe(1);
    expect(ofB.size).toBe(1);
    const study = folders[0]!.study.replace(/-/g, '');
    expect([...ofA][0]).toBe(`${study.slice(0, 2)}/${study.slice(2, 4)}`);
  });
});

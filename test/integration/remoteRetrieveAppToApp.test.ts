/**
 * Our own headless server as the remote (app to app): engine B retrieves from
 * engine A through POST {Root}servers/a/retrieve — QIDO-RS series listing and
 * WADO-RS with `transfer-syntax=*` served by us, stored by us. Same bytes,
 * same Orthanc IDs on both sides.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JobInfo } from '../../main/jobs/types.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { synthStudy, synthUid } from '../support/synth.js';

const KEY = 'app-to-app';
const studyUID = synthUid(KEY, 1);

describe('retrieve from our own server (app to app)', () => {
  let a: TestEngine;
  let b: TestEngine;
  let ids: string[];

  beforeAll(async () => {
    a = await startTestEngine();
    b = await startTestEngine({ DicomWeb: { Servers: { a: { Url: `${a.dicomWebUrl}/` } } } });
    const outcomes = await a.store.storeInstances(synthStudy({ key: KEY, patientID: 'A2A', patientName: 'APP^TO^APP', series: 3, instancesPerSeries: 4 }));
    ids = outcomes.map((o) => (o.ok ? o.ids.instance : 'failed'));
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  test('a study comes back byte-identical under the same Orthanc IDs, with the QIDO total as progress', async () => {
    const res = await fetch(`${b.dicomWebUrl}/servers/a/retrieve`, { method: 'POST', body: JSON.stringify({ Resources: [{ Study: studyUID }], Synchronous: false }) });
    const { ID } = (await res.json()) as { ID: string };
    const end: JobInfo = await b.jobs.wait(ID);
    expect(end.State).toBe('Success');
    expect(end.Details).toMatchObject({ instancesDone: 12, instancesTotal: 12 });
    const result = end.Result as { Instances: string[]; ReceivedInstancesCount: string };
    expect(result.ReceivedInstancesCount).toBe('12');
    expect([...result.Instances].sort()).toEqual([...ids].sort());
    for (const id of ids) {
      expect(readFileSync(b.store.getInstance(id)!.path).equals(readFileSync(a.store.getInstance(id)!.path))).toBe(true);
    }
  });

  test('retrieving again answers the same IDs: the instances are already stored', async () => {
    const res = await fetch(`${b.dicomWebUrl}/servers/a/retrieve`, { method: 'POST', body: JSON.stringify({ Resources: [{ Study: studyUID }] }) });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { Instances: string[] };
    expect([...answer.Instances].sort()).toEqual([...ids].sort());
    expect(b.store.statistics().CountInstances).toBe(12);
  });
});

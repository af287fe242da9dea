/**
 * POST {Root}servers/{name}/retrieve against a real Orthanc 1.10 + DICOMweb
 * plugin 1.7 holding pydicom's samples (every common transfer syntax) and a
 * synthetic study of three series: study, series and instance retrieves, the
 * seed's curl form, asynchronous jobs. What we store must be byte-identical to
 * what Orthanc holds, under the same Orthanc IDs, and the answer must list them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JobInfo } from '../../main/jobs/types.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { haveOrthanc, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { havePydicomSamples, pydicomSampleFiles } from '../support/samples.js';
import { synthStudy, synthUid } from '../support/synth.js';

const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc()) && havePydicomSamples;
const note = skipNote(ORTHANC_PACKAGES, haveOrthanc()) + skipNote('python3-pydicom', havePydicomSamples);

const KEY = 'retrieve-from-orthanc';
const studyUID = synthUid(KEY, 1);
const seriesUID = (s: number) => synthUid(KEY, 2, s);
const sopUID = (s: number, i: number) => synthUid(KEY, 3, s, i);

interface Retrieved {
  NetworkUsageMB: string;
  ReceivedInstancesCount: string;
  Instances: string[];
  Failures: unknown[];
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

describe.skipIf(!ready)(`Retrieve from a real Orthanc into our store${note}`, () => {
  let orthanc: RunningOrthanc;
  let engine: TestEngine;

  const retrieve = (body: unknown, contentType = 'application/json') =>
    json<Retrieved>(`${engine.dicomWebUrl}/servers/orthanc/retrieve`, { method: 'POST', headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });

  /** Orthanc's instance IDs under a study/series UID (its own REST API). */
  async function orthancInstances(level: 'Study' | 'Series' | 'Instance', uid: string): Promise<string[]> {
    const found = await json<Array<{ ID: string; Type: string }>>(`${orthanc.url}/tools/lookup`, { method: 'POST', body: uid });
    const id = found.find((f) => f.Type === level)!.ID;
    if (level === 'Instance') return [id];
    const path = level === 'Study' ? 'studies' : 'series';
    return (await json<Array<{ ID: string }>>(`${orthanc.url}/${path}/${id}/instances`)).map((i) => i.ID);
  }

  /** Each ID: in our store, byte-identical to Orthanc's file with that ID. */
  async function expectSameFiles(ids: string[]): Promise<void> {
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      const ours = engine.store.getInstance(id);
      expect(ours, `instance ${id} is not in our store`).toBeDefined();
      const theirs = Buffer.from(await (await fetch(`${orthanc.url}/instances/${id}/file`)).arrayBuffer());
      expect(readFileSync(ours!.path).equals(theirs), `instance ${id} differs from Orthanc's file`).toBe(true);
    }
  }

  beforeAll(async () => {
    orthanc = await startOrthanc();
    engine = await startTestEngine({ DicomWeb: { Servers: { orthanc: [`${orthanc.dicomWebUrl}/`] } } });
    const files = [...pydicomSampleFiles().map((f) => readFileSync(f)), ...synthStudy({ key: KEY, patientID: 'RETR1', patientName: 'RETRIEVE^MULTI', series: 3, instancesPerSeries: 5 })];
    for (const body of files) await (await fetch(`${orthanc.url}/instances`, { method: 'POST', body })).arrayBuffer();
  });

  afterAll(async () => {
    await Promise.all([engine?.close(), orthanc?.close()]);
  });

  test("the seed's curl call (a form-encoded JSON body, no Synchronous) retrieves a study and answers our Orthanc IDs, which are Orthanc's", async () => {
    const answer = await retrieve({ Resources: [{ Study: studyUID }] }, 'application/x-www-form-urlencoded');
    expect(answer.ReceivedInstancesCount).toBe('15');
    expect(answer.Failures).toEqual([]);
    expect([...answer.Instances].sort()).toEqual((await orthancInstances('Study', studyUID)).sort());
    await expectSameFiles(answer.Instances);
    expect(engine.store.findInstances({ study: studyUID })).toHaveLength(15);
  });

  test('a series and an instance are retrieved alone', async () => {
    for (const id of engine.store.findInstances({ study: studyUID }).map((i) => i.ids.study).slice(0, 1)) engine.store.deleteResource('study', id);
    const answer = await retrieve({ Resources: [{ Study: studyUID, Series: seriesUID(2) }, { Study: studyUID, Series: seriesUID(3), Instance: sopUID(3, 4) }] });
    const expected = [...(await orthancInstances('Series', seriesUID(2))), ...(await orthancInstances('Instance', sopUID(3, 4)))];
    expect([...answer.Instances].sort()).toEqual(expected.sort());
    await expectSameFiles(answer.Instances);
    const held = engine.store.findInstances({ study: studyUID }).map((i) => i.sopInstanceUID);
    expect(held.sort()).toEqual([1, 2, 3, 4, 5].map((i) => sopUID(2, i)).concat(sopUID(3, 4)).sort());
  });

  test('every study Orthanc holds (pydicom samples: every transfer syntax) comes back byte-identical in one retrieve', async () => {
    const studies = await json<Array<{ MainDicomTags: { StudyInstanceUID: string } }>>(`${orthanc.url}/studies?expand`);
    const count = new Map<string, number>();
    for (const s of studies) count.set(s.MainDicomTags.StudyInstanceUID, (count.get(s.MainDicomTags.StudyInstanceUID) ?? 0) + 1);
    // Orthanc 1.10 indexes badVR.dcm's study twice and then cannot serve it by UID (orthancInterop.test.ts): left out.
    const uids = [...count].filter(([, n]) => n === 1).map(([uid]) => uid);
    expect(uids.length).toBeGreaterThan(15);
    const answer = await retrieve({ Resources: uids.map((Study) => ({ Study })) });
    const theirs = (await Promise.all(uids.map((uid) => orthancInstances('Study', uid)))).flat();
    expect(answer.Failures).toEqual([]);
    expect([...answer.Instances].sort()).toEqual([...theirs].sort());
    await expectSameFiles(answer.Instances);
  });

  test('an asynchronous retrieve answers { ID, Path } and its job reports progress against the QIDO total', async () => {
    for (const id of new Set(engine.store.findInstances({ study: studyUID }).map((i) => i.ids.study))) engine.store.deleteResource('study', id);
    const started = await json<{ ID: string; Path: string }>(`${engine.dicomWebUrl}/servers/orthanc/retrieve`, {
      method: 'POST',
      body: JSON.stringify({ Resources: [{ Study: studyUID }], Synchronous: false }),
    });
    expect(started.Path).toBe(`/jobs/${started.ID}`);
    let info: JobInfo;
    for (let i = 0; ; i++) {
      info = await json<JobInfo>(`${engine.url}${started.Path}`);
      if (info.State !== 'Pending' && info.State !== 'Running') break;
      if (i > 500) throw new Error(`job still ${info.State}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(info).toMatchObject({ Type: 'DicomWebRetrieve', State: 'Success', Progress: 100, ErrorCode: 0, Content: { Server: 'orthanc', Resources: [{ Study: studyUID }] } });
    expect(info.Details).toMatchObject({ instancesDone: 15, instancesTotal: 15 });
    expect(info.Details.bytesDone).toBeGreaterThan(0);
    const result = info.Result as Retrieved;
    expect([...result.Instances].sort()).toEqual((await orthancInstances('Study', studyUID)).sort());
    await expectSameFiles(result.Instances);
    expect(await json<string[]>(`${engine.url}/jobs`)).toContain(started.ID);
  });
});

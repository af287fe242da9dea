/**
 * The store against a real Orthanc 1.10 (+ DICOMweb plugin) given the same
 * files in the same order: same Orthanc identifiers, same resource tree, same
 * main DICOM tags at every level, and the same studies found by QIDO-RS
 * queries whose semantics both servers share.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Level, OrthancResource } from '../../main/store/types.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { haveOrthanc, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { havePydicomSamples, pydicomSampleFiles } from '../support/samples.js';

/**
 * Samples where Orthanc 1.10 is knowingly not followed:
 * - J2K_pixelrep_mismatch.dcm (ISO_IR 13): Orthanc shows the value separator '\' as '¥';
 * - chrH32.dcm (ISO 2022 IR 13/87): Orthanc 1.10 leaves the kanji groups of PatientName undecoded;
 * - rtdose_rle*.dcm: PatientID written with VR UN; Orthanc keeps the padding space
 *   ("id11111 ", hence other Orthanc IDs), the parser reads it as LO (CP-246) without it.
 */
const NOT_FOLLOWED = new Set(['J2K_pixelrep_mismatch.dcm', 'chrH32.dcm', 'rtdose_rle.dcm', 'rtdose_rle_1frame.dcm']);

const LEVELS: Array<[Level, string]> = [
  ['patient', 'patients'],
  ['study', 'studies'],
  ['series', 'series'],
  ['instance', 'instances'],
];

const enabled = haveOrthanc() && havePydicomSamples;

let orthanc: RunningOrthanc;
let engine: TestEngine;
const accepted: Array<{ name: string; orthanc: { ID: string; Status: string }; ours: Awaited<ReturnType<TestEngine['store']['storeInstances']>>[number] }> = [];

beforeAll(async () => {
  if (!enabled) return;
  [orthanc, engine] = await Promise.all([startOrthanc(), startTestEngine()]);
  for (const path of pydicomSampleFiles()) {
    const name = basename(path);
    if (NOT_FOLLOWED.has(name)) continue;
    const bytes = readFileSync(path);
    const res = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: bytes });
    if (!res.ok) continue; // Orthanc refuses it: not stored on either side, so later files meet the same state
    const [ours] = await engine.store.storeInstances([bytes]);
    accepted.push({ name, orthanc: (await res.json()) as { ID: string; Status: string }, ours: ours! });
  }
}, 120_000);
afterAll(async () => {
  await Promise.all([orthanc?.close(), engine?.close()]);
});

async function orthancGet<T>(path: string): Promise<T> {
  const res = await fetch(`${orthanc.url}${path}`);
  if (!res.ok) throw new Error(`Orthanc GET ${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe.skipIf(!enabled)('store and a real Orthanc given the same files', () => {
  test('every file Orthanc takes is stored with the same Orthanc ID and the same status', () => {
    expect(accepted.length).toBeGreaterThan(40);
    for (const { name, orthanc: theirs, ours } of accepted) {
      expect(ours.ok, `${name}: ${JSON.stringify(ours)}`).toBe(true);
      if (!ours.ok) continue;
      expect(ours.ids.instance, name).toBe(theirs.ID);
      expect(ours.status, name).toBe(theirs.Status);
    }
  });

  test('the same resources exist at every level, with the same parents, children and main DICOM tags', async () => {
    for (const [level, path] of LEVELS) {
      const theirIds = await orthancGet<string[]>(`/${path}`);
      expect([...engine.store.listResources(level)].sort(), `${path} list`).toEqual([...theirIds].sort());
      for (const id of theirIds) {
        const theirs = await orthancGet<OrthancResource & Record<string, unknown>>(`/${path}/${id}`);
        const ours = engine.store.getResource(level, id)!;
        const where = `${path}/${id}`;
        expect(ours.Type, where).toBe(theirs.Type);
        expect(ours.MainDicomTags, `${where} MainDicomTags`).toEqual(theirs.MainDicomTags);
        if (level === 'study') expect(ours.PatientMainDicomTags, `${where} PatientMainDicomTags`).toEqual(theirs.PatientMainDicomTags);
        for (const key of ['ParentPatient', 'ParentStudy', 'ParentSeries', 'FileSize', 'IndexInSeries'] as const) {
          if (key in theirs) expect(ours[key], `${where} ${key}`).toEqual(theirs[key]);
        }
        for (const key of ['Studies', 'Series', 'Instances'] as const) {
          if (key in theirs) expect([...(ours[key] ?? [])].sort(), `${where} ${key}`).toEqual([...(theirs[key] as string[])].sort());
        }
      }
    }
  });

  test('statistics count the same resources', async () => {
    const theirs = await orthancGet<Record<string, unknown>>('/statistics');
    expect(engine.store.statistics()).toMatchObject({
      CountPatients: theirs.CountPatients,
      CountStudies: theirs.CountStudies,
      CountSeries: theirs.CountSeries,
      CountInstances: theirs.CountInstances,
    });
  });

  // Orthanc does not percent-decode QIDO values: these queries need no encoding.
  // Deliberate differences, left out: Orthanc lets an empty date match an open range
  // (StudyDate=-20000101 finds studies without date) and lets '*' skip resources
  // without the attribute; here empty dates match no range and '*' is universal
  // matching (PS3.4 C.2.2.2.4).
  test.each([
    'studies',
    'studies?PatientName=compressedsamples*',
    'studies?PatientName=*^*',
    'studies?PatientID=1ct1',
    'studies?StudyDate=20040101-20041231',
    'studies?StudyDate=19900101-20031231',
    'studies?StudyTime=1800-1900',
    'studies?ModalitiesInStudy=MR',
    'studies?ModalitiesInStudy=ct',
    'studies?StudyDescription=*bone*',
    'studies?AccessionNumber=',
    'series?Modality=CT',
    'series?SeriesDescription=*a*',
    'instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.2',
  ])('QIDO-RS %s finds the same resources', async (query) => {
    const key = query.startsWith('studies') ? '0020000D' : query.startsWith('series') ? '0020000E' : '00080018';
    const uidsOf = (list: Array<Record<string, { Value?: unknown[] }>>) => list.map((d) => String(d[key]?.Value?.[0])).sort();
    const [theirs, ours] = await Promise.all(
      [orthanc.dicomWebUrl, engine.dicomWebUrl].map(async (base) => {
        const res = await fetch(`${base}/${query}`, { headers: { Accept: 'application/dicom+json' } });
        expect(res.status, `${base}/${query}`).toBe(200);
        return uidsOf((await res.json()) as Array<Record<string, { Value?: unknown[] }>>);
      }),
    );
    expect(ours.length, 'the query finds something').toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });
});

import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseMediaType } from '../../main/dicomweb/mediaType.js';
import { readMultipart } from '../../main/dicomweb/multipart.js';
import { CHUNK_BYTES } from '../../main/dicomweb/utf8Chunks.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { synthInstance, synthUid } from '../support/synth.js';
import { CHR_H31_STUDY, catalogueFiles, seriesUidOf, sopUidOf, studyUidOf } from '../unit/store/searchFixtures.js';

type Dataset = Record<string, { vr: string; Value?: unknown[] }>;

let engine: TestEngine;
beforeAll(async () => {
  engine = await startTestEngine();
  const outcomes = await engine.store.storeInstances(catalogueFiles());
  if (!outcomes.every((o) => o.ok)) throw new Error('catalogue not stored');
});
afterAll(() => engine?.close());

async function qido(path: string, accept?: string): Promise<{ status: number; type: string; body: string; json: any }> {
  const res = await fetch(`${engine.dicomWebUrl}/${path}`, { headers: accept ? { Accept: accept } : {} });
  const body = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, body, json: type.includes('json') && body ? JSON.parse(body) : undefined };
}

const uidsOf = (list: Dataset[], tag = '0020000D') => list.map((d) => d[tag]!.Value![0]);

describe('QIDO-RS over HTTP', () => {
  test('searchForStudies answers DICOM JSON with the attributes PS3.18 requires for studies', async () => {
    const { status, type, json } = await qido(`studies?StudyInstanceUID=${studyUidOf('vanderberg')}`);
    expect(status).toBe(200);
    expect(type).toMatch(/^application\/dicom\+json/);
    expect(json).toHaveLength(1);
    const study = json[0] as Dataset;
    const uid = studyUidOf('vanderberg');
    expect(study).toMatchObject({
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] }, // SpecificCharacterSet
      '00080020': { vr: 'DA', Value: ['20231231'] }, // StudyDate
      '00080030': { vr: 'TM', Value: ['235959'] }, // StudyTime
      '00080050': { vr: 'SH', Value: ['A3'] }, // AccessionNumber
      '00080056': { vr: 'CS', Value: ['ONLINE'] }, // InstanceAvailability
      '00080061': { vr: 'CS', Value: ['CT', 'MR'] }, // ModalitiesInStudy
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'REFERRER^DOCTOR' }] }, // ReferringPhysicianName
      '00081030': { vr: 'LO', Value: ['Abdomen'] }, // StudyDescription
      '00081190': { vr: 'UR', Value: [`${engine.dicomWebUrl}/studies/${uid}`] }, // RetrieveURL
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'VAN DER BERG^ANNA' }] }, // PatientName
      '00100020': { vr: 'LO', Value: ['V1'] }, // PatientID
      '00100030': { vr: 'DA', Value: ['19700101'] }, // PatientBirthDate
      '00100040': { vr: 'CS', Value: ['O'] }, // PatientSex
      '0020000D': { vr: 'UI', Value: [uid] }, // StudyInstanceUID
      '00200010': { vr: 'SH', Value: ['S1'] }, // StudyID
      '00201206': { vr: 'IS', Value: [2] }, // NumberOfStudyRelatedSeries
      '00201208': { vr: 'IS', Value: [4] }, // NumberOfStudyRelatedInstances
    });
    expect(Object.keys(study)).toEqual(Object.keys(study).sort());
    expect(study['00080080']).toBeUndefined(); // InstitutionName: not asked for
  });

  test('an attribute the study lacks is present and empty (Type 2)', async () => {
    const { json } = await qido(`studies?StudyInstanceUID=${CHR_H31_STUDY}`);
    expect(json[0]['00080020']).toEqual({ vr: 'DA' }); // StudyDate is empty in chrH31
    expect(json[0]['00100010'].Value[0]).toEqual({ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' });
  });

  test('percent-encoded values are decoded: PatientName=DOE%5E* finds DOE^JANE^^', async () => {
    const { json } = await qido('studies?PatientName=DOE%5E*');
    expect(uidsOf(json)).toEqual([studyUidOf('doe')]);
    const spaced = await qido('studies?PatientName=van%20der%20berg%5Eanna');
    expect(uidsOf(spaced.json)).toEqual([studyUidOf('vanderberg')]);
  });

  test('match keys and includefield attributes are returned, from the study or its first instance', async () => {
    const { json } = await qido('studies?InstitutionName=City*&includefield=00080070,ProtocolName&includefield=OperatorsName');
    expect(uidsOf(json)).toEqual([studyUidOf('smithson')]);
    expect(json[0]['00080080']).toEqual({ vr: 'LO', Value: ['City Clinic'] }); // InstitutionName (match key)
    expect(json[0]['00080070']).toEqual({ vr: 'LO' }); // Manufacturer: absent, returned empty
    expect(json[0]['00181030']).toEqual({ vr: 'LO' }); // ProtocolName: absent
    const smith = await qido(`studies?PatientID=S1&includefield=ProtocolName,ImageComments`);
    expect(smith.json[0]['00181030']).toEqual({ vr: 'LO', Value: ['HEAD_ROUTINE'] });
    expect(smith.json[0]['00204000']).toEqual({ vr: 'LT', Value: ['image 1 of smith'] });
  });

  test('includefield=all returns every attribute kept for the study', async () => {
    const { json } = await qido('studies?PatientID=S1&includefield=all');
    expect(json[0]['00080080']).toEqual({ vr: 'LO', Value: ['General Hospital'] }); // InstitutionName
    expect(json[0]['00100020']).toEqual({ vr: 'LO', Value: ['S1'] });
  });

  test('limit and offset page through studies in StudyDate order, newest first', async () => {
    const all = uidsOf((await qido('studies')).json);
    expect(all).toHaveLength(6);
    expect(uidsOf((await qido('studies?limit=2&offset=1')).json)).toEqual(all.slice(1, 3));
    expect(uidsOf((await qido('studies?offset=5')).json)).toEqual(all.slice(5));
  });

  test('no match is 200 with an empty array', async () => {
    const res = await qido('studies?PatientName=NOBODY');
    expect(res.status).toBe(200);
    expect(res.json).toEqual([]);
  });

  test('bad parameters are 400 with a message naming them', async () => {
    const fuzzy = await qido('studies?fuzzymatching=maybe');
    expect(fuzzy.status).toBe(400);
    expect(fuzzy.json.Message).toBe('Not a proper value for fuzzy matching (true or false): maybe');
    const limit = await qido('studies?limit=abc');
    expect(limit.status).toBe(400);
    expect(limit.json.Message).toBe("QIDO parameter 'limit' must be a non-negative integer, got 'abc'");
    const unknown = await qido('studies?NotAnAttribute=1');
    expect(unknown.status).toBe(400);
    expect(unknown.json.Message).toMatch(/'NotAnAttribute' is not a DICOM attribute/);
    const date = await qido('studies?StudyDate=yesterday');
    expect(date.status).toBe(400);
    expect(date.json.Message).toMatch(/StudyDate/);
    const path = await qido('studies/not-a-uid/series');
    expect(path.status).toBe(400);
    expect(path.json.Message).toMatch(/StudyInstanceUID in the URL must be a DICOM UID/);
  });

  test('application/json is answered as such; a media type it cannot produce is 406', async () => {
    const json = await qido('studies?PatientID=S1', 'application/json');
    expect(json.type).toMatch(/^application\/json/);
    expect(uidsOf(json.json)).toEqual([studyUidOf('smith')]);
    expect((await qido('studies', '*/*')).type).toMatch(/^application\/dicom\+json/);
    const refused = await qido('studies', 'image/png');
    expect(refused.status).toBe(406);
  });

  test('multipart/related; type="application/dicom+xml" answers one PS3.19 document per match', async () => {
    const res = await fetch(`${engine.dicomWebUrl}/studies?ModalitiesInStudy=MR`, {
      headers: { Accept: 'multipart/related; type="application/dicom+xml"' },
    });
    expect(res.status).toBe(200);
    const { mediaType, params } = parseMediaType(res.headers.get('content-type')!);
    expect(mediaType).toBe('multipart/related');
    expect(params.type).toBe('application/dicom+xml');
    const parts = [];
    for await (const part of readMultipart(Readable.from([Buffer.from(await res.arrayBuffer())]), params.boundary!)) parts.push(part);
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.headers['content-type']).toMatch(/^application\/dicom\+xml/);
    const xml = parts.map((p) => p.body.toString('utf8'));
    expect(xml[0]).toContain('<NativeDicomModel');
    expect(xml[0]).toContain(`<Value number="1">${studyUidOf('smithson')}</Value>`);
    expect(xml[1]).toContain(`<Value number="1">${studyUidOf('vanderberg')}</Value>`);
  });

  test('searchForSeries in a study answers series attributes only; across studies, with the study attributes', async () => {
    const uid = studyUidOf('vanderberg');
    const { json } = await qido(`studies/${uid}/series`);
    expect(uidsOf(json, '0020000E')).toEqual([seriesUidOf('vanderberg', 1), seriesUidOf('vanderberg', 2)]);
    expect(json[1]).toMatchObject({
      '00080060': { vr: 'CS', Value: ['MR'] }, // Modality
      '0008103E': { vr: 'LO', Value: ['MR series'] }, // SeriesDescription
      '00200011': { vr: 'IS', Value: [2] }, // SeriesNumber
      '00201209': { vr: 'IS', Value: [2] }, // NumberOfSeriesRelatedInstances
      '0020000D': { vr: 'UI', Value: [uid] },
      '00081190': { vr: 'UR', Value: [`${engine.dicomWebUrl}/studies/${uid}/series/${seriesUidOf('vanderberg', 2)}`] },
    });
    expect(json[1]['00100010']).toBeUndefined(); // PatientName: the URL fixes the study
    const all = await qido('series?Modality=MR');
    expect(uidsOf(all.json, '0020000E')).toEqual([seriesUidOf('smithson', 1), seriesUidOf('vanderberg', 2)]);
    expect(all.json[0]['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'SMITHSON^ANNA' }] });
  });

  test('searchForInstances answers instance attributes, plus series and study ones when the URL does not fix them', async () => {
    const study = studyUidOf('smith');
    const series = seriesUidOf('smith', 1);
    const inSeries = await qido(`studies/${study}/series/${series}/instances`);
    expect(uidsOf(inSeries.json, '00080018')).toEqual([1, 2, 3].map((i) => sopUidOf('smith', 1, i)));
    expect(inSeries.json[0]).toMatchObject({
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, // SOPClassUID
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00200013': { vr: 'IS', Value: [1] }, // InstanceNumber
      '00280010': { vr: 'US', Value: [33] }, // Rows
      '00280011': { vr: 'US', Value: [32] }, // Columns
      '00280100': { vr: 'US', Value: [16] }, // BitsAllocated
      '00081190': { vr: 'UR', Value: [`${engine.dicomWebUrl}/studies/${study}/series/${series}/instances/${sopUidOf('smith', 1, 1)}`] },
    });
    expect(inSeries.json[0]['00080060']).toBeUndefined(); // Modality: the URL fixes the series
    const inStudy = await qido(`studies/${study}/instances?InstanceNumber=2`);
    expect(inStudy.json[0]['00080060']).toEqual({ vr: 'CS', Value: ['CT'] });
    expect(inStudy.json[0]['00100010']).toBeUndefined();
    const all = await qido(`instances?SOPInstanceUID=${sopUidOf('doe', 1, 1)}`);
    expect(all.json[0]['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'DOE^JANE^^' }] });
    const withAll = await qido(`instances?SOPInstanceUID=${sopUidOf('doe', 1, 1)}&includefield=all`);
    expect(withAll.json[0]['7FE00010'].BulkDataURI).toBe(`${engine.dicomWebUrl}/studies/${studyUidOf('doe')}/series/${seriesUidOf('doe', 1)}/instances/${sopUidOf('doe', 1, 1)}/bulk/7FE00010`);
  });
});

describe('QIDO-RS over many studies', () => {
  // Speed is measured by `npm run bench:server` against Orthanc, not asserted here.
  test('a PatientName wildcard search over 200 studies finds exactly the matching half, case-insensitively', async () => {
    const files: Buffer[] = [];
    for (let k = 0; k < 200; k++) {
      files.push(
        synthInstance({
          patientID: `SPEED${k}`,
          patientName: `${k % 2 ? 'FAST' : 'SLOW'}^PATIENT${k}`,
          studyInstanceUID: synthUid('speed', k, 1),
          seriesInstanceUID: synthUid('speed', k, 2),
          sopInstanceUID: synthUid('speed', k, 3),
          studyDate: `2023${String((k % 12) + 1).padStart(2, '0')}15`,
        }),
      );
    }
    expect((await engine.store.storeInstances(files)).every((o) => o.ok)).toBe(true);
    const { json } = await qido('studies?PatientName=fast*');
    expect(json).toHaveLength(100);
    expect(json.every((d: any) => d['00100010'].Value[0].Alphabetic.startsWith('FAST^'))).toBe(true);
  });

  test('a small answer goes in one piece with its Content-Length; one larger than a chunk is streamed and whole', async () => {
    const small = await fetch(`${engine.dicomWebUrl}/studies?PatientName=fast*&limit=3`);
    const smallBody = Buffer.from(await small.arrayBuffer());
    expect(small.headers.get('content-length')).toBe(String(smallBody.length));
    expect(small.headers.get('transfer-encoding')).toBeNull();
    expect(JSON.parse(smallBody.toString('utf8'))).toHaveLength(3);

    const studies = (await qido('studies')).json as Dataset[];
    const instanceCount = studies.reduce((n, d) => n + Number(d['00201208']!.Value![0]), 0);
    // Every instance, with the study and series attributes: several chunks of CHUNK_BYTES.
    for (const path of ['instances', 'instances?includefield=all']) {
      const big = await fetch(`${engine.dicomWebUrl}/${path}`);
      const body = Buffer.from(await big.arrayBuffer());
      expect(body.length).toBeGreaterThan(CHUNK_BYTES);
      expect(big.headers.get('transfer-encoding')).toBe('chunked');
      const list = JSON.parse(body.toString('utf8')) as Dataset[];
      expect(list.length).toBe(instanceCount);
      expect(new Set(uidsOf(list, '00080018')).size).toBe(list.length);
      // Non-ASCII names (the catalogue's character-set studies) come through as UTF-8.
      expect(body.toString('utf8')).toContain('山田');
    }
  });
});

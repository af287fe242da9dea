/**
 * The Orthanc REST subset (main/orthanc/) over real HTTP against a real store:
 * upload, list, read, download, delete, system, statistics; bad identifiers.
 * Oracle for Orthanc identifiers: pydicom reads the UIDs, SHA-1 as Orthanc does.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { synthStudy } from '../support/synth.js';
import { peerAvailable, skipNote } from '../support/peers.js';

const ready = peerAvailable('python3-pydicom', havePydicomSamples);

/** Orthanc's identifier: SHA-1 of the '|'-joined keys, as 5 groups of 8 hex digits. */
function orthancId(...keys: string[]): string {
  const hex = createHash('sha1').update(keys.join('|')).digest('hex');
  return hex.match(/.{8}/g)!.join('-');
}

/** PatientID and UIDs of a file, read by pydicom (independent of our parser). */
function uidsOf(path: string): { patientID: string; study: string; series: string; sop: string } {
  const out = execFileSync('/usr/bin/python3', [
    '-c',
    'import sys,json,pydicom; d=pydicom.dcmread(sys.argv[1]); print(json.dumps([str(d.get("PatientID","")), d.StudyInstanceUID, d.SeriesInstanceUID, d.SOPInstanceUID]))',
    path,
  ]);
  const [patientID, study, series, sop] = JSON.parse(out.toString()) as string[];
  return { patientID, study, series, sop };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
  json(): any;
}

/** Raw HTTP, so that paths are sent exactly as written (no URL normalisation). */
function send(base: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, json: () => JSON.parse(bytes.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.skipIf(!ready)(`Orthanc REST subset${skipNote('python3-pydicom', havePydicomSamples)}`, () => {
  let engine: TestEngine;
  const ct = sample('CT_small.dcm');
  const mr = sample('MR_small.dcm');
  const synth = synthStudy({ key: 'orthanc-rest', patientID: 'REST1', patientName: 'REST^ONE', series: 1, instancesPerSeries: 2 });

  const get = (path: string) => send(engine.url, 'GET', path);
  const post = (path: string, body: Buffer | string, type = 'application/dicom') => send(engine.url, 'POST', path, body, { 'content-type': type });
  const del = (path: string) => send(engine.url, 'DELETE', path);
  const stillServing = async () => expect((await get('/system')).status).toBe(200);

  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('POST /instances stores a file and answers its Orthanc identifiers, then AlreadyStored', async () => {
    const u = uidsOf(ct);
    const expected = {
      ID: orthancId(u.patientID, u.study, u.series, u.sop),
      ParentPatient: orthancId(u.patientID),
      ParentSeries: orthancId(u.patientID, u.study, u.series),
      ParentStudy: orthancId(u.patientID, u.study),
      Path: `/instances/${orthancId(u.patientID, u.study, u.series, u.sop)}`,
    };
    const first = await post('/instances', readFileSync(ct));
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ ...expected, Status: 'Success' });
    const again = await post('/instances', readFileSync(ct), 'application/octet-stream');
    expect(again.status).toBe(200);
    expect(again.json()).toEqual({ ...expected, Status: 'AlreadyStored' });
  });

  it('POST /instances takes a body without Content-Type', async () => {
    const answer = await send(engine.url, 'POST', '/instances', readFileSync(mr));
    expect(answer.status).toBe(200);
    expect(answer.json().Status).toBe('Success');
  });

  it('POST /instances refuses bytes that are not DICOM with 400 and the reason', async () => {
    const answer = await post('/instances', Buffer.from('this is not a DICOM file at all, just some text'.repeat(5)));
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ HttpStatus: 400, ErrorKind: 'bad-dicom', Method: 'POST', Uri: '/instances' });
    expect(answer.json().Message).toMatch(/^POST \/instances: .+/);
    await stillServing();
  });

  it('POST /instances refuses an empty body (400) and a JSON body (415)', async () => {
    const empty = await post('/instances', Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const json = await post('/instances', '{"Path": "/etc/passwd"}', 'application/json');
    expect(json.status).toBe(415);
    expect(json.json().Message).toContain('application/json is not accepted');
    await stillServing();
  });

  it('GET /{level} lists identifiers; expand gives resources; limit and since page them', async () => {
    for (const file of synth) expect((await post('/instances', file)).status).toBe(200);
    const patients = (await get('/patients')).json() as string[];
    const studies = (await get('/studies')).json() as string[];
    const series = (await get('/series')).json() as string[];
    const instances = (await get('/instances')).json() as string[];
    expect(patients).toHaveLength(3);
    expect(studies).toHaveLength(3);
    expect(series).toHaveLength(3);
    expect(instances).toHaveLength(4);
    expect(patients).toContain(orthancId('REST1'));

    const expanded = (await get('/studies?expand')).json() as Array<Record<string, unknown>>;
    expect(expanded.map((s) => s.ID)).toEqual(studies);
    expect(expanded.every((s) => s.Type === 'Study' && typeof s.MainDicomTags === 'object')).toBe(true);

    expect((await get('/instances?limit=2')).json()).toEqual(instances.slice(0, 2));
    expect((await get('/instances?limit=2&since=2')).json()).toEqual(instances.slice(2, 4));
    expect((await get('/instances?since=3')).json()).toEqual(instances.slice(3));
  });

  it('GET /{level} refuses a limit or since that is not a non-negative integer', async () => {
    for (const q of ['limit=abc', 'limit=-1', 'since=1.5', 'limit=1&limit=2']) {
      const answer = await get(`/instances?${q}`);
      expect(answer.status, q).toBe(400);
      expect(answer.json().Message).toMatch(/parameter '(limit|since)' must be a non-negative integer/);
    }
  });

  it('GET /{level}/{id} answers the resource in Orthanc shape', async () => {
    const u = uidsOf(ct);
    const study = (await get(`/studies/${orthancId(u.patientID, u.study)}`)).json();
    expect(study).toMatchObject({ ID: orthancId(u.patientID, u.study), Type: 'Study', ParentPatient: orthancId(u.patientID) });
    expect(study.MainDicomTags.StudyInstanceUID).toBe(u.study);
    expect(study.Series).toEqual([orthancId(u.patientID, u.study, u.series)]);
    const instance = (await get(`/instances/${orthancId(u.patientID, u.study, u.series, u.sop)}`)).json();
    expect(instance).toMatchObject({ Type: 'Instance', ParentSeries: orthancId(u.patientID, u.study, u.series), FileSize: statSync(ct).size });
    expect(instance.MainDicomTags.SOPInstanceUID).toBe(u.sop);
  });

  it('GET /instances/{id}/file streams the stored bytes unchanged as application/dicom', async () => {
    const u = uidsOf(ct);
    const answer = await get(`/instances/${orthancId(u.patientID, u.study, u.series, u.sop)}/file`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/dicom');
    expect(Number(answer.headers['content-length'])).toBe(statSync(ct).size);
    expect(answer.bytes.equals(readFileSync(ct))).toBe(true);
  });

  it('GET /system answers the useful keys of Orthanc 1.10', async () => {
    const system = (await get('/system')).json();
    expect(system).toMatchObject({
      Name: 'Test engine',
      ApiVersion: 16,
      Version: '1.10.1',
      DatabaseBackendPlugin: null,
      StorageAreaPlugin: null,
      IsHttpServerSecure: true,
      PluginsEnabled: true,
      DicomWebPlugin: { Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado' },
    });
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(system.Workstation).toEqual({ Name: 'dicomweb-workstation', Version: pkg.version });
    expect((await get('/plugins')).json()).toEqual(['dicom-web']);
  });

  it('GET /statistics counts resources and bytes, sizes as strings like Orthanc', async () => {
    const stats = (await get('/statistics')).json();
    const total = statSync(ct).size + statSync(mr).size + synth.reduce((n, b) => n + b.length, 0);
    expect(stats).toEqual({
      CountPatients: 3,
      CountStudies: 3,
      CountSeries: 3,
      CountInstances: 4,
      TotalDiskSize: String(total),
      TotalDiskSizeMB: Math.floor(total / 1024 / 1024),
      TotalUncompressedSize: String(total),
      TotalUncompressedSizeMB: Math.floor(total / 1024 / 1024),
    });
  });

  it('DELETE /instances/{id} removes it and answers the remaining series; its file is gone', async () => {
    const instances = (await get('/instances?expand')).json() as Array<{ ID: string; ParentSeries: string }>;
    const bySeries = new Map<string, string[]>();
    for (const i of instances) bySeries.set(i.ParentSeries, [...(bySeries.get(i.ParentSeries) ?? []), i.ID]);
    const [series, ids] = [...bySeries].find(([, v]) => v.length === 2)!;
    const path = engine.store.getInstance(ids[0])!.path;
    expect(existsSync(path)).toBe(true);

    const answer = await del(`/instances/${ids[0]}`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ RemainingAncestor: { Type: 'Series', ID: series, Path: `/series/${series}` } });
    expect(existsSync(path)).toBe(false);
    expect((await get(`/instances/${ids[0]}`)).status).toBe(404);
    expect((await get(`/series/${series}`)).json().Instances).toEqual([ids[1]]);
  });

  it('DELETE /patients/{id} removes the whole patient: RemainingAncestor null', async () => {
    const id = orthancId('REST1');
    const answer = await del(`/patients/${id}`);
    expect(answer.json()).toEqual({ RemainingAncestor: null });
    expect((await get(`/patients/${id}`)).status).toBe(404);
    expect((await get('/patients')).json()).not.toContain(id);
  });

  it('answers 404 for well-formed identifiers that are unknown, at every level and route', async () => {
    const unknown = orthancId('no such patient');
    for (const [method, path] of [
      ['GET', `/patients/${unknown}`],
      ['GET', `/studies/${unknown}`],
      ['GET', `/series/${unknown}`],
      ['GET', `/instances/${unknown}`],
      ['GET', `/instances/${unknown}/file`],
      ['DELETE', `/studies/${unknown}`],
      ['DELETE', `/instances/${unknown}`],
    ]) {
      const answer = await send(engine.url, method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json()).toMatchObject({ ErrorKind: 'not-found', Method: method });
    }
    await stillServing();
  });

  it('refuses malformed identifiers and path traversal with 400 or 404, and keeps serving', async () => {
    const cases: Array<[string, number]> = [
      ['/instances/abc', 400],
      ['/instances/abc/file', 400],
      ['/studies/F689DDD2-662F8FE1-8B18180D-EC2A2CEE-937917AF', 400],
      ['/instances/..%2F..%2Fetc%2Fpasswd/file', 400],
      ['/instances/%2e%2e%2f%2e%2e%2fetc%2fpasswd/file', 400],
      ['/instances/%2e%2e/file', 400],
      ['/instances/../../etc/passwd', 404],
      ['/instances/../../../../etc/passwd/file', 404],
      ['/patients/%00', 400],
    ];
    for (const [path, status] of cases) {
      const answer = await get(path);
      expect(answer.status, path).toBe(status);
      expect(answer.bytes.toString()).not.toContain('root:');
      await stillServing();
    }
    const del400 = await del('/series/..%2f..%2f');
    expect(del400.status).toBe(400);
    expect(del400.json().Message).toContain('series identifier must be an Orthanc identifier');
  });

  it('answers oversized headers with 431 and keeps serving', async () => {
    const answer = await send(engine.url, 'GET', '/system', undefined, { 'x-padding': 'x'.repeat(32 * 1024) });
    expect(answer.status).toBe(431);
    await stillServing();
  });
});

describe('the engine with AuthenticationEnabled', () => {
  it('asks for credentials on every route (REST, DICOMweb, WADO-URI) and serves with the right ones', async () => {
    const engine = await startTestEngine({ AuthenticationEnabled: true, RegisteredUsers: { reader: 'correct horse' } });
    try {
      const good = { authorization: `Basic ${Buffer.from('reader:correct horse').toString('base64')}` };
      const bad = { authorization: `Basic ${Buffer.from('reader:wrong').toString('base64')}` };
      for (const path of ['/system', '/instances', '/dicom-web/studies', '/wado?requestType=WADO']) {
        expect((await send(engine.url, 'GET', path)).status, path).toBe(401);
        expect((await send(engine.url, 'GET', path, undefined, bad)).status, path).toBe(401);
        expect((await send(engine.url, 'GET', path, undefined, good)).status, path).not.toBe(401);
      }
      expect((await send(engine.url, 'GET', '/system', undefined, good)).json().IsHttpServerSecure).toBe(true);
    } finally {
      await engine.close();
    }
  });
});

/**
 * The STOW-RS client (POST {Root}servers/{name}/stow, as the Orthanc DICOMweb
 * plugin names it) against real servers: an empty Orthanc 1.10 + DICOMweb 1.7
 * as the remote (directly, and through a recording proxy that counts the
 * requests and sees how their bodies were framed), and our own engine as the
 * remote (app to app). What the remote then holds is compared byte for byte
 * with the local files, under the same Orthanc IDs.
 * Data: pydicom samples and synthetic studies (test/support).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../main/jobs/types.js';
import type { StoreOutcome } from '../../main/store/types.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { haveOrthanc, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { havePydicomSamples, sample } from '../support/samples.js';
import { synthStudy } from '../support/synth.js';
import { startRecordingProxy, type Peer } from './remoteStowPeers.js';

const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc()) && havePydicomSamples;
const note = skipNote(ORTHANC_PACKAGES, haveOrthanc()) + skipNote('python3-pydicom', havePydicomSamples);

type Stored = Extract<StoreOutcome, { ok: true }>;

async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Runs curl (asynchronously: the engine answering it lives in this process), stdin given. */
function curl(args: string[], input: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
    child.stdin.end(input);
  });
}

async function bytes(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function storeAll(engine: TestEngine, files: Buffer[]): Promise<Stored[]> {
  const outcomes = await engine.store.storeInstances(files);
  for (const o of outcomes) if (!o.ok) throw new Error(`local store refused a test file: ${o.message}`);
  return outcomes as Stored[];
}

/** Every instance is on the remote (Orthanc REST, which our engine answers too) under the same ID, byte-identical. */
async function expectHeldIdentical(remoteBase: string, local: TestEngine, ids: string[]): Promise<void> {
  for (const id of ids) {
    const mine = readFileSync(local.store.getInstance(id)!.path);
    const theirs = await bytes(`${remoteBase}/instances/${id}/file`);
    expect(theirs.equals(mine), `instance ${id} on ${remoteBase}`).toBe(true);
  }
}

describe.skipIf(!ready)(`STOW-RS client to a real Orthanc and to our own engine${note}`, () => {
  let orthanc: RunningOrthanc;
  /** Recording proxies in front of that Orthanc. */
  let splitProxy: Peer;
  let chunkedProxy: Peer;
  let sizeProxy: Peer;
  /** Local engine: StowMaxInstances 3, no size limit. */
  let engine: TestEngine;
  /** Local engine: StowMaxSize 1 MB, no instance limit. */
  let sizeEngine: TestEngine;
  /** Our own engine as a remote. */
  let remoteEngine: TestEngine;

  let samples: Stored[];
  let study: Stored[]; // 2 series x 5
  let series10: Stored[]; // one series of 10
  let chunkedSeries: Stored[]; // one series of 6
  let bigSeries: Stored[]; // 10 instances of 360x360 in sizeEngine

  const stowUrl = (e: TestEngine, server: string) => `${e.dicomWebUrl}/servers/${server}/stow`;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    splitProxy = await startRecordingProxy(orthanc.url);
    chunkedProxy = await startRecordingProxy(orthanc.url);
    sizeProxy = await startRecordingProxy(orthanc.url);
    remoteEngine = await startTestEngine({ Name: 'remote engine' });
    engine = await startTestEngine({
      DicomWeb: {
        StowMaxInstances: 3,
        StowMaxSize: 0,
        Servers: {
          sample: [`${orthanc.dicomWebUrl}/`],
          split: { Url: splitProxy.url, ChunkedTransfers: false },
          chunked: { Url: chunkedProxy.url, ChunkedTransfers: true },
          ours: { Url: `${remoteEngine.dicomWebUrl}/`, ChunkedTransfers: false },
        },
      },
    });
    sizeEngine = await startTestEngine({
      DicomWeb: { StowMaxInstances: 0, StowMaxSize: 1, Servers: { bysize: { Url: sizeProxy.url, ChunkedTransfers: false } } },
    });

    samples = await storeAll(engine, ['CT_small.dcm', 'MR_small.dcm', 'rtplan.dcm', 'JPEG2000.dcm', 'SC_rgb_jpeg.dcm'].map((f) => readFileSync(sample(f))));
    study = await storeAll(engine, synthStudy({ key: 'stow-study', patientID: 'STOW1', patientName: 'STOW^STUDY', series: 2, instancesPerSeries: 5 }));
    series10 = await storeAll(engine, synthStudy({ key: 'stow-split', patientID: 'STOW2', patientName: 'STOW^SPLIT', series: 1, instancesPerSeries: 10 }));
    chunkedSeries = await storeAll(engine, synthStudy({ key: 'stow-chunked', patientID: 'STOW3', patientName: 'STOW^CHUNKED', series: 1, instancesPerSeries: 6, rows: 256, columns: 256 }));
    bigSeries = await storeAll(sizeEngine, synthStudy({ key: 'stow-size', patientID: 'STOW4', patientName: 'STOW^SIZE', series: 1, instancesPerSeries: 10, rows: 360, columns: 360 }));
  });

  afterAll(async () => {
    await engine?.close();
    await sizeEngine?.close();
    await remoteEngine?.close();
    for (const p of [splitProxy, chunkedProxy, sizeProxy]) await p?.close();
    await orthanc?.close();
  });

  it("runs the seed's curl example verbatim: Orthanc then holds the study byte-identical, under the same IDs", async () => {
    const studyId = study[0]!.ids.study;
    // curl http://localhost:8042/dicom-web/servers/sample/stow -X POST -d @- << EOF
    // { "Resources" : [ "…" ] }
    // EOF
    const run = await curl(['-s', '--max-time', '30', stowUrl(engine, 'sample'), '-X', 'POST', '-d', '@-'], `{ "Resources" : [ "${studyId}" ] }\n`);
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer).toMatchObject({ InstancesCount: '10', Server: 'sample', StoredCount: 10, FailedCount: 0, Failed: [] });
    expect(answer.Stored.map((s: { ID: string }) => s.ID).sort()).toEqual(study.map((s) => s.ids.instance).sort());
    await expectHeldIdentical(orthanc.url, engine, study.map((s) => s.ids.instance));
  });

  it('stows a patient, a series and a single instance; Orthanc holds each byte-identical', async () => {
    const ct = samples[0]!;
    const mr = samples[1]!;
    const { status, json } = await post(stowUrl(engine, 'sample'), { Resources: [ct.ids.patient, study[7]!.ids.series, mr.ids.instance] });
    expect(status).toBe(200);
    // The CT sample's patient has only the CT; series 2 of the study has 5 instances.
    const expected = [ct.ids.instance, ...study.filter((s) => s.ids.series === study[7]!.ids.series).map((s) => s.ids.instance), mr.ids.instance];
    expect(json.StoredCount).toBe(expected.length);
    expect(json.Stored.map((s: { ID: string }) => s.ID).sort()).toEqual([...expected].sort());
    await expectHeldIdentical(orthanc.url, engine, expected);
  });

  it('cuts a 10-instance series into 4 requests with StowMaxInstances 3, each with a Content-Length', async () => {
    const before = splitProxy.requests.length;
    const { status, json } = await post(stowUrl(engine, 'split'), { Resources: [series10[0]!.ids.series] });
    expect(status).toBe(200);
    expect(json.Requests).toBe(4);
    const seen = splitProxy.requests.slice(before);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(Array(4).fill('POST /dicom-web/studies'));
    for (const r of seen) {
      expect(r.headers['transfer-encoding']).toBeUndefined();
      expect(Number(r.headers['content-length'])).toBe(r.bytes);
      expect(r.headers['content-type']).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
      expect(r.headers.accept).toBe('application/dicom+json');
    }
    expect(json.SentBytes).toBe(seen.reduce((n, r) => n + r.bytes, 0));
    await expectHeldIdentical(orthanc.url, engine, series10.map((s) => s.ids.instance));
  });

  it('keeps each request under StowMaxSize (1 MB): ten 260 KB instances go in 3 requests', async () => {
    const { status, json } = await post(stowUrl(sizeEngine, 'bysize'), { Resources: [bigSeries[0]!.ids.study] });
    expect(status).toBe(200);
    expect(json.StoredCount).toBe(10);
    expect(sizeProxy.requests.map((r) => r.bytes > 0)).toEqual([true, true, true]);
    for (const r of sizeProxy.requests) expect(r.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(json.Requests).toBe(3);
    await expectHeldIdentical(orthanc.url, sizeEngine, bigSeries.map((s) => s.ids.instance));
  });

  it('streams one chunked request when the server has ChunkedTransfers', async () => {
    const { status, json } = await post(stowUrl(engine, 'chunked'), { Resources: [chunkedSeries[0]!.ids.series] });
    expect(status).toBe(200);
    expect(json.Requests).toBe(1);
    expect(chunkedProxy.requests).toHaveLength(1);
    const [r] = chunkedProxy.requests;
    expect(r!.headers['transfer-encoding']).toBe('chunked');
    expect(r!.headers['content-length']).toBeUndefined();
    expect(r!.bytes).toBe(json.SentBytes);
    await expectHeldIdentical(orthanc.url, engine, chunkedSeries.map((s) => s.ids.instance));
  });

  it('lists the instance Orthanc refuses (its HTTP 400 answer) beside those it stored', async () => {
    const jpeg = samples[4]!; // SC_rgb_jpeg.dcm: we accept it, Orthanc 1.10 does not
    const rt = samples[2]!;
    const { status, json } = await post(stowUrl(engine, 'split'), { Resources: [jpeg.ids.instance, rt.ids.instance] });
    expect(status).toBe(200);
    expect(json.Stored).toEqual([{ ID: rt.ids.instance, SOPInstanceUID: rt.sopInstanceUID }]);
    expect(json.Failed).toEqual([expect.objectContaining({ ID: jpeg.ids.instance, SOPInstanceUID: jpeg.sopInstanceUID, FailureReason: null })]);
    expect(json.Failed[0].Message).toContain('HTTP 400');
    await expectHeldIdentical(orthanc.url, engine, [rt.ids.instance]);
  });

  it('fails the job with a conflict naming the instance when the remote refuses everything', async () => {
    const jpeg = samples[4]!;
    const { status, json } = await post(stowUrl(engine, 'sample'), { Resources: [jpeg.ids.instance] });
    expect(status).toBe(409);
    expect(json.ErrorKind).toBe('conflict');
    expect(json.Message).toContain("stow to 'sample'");
    expect(json.Message).toContain(jpeg.sopInstanceUID);
    const job = engine.jobs.list()[0]!;
    expect(job.State).toBe('Failure');
    expect((job.Result as { Failed: unknown[] }).Failed).toHaveLength(1);
  });

  it('stows to our own engine (app to app): it holds the files byte-identical under the same IDs', async () => {
    const { status, json } = await post(stowUrl(engine, 'ours'), { Resources: [study[0]!.ids.study, samples[3]!.ids.instance] });
    expect(status).toBe(200);
    expect(json.StoredCount).toBe(11);
    expect(json.Requests).toBe(4);
    await expectHeldIdentical(remoteEngine.url, engine, [...study.map((s) => s.ids.instance), samples[3]!.ids.instance]);
  });

  it('answers { ID, Path } at once when not synchronous; the job reports progress against known totals', async () => {
    const { status, json } = await post(stowUrl(engine, 'ours'), { Resources: [series10[0]!.ids.study], Synchronous: false, HttpHeaders: { 'X-Session': 'token-value-123' } });
    expect(status).toBe(200);
    expect(json).toEqual({ ID: expect.any(String), Path: `/jobs/${json.ID}` });
    let info: JobInfo | undefined;
    for (let i = 0; i < 200; i++) {
      info = (await (await fetch(`${engine.url}${json.Path}`)).json()) as JobInfo;
      if (info.State !== 'Pending' && info.State !== 'Running') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(info!.State).toBe('Success');
    expect(info!.Type).toBe('DicomWebStowClient');
    expect(info!.Content).toMatchObject({ Server: 'ours', Resources: [series10[0]!.ids.study], InstancesCount: 10, HttpHeaders: ['X-Session'] });
    expect(JSON.stringify(info)).not.toContain('token-value-123');
    const sent = (info!.Result as { SentBytes: number }).SentBytes;
    expect(info!.Details).toMatchObject({ instancesDone: 10, instancesTotal: 10, bytesDone: sent, bytesTotal: sent });
    expect(info!.Progress).toBe(100);
  });

  it('answers 404 naming an unknown resource or server, and sends nothing', async () => {
    const before = splitProxy.requests.length;
    const unknown = await post(stowUrl(engine, 'split'), { Resources: [study[0]!.ids.study, 'ffffffff-ffffffff-ffffffff-ffffffff-ffffffff'] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.Message).toContain('ffffffff-ffffffff-ffffffff-ffffffff-ffffffff');
    const noServer = await post(stowUrl(engine, 'nowhere'), { Resources: [study[0]!.ids.study] });
    expect(noServer.status).toBe(404);
    expect(noServer.json.Message).toContain("'nowhere'");
    const bad = await post(stowUrl(engine, 'split'), { Resources: 'not a list' });
    expect(bad.status).toBe(400);
    expect(splitProxy.requests.length).toBe(before);
  });
});

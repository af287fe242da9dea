/**
 * POST {Root}servers/{name}/retrieve against small local servers that
 * misbehave on purpose: refused, timeout, 401, 404, 500 then success, reset
 * mid-stream, malformed multipart, slow answers (progress, cancel), and
 * parallel series. Each checks the job's state, its error text and what the
 * store holds: only whole instances, byte-identical to what was sent.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { JobInfo } from '../../main/jobs/types.js';
import { parseInstance } from '../../main/dicom/parseInstance.js';
import { CLOSE, fakeStudy, MULTIPART_TYPE, partHead, sleep, startFakeWado, writeInstances, type FakeWado, instancesOf } from './remoteRetrieveFakes.js';
import { startRetrieveHarness, type RetrieveHarness } from './remoteRetrieveHarness.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function setup(fake: FakeWado, server: Record<string, unknown> = {}, jobs = {}): Promise<RetrieveHarness> {
  open.push(fake);
  const h = await startRetrieveHarness({ DicomWeb: { Servers: { fake: { Url: fake.url, ...server } } } }, { retries: 2, ...jobs });
  open.push(h);
  return h;
}

/** SOP Instance UIDs the store holds, each checked byte-identical to one of `sent`. */
function storedUids(h: RetrieveHarness, studyUID: string, sent: Buffer[]): string[] {
  const bySop = new Map(sent.map((b) => [parseInstance(b).sopInstanceUID, b]));
  return h.store.findInstances({ study: studyUID }).map((i) => {
    const original = bySop.get(i.sopInstanceUID);
    expect(original, `stored ${i.sopInstanceUID} was never sent`).toBeDefined();
    expect(readFileSync(i.path).equals(original!), `${i.sopInstanceUID} differs from what was sent`).toBe(true);
    return i.sopInstanceUID;
  });
}

async function jobInfo(h: RetrieveHarness, id: string): Promise<JobInfo> {
  return (await (await fetch(`${h.url}/jobs/${id}`)).json()) as JobInfo;
}

/** Polls GET /jobs/{id} until `ok` (bounded). */
async function until(h: RetrieveHarness, id: string, ok: (info: JobInfo) => boolean, ms = 10_000): Promise<JobInfo> {
  const deadline = Date.now() + ms;
  for (;;) {
    const info = await jobInfo(h, id);
    if (ok(info)) return info;
    if (Date.now() > deadline) throw new Error(`job ${id} never reached the condition; last: ${JSON.stringify(info)}`);
    await sleep(20);
  }
}

describe('retrieve: answers and progress', () => {
  test('a study is split into its series, fetched in parallel (at most 4 at a time), all instances stored byte-identical', async () => {
    const study = fakeStudy('parallel', 6, 3);
    const fake = await startFakeWado(study, async ({ path, next }) => {
      if (!path.endsWith('/series')) await sleep(80);
      await next();
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(200);
    expect(json.ReceivedInstancesCount).toBe('18');
    expect(json.NetworkUsageMB).toBe('0');
    expect(json.Failures).toEqual([]);
    expect(fake.maxConcurrent).toBe(4);
    expect(fake.requests.filter((r) => r.path.includes('/series/')).length).toBe(6);
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(18);
    // The IDs answered are the local Orthanc IDs of the instances, in series order.
    const ids = h.store.findInstances({ study: study.studyUID }).map((i) => i.ids.instance);
    expect(json.Instances).toEqual(ids);
  });

  test('a series and an instance are fetched with one WADO-RS request each, Accept asking for any transfer syntax', async () => {
    const study = fakeStudy('levels', 2, 3);
    const [s1, s2] = [...study.series.keys()];
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      const m = /^studies\/[0-9.]+\/series\/([0-9.]+)\/instances\/([0-9.]+)$/.exec(path);
      if (!m) return next();
      const bytes = study.series.get(m[1]!)!.find((b) => parseInstance(b).sopInstanceUID === m[2]);
      await writeInstances(res, bytes ? [bytes] : []);
    });
    const h = await setup(fake);
    const one = parseInstance(study.series.get(s2!)![1]!).sopInstanceUID;
    const { status, json } = await h.retrieve('fake', {
      Resources: [{ Study: study.studyUID, Series: s1 }, { Study: study.studyUID, Series: s2, Instance: one }],
    });
    expect(status).toBe(200);
    expect(json.Instances).toHaveLength(4);
    expect(storedUids(h, study.studyUID, study.all).sort()).toEqual([...study.series.get(s1!)!.map((b) => parseInstance(b).sopInstanceUID), one].sort());
    const wado = fake.requests.filter((r) => !r.path.endsWith('/series'));
    expect(wado.map((r) => r.path).sort()).toEqual([`studies/${study.studyUID}/series/${s1}`, `studies/${study.studyUID}/series/${s2}/instances/${one}`].sort());
    for (const r of wado) expect(r.headers.accept).toBe('multipart/related; type="application/dicom"; transfer-syntax=*');
  });

  test('HttpHeaders and HttpArguments reach every request; the job shows their names only, never values or passwords', async () => {
    const study = fakeStudy('headers', 1, 2);
    const fake = await startFakeWado(study);
    const h = await setup(fake, { Username: 'alice', Password: 'pa55-secret' });
    const { status, json } = await h.retrieve('fake', {
      Resources: [{ Study: study.studyUID }],
      HttpHeaders: { 'X-Session': 'token-value-123' },
      HttpArguments: { session: 'arg-value-456' },
      Synchronous: false,
    });
    expect(status).toBe(200);
    expect(json).toEqual({ ID: expect.any(String), Path: `/jobs/${json.ID}` });
    await h.jobs.wait(json.ID);
    for (const r of fake.requests) {
      expect(r.headers['x-session']).toBe('token-value-123');
      expect(r.query.get('session')).toBe('arg-value-456');
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('alice:pa55-secret').toString('base64')}`);
    }
    const text = await (await fetch(`${h.url}/jobs?expand`)).text();
    expect(text).not.toMatch(/token-value-123|arg-value-456|pa55-secret/);
    const info = await jobInfo(h, json.ID);
    expect(info).toMatchObject({
      Type: 'DicomWebRetrieve',
      State: 'Success',
      Content: { Server: 'fake', Resources: [{ Study: study.studyUID }], HttpHeaders: ['X-Session'], Arguments: ['session'] },
    });
  });

  test('a slow retrieve shows its progress, stores instances as they arrive, and cancel keeps only whole instances', async () => {
    const study = fakeStudy('slow', 1, 40);
    let sentParts = 0;
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      await writeInstances(res, instancesOf(study, path)!, async (i) => {
        if (i > 0) await sleep(60);
        sentParts = i + 1;
      });
    });
    const h = await setup(fake);
    const { json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }], Synchronous: false });
    // Stored before the answer has ended: the study is not held until its end.
    const running = await until(h, json.ID, (info) => info.Details.instancesDone >= 3);
    expect(running.State).toBe('Running');
    expect(sentParts).toBeLessThan(40);
    expect(running.Details.instancesTotal).toBe(40);
    expect(running.Progress).toBeGreaterThanOrEqual(7);
    expect(running.Details.bytesDone).toBeGreaterThan(0);
    expect(running.Details.bytesPerSecond).toBeGreaterThan(0);
    expect(h.store.findInstances({ study: study.studyUID }).length).toBeGreaterThanOrEqual(3);

    const cancel = await fetch(`${h.url}/jobs/${json.ID}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    const end = await h.jobs.wait(json.ID);
    expect(end.State).toBe('Cancelled');
    expect(end.ErrorKind).toBe('cancelled');
    const stored = storedUids(h, study.studyUID, study.all);
    expect(stored.length).toBeGreaterThanOrEqual(3);
    expect(stored.length).toBeLessThan(40);
    expect((end.Result as { Instances: string[] }).Instances).toHaveLength(stored.length);
    const afterCancel = sentParts;
    await sleep(200);
    expect(sentParts - afterCancel).toBeLessThanOrEqual(1); // the transfer stopped
  });
});

describe('retrieve: failures', () => {
  test('a 401 fails at once, naming the server, the URL and the status; nothing is stored', async () => {
    const study = fakeStudy('unauth', 1, 2);
    const fake = await startFakeWado(study, ({ res }) => {
      res.writeHead(401, { 'Content-Type': 'text/plain', 'WWW-Authenticate': 'Basic realm="x"' });
      res.end('bad credentials');
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-status');
    expect(json.Message).toBe(`retrieve from 'fake': HTTP 401 Unauthorized from ${fake.url}studies/${study.studyUID}/series: bad credentials`);
    expect(fake.requests).toHaveLength(1); // not retried
    expect(h.store.findInstances({ study: study.studyUID })).toEqual([]);
    const [job] = h.jobs.list();
    expect(job).toMatchObject({ State: 'Failure', Attempt: 1, ErrorKind: 'remote-status' });
  });

  test('an unknown study is a 404 from the WADO-RS request, not retried', async () => {
    const study = fakeStudy('missing', 1, 1);
    const fake = await startFakeWado(study);
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: '1.2.3.4' }] });
    expect(status).toBe(502);
    // QIDO answers 404 too: the study is then asked for whole.
    expect(json.Message).toBe(`retrieve from 'fake': HTTP 404 Not Found from ${fake.url}studies/1.2.3.4: no such resource: studies/1.2.3.4`);
    expect(fake.requests.map((r) => r.path)).toEqual(['studies/1.2.3.4/series', 'studies/1.2.3.4']);
  });

  test('a 500 is retried with backoff, then the retrieve succeeds', async () => {
    const study = fakeStudy('flaky', 2, 2);
    const fake = await startFakeWado(study, async ({ path, res, count, next }) => {
      if (!path.endsWith('/series') && count === 1 && path.endsWith(study.series.keys().next().value!)) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Message: 'database is busy' }));
        return;
      }
      await next();
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(200);
    expect(json.Instances).toHaveLength(4);
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(4);
    expect(h.jobs.list()[0]).toMatchObject({ State: 'Success', Attempt: 2 });
  });

  test('a refused connection is retried, then fails with the reason and the URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const h = await startRetrieveHarness({ DicomWeb: { Servers: { down: [`http://127.0.0.1:${port}/dicom-web/`] } } }, { retries: 2 });
    open.push(h);
    const { status, json } = await h.retrieve('down', { Resources: [{ Study: '1.2.3' }] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-unreachable');
    expect(json.Message).toBe(`retrieve from 'down': cannot reach http://127.0.0.1:${port}/dicom-web/studies/1.2.3/series: connection refused (ECONNREFUSED)`);
    expect(h.jobs.list()[0]).toMatchObject({ State: 'Failure', Attempt: 3 });
  });

  test('a server that never answers times out (the server Timeout), and the job fails after its retries', async () => {
    const study = fakeStudy('hang', 1, 1);
    const fake = await startFakeWado(study, () => undefined /* never answers */);
    const h = await setup(fake, { Timeout: 1 }, { retries: 1 });
    const started = Date.now();
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-unreachable');
    expect(json.Message).toMatch(new RegExp(`^retrieve from 'fake': cannot reach ${fake.url}studies/${study.studyUID}/series: timeout after 1 s`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(h.jobs.list()[0]).toMatchObject({ State: 'Failure', Attempt: 2 });
  });

  test('a connection reset mid-stream keeps the instances received whole, never the cut one, and retries', async () => {
    const study = fakeStudy('reset', 1, 5);
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      const instances = instancesOf(study, path)!;
      res.writeHead(200, { 'Content-Type': MULTIPART_TYPE });
      res.write(Buffer.concat([partHead(true), instances[0]!, partHead(false), instances[1]!, partHead(false), instances[2]!.subarray(0, 100)]));
      await sleep(50);
      res.socket?.resetAndDestroy();
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-unreachable');
    const url = `${fake.url}studies/${study.studyUID}/series/${[...study.series.keys()][0]}`;
    expect(json.Message).toMatch(/^retrieve from 'fake': the answer from /);
    expect(json.Message).toContain(url);
    expect(json.Message).toMatch(/\(after 2 whole instances\); the 2 instances received whole before it are stored$/);
    const stored = storedUids(h, study.studyUID, study.all);
    expect(stored.sort()).toEqual(study.all.slice(0, 2).map((b) => parseInstance(b).sopInstanceUID).sort());
    const job = h.jobs.list()[0]!;
    expect(job).toMatchObject({ State: 'Failure', Attempt: 3 });
    expect((job.Result as { Instances: string[] }).Instances).toHaveLength(2);
    expect(fake.requests.filter((r) => !r.path.endsWith('/series'))).toHaveLength(3);
  });

  test('an answer that stalls mid-stream times out, keeping the instances received whole', async () => {
    const study = fakeStudy('stall', 1, 4);
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      const instances = instancesOf(study, path)!;
      res.writeHead(200, { 'Content-Type': MULTIPART_TYPE });
      res.write(Buffer.concat([partHead(true), instances[0]!, partHead(false), instances[1]!, partHead(false), instances[2]!.subarray(0, 50)]));
      // …and nothing more: the server's Timeout (1 s) ends the wait.
    });
    const h = await setup(fake, { Timeout: 1 }, { retries: 0 });
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-unreachable');
    expect(json.Message).toMatch(/^retrieve from 'fake': the answer from http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\/[0-9.]+\/series\/[0-9.]+ was cut: timeout after 1 s/);
    expect(json.Message).toMatch(/the 2 instances received whole before it are stored$/);
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(2);
  });

  test('after a reset, the retry fetches what is missing and the retrieve completes', async () => {
    const study = fakeStudy('resume', 3, 3);
    const [, second] = [...study.series.keys()];
    const fake = await startFakeWado(study, async ({ path, res, count, next }) => {
      if (path.endsWith(second!) && count === 1) {
        res.writeHead(200, { 'Content-Type': MULTIPART_TYPE });
        res.write(Buffer.concat([partHead(true), study.series.get(second!)![0]!, partHead(false)]));
        await sleep(30);
        res.socket?.resetAndDestroy();
        return;
      }
      await next();
    });
    const h = await setup(fake, {}, { concurrency: 1 });
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(200);
    expect(json.Instances).toHaveLength(9);
    expect(new Set(json.Instances).size).toBe(9);
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(9);
    // Series finished in the first attempt are not fetched again.
    const wado = fake.requests.filter((r) => !r.path.endsWith('/series')).map((r) => r.path.split('/').pop());
    expect(wado.filter((uid) => uid === second)).toHaveLength(2);
    expect(wado).toHaveLength(4);
  });

  test('a multipart answer without its closing delimiter fails as malformed, not retried, keeping the whole parts', async () => {
    const study = fakeStudy('malformed', 1, 3);
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      const instances = instancesOf(study, path)!;
      const body = Buffer.concat([partHead(true), instances[0]!, partHead(false), instances[1]!, partHead(false), instances[2]!]);
      res.writeHead(200, { 'Content-Type': MULTIPART_TYPE, 'Content-Length': body.length });
      res.end(body); // the answer ends properly, but the last part never does
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.Message).toMatch(
      new RegExp(`^retrieve from 'fake': malformed multipart answer from ${fake.url.replace(/[.]/g, '\\.')}studies/.* after 2 whole instances: multipart body ended inside part 3`),
    );
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(2);
    expect(h.jobs.list()[0]).toMatchObject({ State: 'Failure', Attempt: 1, ErrorKind: 'remote-status' });
  });

  test('an answer that is not multipart/related fails as malformed, naming its Content-Type', async () => {
    const study = fakeStudy('notmultipart', 1, 1);
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('[]');
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(502);
    expect(json.Message).toBe(
      `retrieve from 'fake': ${fake.url}studies/${study.studyUID}/series/${[...study.series.keys()][0]} answered HTTP 200 with Content-Type "application/json", not multipart/related with a boundary (PS3.18 8.6.1.2)`,
    );
  });

  test('a part the store refuses is reported in Failures; the others are stored', async () => {
    const study = fakeStudy('badpart', 1, 2);
    const fake = await startFakeWado(study, async ({ path, res, next }) => {
      if (path.endsWith('/series')) return next();
      const [a, b] = instancesOf(study, path)!;
      res.writeHead(200, { 'Content-Type': MULTIPART_TYPE });
      res.end(Buffer.concat([partHead(true), a!, partHead(false), Buffer.from('not DICOM at all'), partHead(false), b!, CLOSE]));
    });
    const h = await setup(fake);
    const { status, json } = await h.retrieve('fake', { Resources: [{ Study: study.studyUID }] });
    expect(status).toBe(200);
    expect(json.Instances).toHaveLength(2);
    expect(json.ReceivedInstancesCount).toBe('3');
    expect(json.Failures).toHaveLength(1);
    expect(json.Failures[0].Url).toBe(`${fake.url}studies/${study.studyUID}/series/${[...study.series.keys()][0]}`);
    expect(storedUids(h, study.studyUID, study.all)).toHaveLength(2);
  });

  test('an unknown server answers 404 and a body without Resources 400, before any job starts', async () => {
    const study = fakeStudy('bad', 1, 1);
    const fake = await startFakeWado(study);
    const h = await setup(fake);
    const unknown = await h.retrieve('nope', { Resources: [{ Study: '1.2' }] });
    expect(unknown.status).toBe(404);
    expect(unknown.json.Message).toBe(`unknown remote server 'nope' (configured: 'fake')`);
    const bad = await h.retrieve('fake', { Resources: [] });
    expect(bad.status).toBe(400);
    const badUid = await h.retrieve('fake', { Resources: [{ Study: '1.2; rm' }] });
    expect(badUid.status).toBe(400);
    expect(badUid.json.Message).toMatch(/Resources\[0\]\.Study must be a DICOM UID/);
    expect(h.jobs.list()).toEqual([]);
    expect(fake.requests).toEqual([]);
  });
});

afterAll(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

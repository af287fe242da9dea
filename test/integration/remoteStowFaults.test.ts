/**
 * The STOW-RS client when things go wrong: a remote that is down, answers 500
 * or 401, resets the connection in the middle of a body, never answers
 * (cancel), refuses some instances with a FailedSOPSequence, or a stored file
 * gone from disk. The remote is our own engine (a real STOW-RS server) behind
 * a small proxy that misbehaves on purpose; the client is the production
 * stack with short retry delays (remoteStowHarness.ts). Each case checks the
 * job's state and attempts, the error's text (server, URL, status) and what
 * the remote then holds.
 */
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../main/jobs/types.js';
import type { StoreOutcome } from '../../main/store/types.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { freePort } from '../support/orthanc.js';
import { synthStudy } from '../support/synth.js';
import { startStowHarness, type StowHarness } from './remoteStowHarness.js';
import { readStowParts, startProxy, stowResponse, type Peer, type ProxyAction } from './remoteStowPeers.js';

type Stored = Extract<StoreOutcome, { ok: true }>;

const PASSWORD = 'S3cret-Pa55-word';

describe('STOW-RS client faults', () => {
  let remote: TestEngine;
  let proxy: Peer;
  let harness: StowHarness;
  let downPort: number;
  /** What the proxy does with request number i (from 0) of the current test. */
  let plan: (i: number) => ProxyAction = () => 'forward';
  let first = 0;
  let series10: Stored[];
  let pair: Stored[];
  let lonely: Stored;

  beforeAll(async () => {
    remote = await startTestEngine({ Name: 'stow target' });
    proxy = await startProxy(remote.url, (index) => plan(index - first));
    downPort = await freePort(); // nothing listens there
    harness = await startStowHarness({
      DicomWeb: {
        StowMaxInstances: 3,
        StowMaxSize: 0,
        Servers: {
          split: { Url: proxy.url, ChunkedTransfers: false },
          chunked: { Url: proxy.url, ChunkedTransfers: true },
          down: { Url: `http://127.0.0.1:${downPort}/dicom-web/`, ChunkedTransfers: false },
          auth: { Url: proxy.url, Username: 'alice', Password: PASSWORD, ChunkedTransfers: false },
        },
      },
    });
    const outcomes = await harness.store.storeInstances([
      ...synthStudy({ key: 'faults-10', patientID: 'F10', patientName: 'FAULT^TEN', series: 1, instancesPerSeries: 10 }),
      ...synthStudy({ key: 'faults-2', patientID: 'F2', patientName: 'FAULT^TWO', series: 1, instancesPerSeries: 2 }),
      ...synthStudy({ key: 'faults-gone', patientID: 'F1', patientName: 'FAULT^GONE', series: 1, instancesPerSeries: 1 }),
    ]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    series10 = outcomes.slice(0, 10) as Stored[];
    pair = outcomes.slice(10, 12) as Stored[];
    lonely = outcomes[12] as Stored;
  });

  beforeEach(() => {
    first = proxy.requests.length;
    plan = () => 'forward';
  });

  afterAll(async () => {
    await harness?.close();
    await proxy?.close();
    await remote?.close();
  });

  const seen = () => proxy.requests.slice(first);
  const lastJob = (): JobInfo => harness.jobs.list()[0]!;

  it('reports a remote that is down as unreachable, naming the server and the URL, after the retries', async () => {
    const { status, json } = await harness.stow('down', { Resources: [pair[0]!.ids.instance] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-unreachable');
    expect(json.Message).toContain("stow to 'down'");
    expect(json.Message).toContain(`http://127.0.0.1:${downPort}/dicom-web/studies`);
    expect(json.Message).toContain('ECONNREFUSED');
    expect(lastJob()).toMatchObject({ State: 'Failure', Attempt: 4, ErrorKind: 'remote-unreachable' });
  });

  it('retries HTTP 500, then fails naming the server, the URL, the status and what the remote said', async () => {
    plan = () => ({ status: 500, body: JSON.stringify({ HttpStatus: 500, Message: 'the disk is full' }) });
    const { status, json } = await harness.stow('split', { Resources: [pair[0]!.ids.instance] });
    expect(status).toBe(502);
    expect(json.ErrorKind).toBe('remote-status');
    expect(json.Message).toMatch(new RegExp(`^stow to 'split': HTTP 500 Internal Server Error from ${proxy.url}studies: the disk is full`));
    expect(seen()).toHaveLength(4);
    expect(lastJob()).toMatchObject({ State: 'Failure', Attempt: 4 });
  });

  it('fails at once on HTTP 401, and the password appears in no answer or job description', async () => {
    plan = () => ({ status: 401, body: '{"Message":"wrong credentials"}' });
    const { status, json } = await harness.stow('auth', { Resources: [pair[0]!.ids.study] });
    expect(status).toBe(502);
    expect(json.Message).toContain(`stow to 'auth': HTTP 401 Unauthorized from ${proxy.url}studies`);
    expect(seen()).toHaveLength(1);
    expect(seen()[0]!.headers.authorization).toBe(`Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`);
    const job = lastJob();
    expect(job).toMatchObject({ State: 'Failure', Attempt: 1, ErrorKind: 'remote-status' });
    const jobs = await (await fetch(`${harness.url}/jobs?expand`)).text();
    for (const text of [JSON.stringify(json), JSON.stringify(job), jobs]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(`alice:${PASSWORD}`).toString('base64'));
    }
  });

  it('lists the instances a remote refuses in its FailedSOPSequence, with their local IDs and FailureReason', async () => {
    plan = () => async (req, res) => {
      const parts = await readStowParts(req);
      expect(parts).toHaveLength(2);
      res.writeHead(202, { 'content-type': 'application/dicom+json' });
      res.end(stowResponse([pair[0]!.sopInstanceUID], [{ uid: pair[1]!.sopInstanceUID, reason: 0xa700 }]));
    };
    const { status, json } = await harness.stow('chunked', { Resources: [pair[0]!.ids.series] });
    expect(status).toBe(200);
    expect(json.Stored).toEqual([{ ID: pair[0]!.ids.instance, SOPInstanceUID: pair[0]!.sopInstanceUID }]);
    expect(json.Failed).toEqual([
      { ID: pair[1]!.ids.instance, SOPInstanceUID: pair[1]!.sopInstanceUID, FailureReason: 0xa700, Message: 'refused by the remote: FailureReason 0xA700 (Refused: out of resources)' },
    ]);
    expect(lastJob().State).toBe('Success');
  });

  it('retries a connection reset in the middle of a body without sending the batches already answered again', async () => {
    plan = (i) => (i === 2 ? 'reset' : 'forward');
    const { status, json } = await harness.stow('split', { Resources: [series10[0]!.ids.series] });
    expect(status).toBe(200);
    expect(json).toMatchObject({ Requests: 4, StoredCount: 10, FailedCount: 0 });
    // Requests 1 and 2 answered, 3 reset, then 3 again and 4.
    expect(seen()).toHaveLength(5);
    expect(seen()[2]!.closedBeforeAnswer).toBe(true);
    expect(lastJob()).toMatchObject({ State: 'Success', Attempt: 2 });
    for (const s of series10) {
      const theirs = Buffer.from(await (await fetch(`${remote.url}/instances/${s.ids.instance}/file`)).arrayBuffer());
      expect(theirs.equals(readFileSync(harness.store.getInstance(s.ids.instance)!.path))).toBe(true);
    }
  });

  it('keeps in the Result of a failed job what the requests answered before the failure stored', async () => {
    plan = (i) => (i < 2 ? 'forward' : { status: 403, body: '{"Message":"forbidden"}' });
    const { status, json } = await harness.stow('split', { Resources: [series10[0]!.ids.series], Synchronous: false });
    expect(status).toBe(200);
    const info = await harness.waitJob(json.ID);
    expect(info).toMatchObject({ State: 'Failure', Attempt: 1, ErrorKind: 'remote-status' });
    expect(info.ErrorDescription).toContain('HTTP 403 Forbidden');
    // Two of the four requests (3, 3, 3 and 1 instances) went through; which two depends on the order they arrived in.
    const result = info.Result as { StoredCount: number; Requests: number; Stored: Array<{ ID: string }> };
    expect(result.Requests).toBe(2);
    expect([4, 6]).toContain(result.StoredCount);
    for (const s of result.Stored) expect(series10.map((x) => x.ids.instance)).toContain(s.ID);
  });

  it('cancels a job whose request the remote never answers: Cancelled, connection closed, no retry', async () => {
    plan = () => 'hang';
    const { json } = await harness.stow('chunked', { Resources: [series10[0]!.ids.series], Synchronous: false });
    for (let i = 0; i < 400 && !(seen()[0]?.complete); i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen()[0]!.complete).toBe(true);
    const cancel = await fetch(`${harness.url}/jobs/${json.ID}/cancel`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(cancel.status).toBe(200);
    const info = await harness.waitJob(json.ID);
    expect(info).toMatchObject({ State: 'Cancelled', Attempt: 1, ErrorKind: 'cancelled' });
    for (let i = 0; i < 200 && !seen()[0]!.closedBeforeAnswer; i++) await new Promise((r) => setTimeout(r, 10));
    expect(seen()[0]!.closedBeforeAnswer).toBe(true);
    expect(seen()).toHaveLength(1);
  });

  it('sends nothing for an empty Resources list and answers an empty result', async () => {
    const { status, json } = await harness.stow('split', { Resources: [] });
    expect(status).toBe(200);
    expect(json).toMatchObject({ InstancesCount: '0', Requests: 0, StoredCount: 0, FailedCount: 0, Stored: [], Failed: [] });
    expect(seen()).toHaveLength(0);
  });

  it('fails without retrying when a stored file has gone from disk, naming the instance', async () => {
    const instanceId = lonely.ids.instance;
    rmSync(harness.store.getInstance(instanceId)!.path);
    const { status, json } = await harness.stow('split', { Resources: [lonely.ids.patient] });
    expect(status).toBe(500);
    expect(json.ErrorKind).toBe('store-corrupt');
    expect(json.Message).toContain(instanceId);
    expect(json.Message).toContain('ENOENT');
    expect(lastJob()).toMatchObject({ State: 'Failure', Attempt: 1 });
  });
});

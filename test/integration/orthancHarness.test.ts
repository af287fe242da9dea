/**
 * The Orthanc test harness (test/support/orthanc.ts): real Orthanc processes on
 * free ports with temp storage, as the interoperability tests and the
 * benchmark use them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveOrthanc, ORTHANC_PACKAGES, startOrthanc, type RunningOrthanc } from '../support/orthanc.js';
import { peerAvailable, skipNote } from '../support/peers.js';
import { havePydicomSamples, sample } from '../support/samples.js';

const ready = peerAvailable(ORTHANC_PACKAGES, haveOrthanc()) && havePydicomSamples;
const note = skipNote(ORTHANC_PACKAGES, haveOrthanc()) + skipNote('python3-pydicom', havePydicomSamples);

describe.skipIf(!ready)(`Orthanc harness${note}`, () => {
  let a: RunningOrthanc;
  let b: RunningOrthanc;

  beforeAll(async () => {
    [a, b] = await Promise.all([startOrthanc(), startOrthanc({ config: { Name: 'second', DicomWeb: { Servers: { first: ['http://127.0.0.1:1/dicom-web/'] } } } })]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('starts two Orthancs in parallel on different ports with their own storage', async () => {
    expect(a.httpPort).not.toBe(b.httpPort);
    expect(a.dir).not.toBe(b.dir);
    const [sa, sb] = await Promise.all([a, b].map(async (o) => (await fetch(`${o.url}/system`)).json() as Promise<Record<string, unknown>>));
    expect(sa.Version).toBe('1.10.1');
    expect(sa.HttpPort).toBe(a.httpPort);
    expect(sb.HttpPort).toBe(b.httpPort);
    expect(sb.Name).toBe('second');
  });

  it('merges the given configuration into the generated one, key by key', async () => {
    const servers = (await (await fetch(`${b.url}/dicom-web/servers`)).json()) as string[];
    expect(servers).toEqual(['first']);
    const plugins = (await (await fetch(`${b.url}/plugins`)).json()) as string[];
    expect(plugins).toContain('dicom-web');
  });

  it('stores a pydicom sample posted to one Orthanc and gives back the same bytes, and only that one holds it', async () => {
    const bytes = readFileSync(sample('CT_small.dcm'));
    const posted = await fetch(`${a.url}/instances`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/dicom' } });
    expect(posted.status).toBe(200);
    const { ID, Status } = (await posted.json()) as { ID: string; Status: string };
    expect(Status).toBe('Success');
    const back = Buffer.from(await (await fetch(`${a.url}/instances/${ID}/file`)).arrayBuffer());
    expect(back.equals(bytes)).toBe(true);
    expect(await (await fetch(`${b.url}/instances`)).json()).toEqual([]);
  });

  it('removes its temp directory and stops the process on close', async () => {
    const extra = await startOrthanc();
    expect(existsSync(extra.dir)).toBe(true);
    await extra.close();
    expect(existsSync(extra.dir)).toBe(false);
    expect(() => process.kill(extra.pid, 0)).toThrow();
    await expect(fetch(`${extra.url}/system`)).rejects.toThrow();
  });
});

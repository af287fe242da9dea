/**
 * App to app: engine A has engine B (our own headless server, with HTTP
 * Basic authentication) among its remote servers. QIDO values with a space
 * and non-ASCII letters (percent-encoded, which our server decodes), WADO-RS
 * bytes through /get, and servers added, changed and removed at run time over
 * HTTP — persisted in A's data directory, secrets never answered.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { synthInstance } from '../support/synth.js';

const NAMES = ['VAN DER BERG^ANNA', 'MÜLLER^JÖRG', '山田^太郎', "O'BRIEN^PAT"];
const uid = (i: number) => `1.2.826.0.1.3680043.10.1137.99.${i + 1}`;
const files = NAMES.map((name, i) =>
  synthInstance({ patientID: `A2A-${i}`, patientName: name, studyInstanceUID: uid(i), seriesInstanceUID: `${uid(i)}.1`, sopInstanceUID: `${uid(i)}.1.1`, rows: 8, columns: 8 }),
);

type Dataset = Record<string, { Value?: Array<{ Alphabetic?: string }> }>;
const names = (list: Dataset[]) => list.map((d) => d['00100010']?.Value?.[0]?.Alphabetic).sort();

describe('Our own engine as the remote server (app to app)', () => {
  let a: TestEngine;
  let b: TestEngine;
  /** Orthanc IDs of the instances B stores, in the order of `files`. */
  let ids: string[] = [];
  const post = (path: string, body: unknown) => fetch(`${a.dicomWebUrl}/${path}`, { method: 'POST', body: JSON.stringify(body) });
  const put = (name: string, body: unknown) => fetch(`${a.dicomWebUrl}/servers/${name}`, { method: 'PUT', body: JSON.stringify(body) });

  beforeAll(async () => {
    b = await startTestEngine({ AuthenticationEnabled: true, RegisteredUsers: { reader: 'b-password' } });
    const outcomes = await b.store.storeInstances(files);
    ids = outcomes.map((o) => {
      if (!o.ok) throw new Error(`B refused an instance: ${JSON.stringify(o)}`);
      return o.ids.instance;
    });
    a = await startTestEngine({ DicomWeb: { Servers: { b: [`${b.dicomWebUrl}/`, 'reader', 'b-password'] } } });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('finds patients whose names have a space, umlauts, CJK letters or an apostrophe', async () => {
    for (const [query, expected] of [
      ['VAN DER*', 'VAN DER BERG^ANNA'],
      ['MÜLLER^*', 'MÜLLER^JÖRG'],
      ['山田*', '山田^太郎'],
      ["O'BRIEN*", "O'BRIEN^PAT"],
    ]) {
      const res = await post('servers/b/qido', { Uri: '/studies', Arguments: { PatientName: query } });
      expect(res.status, query).toBe(200);
      expect(names((await res.json()) as Dataset[]), query).toEqual([expected]);
    }
  });

  it('brings an instance\'s WADO-RS answer back through /get, the stored bytes inside', async () => {
    const res = await post('servers/b/get', { Uri: `/studies/${uid(1)}/series/${uid(1)}.1/instances/${uid(1)}.1.1` });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^multipart\/related; type="?application\/dicom"?/);
    const body = Buffer.from(await res.arrayBuffer());
    const stored = readFileSync(b.store.getInstance(ids[1])!.path);
    expect(body.includes(stored)).toBe(true);
  });

  it('adds a server at run time, uses it at once, and keeps it with its password out of every answer', async () => {
    expect((await put('b2', { Url: b.dicomWebUrl, Username: 'reader', Password: 'b-password', HttpHeaders: { 'X-Trace': 'yes' } })).status).toBe(200);
    const res = await post('servers/b2/qido', { Uri: '/studies', Arguments: { PatientID: 'A2A-0' } });
    expect(names((await res.json()) as Dataset[])).toEqual(['VAN DER BERG^ANNA']);

    const listed = await (await fetch(`${a.dicomWebUrl}/servers/?expand`)).text();
    expect(listed).not.toContain('b-password');
    expect(JSON.parse(listed).b2).toEqual({
      Url: `${b.dicomWebUrl}/`, Username: 'reader', HasPassword: true, HttpHeaders: ['X-Trace'], HasCertificateKeyPassword: false,
      Pkcs11: false, HasDelete: false, ChunkedTransfers: false,
    });
    expect(await (await fetch(`${a.dicomWebUrl}/servers/`)).json()).toEqual(['b', 'b2']);

    // No config file (test overrides): kept in the data directory, the password apart in a 0600 file.
    const saved = readFileSync(join(a.dir, 'remote-servers.json'), 'utf8');
    expect(JSON.parse(saved).Servers.b2).toEqual({ Url: `${b.dicomWebUrl}/`, Username: 'reader', HttpHeaders: { 'X-Trace': 'yes' } });
    expect(saved).not.toContain('b-password');
    expect(statSync(join(a.dir, 'secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('a server changed without its password keeps the stored one', async () => {
    expect((await put('b2', { Url: `${b.dicomWebUrl}/`, Username: 'reader', Timeout: 5 })).status).toBe(200);
    const res = await post('servers/b2/qido', { Uri: '/studies', Arguments: { PatientID: 'A2A-1' } });
    expect(res.status).toBe(200);
    expect(names((await res.json()) as Dataset[])).toEqual(['MÜLLER^JÖRG']);
  });

  it('refuses a server body with a wrong key or value, naming the key', async () => {
    const wrongType = await put('bad', { Url: 'http://127.0.0.1:9/', Timeout: 'soon' });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ ErrorKind: 'bad-request', Message: 'PUT servers/bad: Timeout must be a non-negative integer, found "soon" (a string)' });
    const badUrl = await put('bad', ['ftp://x/']);
    expect(((await badUrl.json()) as { Message: string }).Message).toBe('PUT servers/bad: [0] must be an http:// or https:// URL, found "ftp://x/" (a string)');
    const notJson = await fetch(`${a.dicomWebUrl}/servers/bad`, { method: 'PUT', body: '{ nope' });
    expect(notJson.status).toBe(400);
    expect(await (await fetch(`${a.dicomWebUrl}/servers/`)).json()).toEqual(['b', 'b2']);
  });

  it('removes a server at run time; using it afterwards answers 404 naming it', async () => {
    expect((await fetch(`${a.dicomWebUrl}/servers/b2`, { method: 'DELETE' })).status).toBe(200);
    const res = await post('servers/b2/qido', { Uri: '/studies' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { Message: string }).Message).toBe("unknown remote server 'b2' (configured: 'b')");
    expect((await fetch(`${a.dicomWebUrl}/servers/b2`, { method: 'DELETE' })).status).toBe(404);
    expect(JSON.parse(readFileSync(join(a.dir, 'secrets.json'), 'utf8')).Servers).toEqual({});
  });
});

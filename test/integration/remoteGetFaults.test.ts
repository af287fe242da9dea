/**
 * POST {Root}servers/{name}/get, /qido and /delete when the remote misbehaves
 * — a small real HTTP server (node:http on a free loopback port) that answers
 * what each test asks: error statuses, a body that is not JSON, no answer at
 * all, a connection reset in the middle of the body — and what our engine
 * sends it: headers, Basic auth, the DELETE of Orthanc's /delete route.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../main/errors.js';
import { createRemoteClient } from '../../main/remote/httpClient.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('Remote get and qido when the remote server misbehaves', () => {
  let engine: TestEngine;
  let handler: Handler;
  let remoteUrl: string;
  const seen: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  const remote = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  remote.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const post = (server: string, op: string, body: unknown, signal?: AbortSignal) =>
    fetch(`${engine.dicomWebUrl}/servers/${server}/${op}`, { method: 'POST', body: JSON.stringify(body), signal });

  beforeAll(async () => {
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}/dicom-web/`;
    engine = await startTestEngine({
      HttpTimeout: 2,
      DicomWeb: {
        Servers: {
          fake: { Url: remoteUrl, Username: 'user', Password: 'pass-word', HttpHeaders: { 'X-Site': 'reading-room', Accept: 'text/plain' } },
          quick: { Url: remoteUrl, Timeout: 1 },
          deleting: { Url: remoteUrl, HasDelete: true },
          card: { Url: remoteUrl, Pkcs11: true },
          down: ['http://127.0.0.1:9/dicom-web/'],
        },
      },
    });
  });
  beforeEach(() => {
    seen.length = 0;
  });
  afterAll(async () => {
    await engine?.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => remote.close(r));
  });

  it('sends the server\'s headers, the request\'s (which win, whatever their case) and Basic auth', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    const res = await post('fake', 'get', { Uri: '/studies', HttpHeaders: { accept: 'application/dicom+json', 'X-Request': '1' } });
    expect(res.status).toBe(200);
    const headers = seen[0].headers;
    expect(headers).toMatchObject({ 'x-site': 'reading-room', 'x-request': '1', accept: 'application/dicom+json' });
    expect(headers.authorization).toBe(`Basic ${Buffer.from('user:pass-word').toString('base64')}`);
    expect(headers['accept-encoding']).toBeUndefined();
    expect(seen[0].url).toBe('/dicom-web/studies');
  });

  it('/get passes a 503 back with its explanation; /qido answers 502 with the same sentence', async () => {
    handler = (_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('archive in maintenance until 6 pm');
    const get = await post('fake', 'get', { Uri: '/studies' });
    expect(get.status).toBe(503);
    expect(await get.json()).toMatchObject({
      ErrorKind: 'remote-status',
      RemoteStatus: 503,
      Message: `get from 'fake': HTTP 503 Service Unavailable from ${remoteUrl}studies: archive in maintenance until 6 pm`,
    });
    const qido = await post('fake', 'qido', { Uri: '/studies' });
    expect(qido.status).toBe(502);
    expect(((await qido.json()) as { Message: string }).Message).toBe(`qido from 'fake': HTTP 503 Service Unavailable from ${remoteUrl}studies: archive in maintenance until 6 pm`);
    expect(seen[1].headers.accept).toBe('application/dicom+json');
  });

  it('/qido refuses an answer that is not DICOM JSON, and takes 204 No Content as no match', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login page</html>');
    const html = await post('fake', 'qido', { Uri: '/studies' });
    expect(html.status).toBe(502);
    expect(((await html.json()) as { Message: string }).Message).toBe(`qido from 'fake': the answer from ${remoteUrl}studies is "text/html", not DICOM JSON (application/dicom+json)`);

    handler = (_req, res) => res.writeHead(204).end();
    const empty = await post('fake', 'qido', { Uri: '/studies' });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual([]);
  });

  it('a remote that never answers times out after the server\'s Timeout, or HttpTimeout', async () => {
    handler = () => undefined; // never answers
    let start = Date.now();
    const quick = await post('quick', 'qido', { Uri: '/studies' });
    expect(Date.now() - start).toBeLessThan(1900);
    expect(quick.status).toBe(502);
    expect(await quick.json()).toMatchObject({ ErrorKind: 'remote-unreachable', Message: `qido from 'quick': cannot reach ${remoteUrl}studies: timeout after 1 s (waiting for the answer)` });

    start = Date.now();
    const global = await post('fake', 'get', { Uri: '/studies' });
    expect(Date.now() - start).toBeGreaterThanOrEqual(1900);
    expect(((await global.json()) as { Message: string }).Message).toBe(`get from 'fake': cannot reach ${remoteUrl}studies: timeout after 2 s (waiting for the answer)`);
    for (const s of sockets) s.destroy();
  });

  it('a connection reset in the middle of the body cuts our answer too, and the engine goes on serving', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
      res.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => res.socket?.destroy(), 20));
    };
    const res = await post('fake', 'get', { Uri: '/studies/1.2/series/3.4' });
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();

    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    expect((await post('fake', 'qido', { Uri: '/studies' })).status).toBe(200);
  });

  it('our client going away aborts the request to the remote', async () => {
    let remoteClosed: Promise<void> = Promise.resolve();
    handler = (req, res) => {
      remoteClosed = new Promise((resolve) => res.once('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024));
      void req;
    };
    const controller = new AbortController();
    const res = await post('fake', 'get', { Uri: '/studies/9' }, controller.signal);
    expect(res.status).toBe(200);
    controller.abort();
    await expect(Promise.race([remoteClosed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still open'), 3000))])).resolves.toBe('closed');
  });

  it('a server that refuses connections answers 502 naming it, the URL and ECONNREFUSED', async () => {
    const res = await post('down', 'qido', { Uri: '/studies', Arguments: { PatientName: 'DOE^*' } });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ ErrorKind: 'remote-unreachable', Message: "qido from 'down': cannot reach http://127.0.0.1:9/dicom-web/studies?PatientName=DOE^*: connection refused (ECONNREFUSED)" });
  });

  it('a Pkcs11 server answers 400 "not supported by this build", and only that server', async () => {
    const res = await post('card', 'get', { Uri: '/studies' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { Message: string }).Message).toBe("server 'card': PKCS#11 is not supported by this build");
    const listed = (await (await fetch(`${engine.dicomWebUrl}/servers/?expand`)).json()) as Record<string, { Pkcs11: boolean }>;
    expect(listed.card.Pkcs11).toBe(true);
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('[]');
    expect((await post('quick', 'qido', { Uri: '/studies' })).status).toBe(200);
  });

  it('/delete sends DELETE on the WADO-RS URL to a server with HasDelete, and is refused for others', async () => {
    expect(await (await fetch(`${engine.dicomWebUrl}/servers/deleting`)).json()).toEqual(['get', 'retrieve', 'stow', 'qido', 'delete']);
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    const res = await post('deleting', 'delete', { Level: 'Series', StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.4' });
    expect(res.status).toBe(200);
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['DELETE /dicom-web/studies/1.2.3/series/1.2.3.4']);

    const refused = await post('fake', 'delete', { Level: 'Study', StudyInstanceUID: '1.2.3' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { Message: string }).Message).toMatch(/^delete on 'fake': the server does not accept deletions/);

    handler = (_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end('read-only archive');
    const forbidden = await post('deleting', 'delete', { Level: 'Study', StudyInstanceUID: '1.2.3' });
    expect(forbidden.status).toBe(502);
    expect(((await forbidden.json()) as { Message: string }).Message).toBe(`delete on 'deleting': HTTP 403 Forbidden from ${remoteUrl}studies/1.2.3: read-only archive`);
  });

  it('no answer, header or error ever carries the password', async () => {
    handler = (_req, res) => res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="x"' }).end('who are you?');
    const res = await post('fake', 'get', { Uri: '/studies' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
    const text = await res.text();
    expect(text).not.toContain('pass-word');
    expect(JSON.parse(text).Message).toBe(`get from 'fake': HTTP 401 Unauthorized from ${remoteUrl}studies: who are you?`);
  });

  it('a request cancelled by its AbortSignal fails as "cancelled", before or during the answer', async () => {
    const client = createRemoteClient('fake', { Url: remoteUrl }, { HttpTimeout: 10, HttpsVerifyPeers: true });
    try {
      handler = () => undefined; // no answer yet
      const early = new AbortController();
      const pending = client.request({ method: 'GET', path: 'studies', signal: early.signal });
      setTimeout(() => early.abort(), 50);
      const err = await pending.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ kind: 'cancelled', message: `server 'fake': request to ${remoteUrl}studies cancelled` });

      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(1024));
      };
      const late = new AbortController();
      const response = await client.request({ method: 'GET', path: 'studies/1', signal: late.signal });
      const reading = (async () => {
        for await (const _chunk of response.body) late.abort();
      })();
      await expect(reading).rejects.toMatchObject({ kind: 'cancelled' });
      expect(client.inflight).toBe(0);
    } finally {
      client.close();
      for (const s of sockets) s.destroy();
    }
  });
});

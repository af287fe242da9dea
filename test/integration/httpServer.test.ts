/**
 * The shared HTTP server (main/http/createHttpServer.ts) over real sockets:
 * binding, Basic auth, CORS, error format, raw bodies, oversized headers.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromObject } from '../../main/config/loadConfig.js';
import { AppError } from '../../main/errors.js';
import { createHttpServer, listenHttpServer } from '../../main/http/createHttpServer.js';
import { readBodyBuffer } from '../../main/http/rawBody.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: target.hostname, port: target.port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server with the given configuration and a few probe routes. */
async function start(raw: Record<string, unknown> = {}): Promise<string> {
  const { config } = configFromObject({ HttpPort: 0, ...raw });
  app = await createHttpServer(config);
  app.get('/hello', async () => ({ hello: 'world' }));
  app.get('/missing/:id', async (request) => {
    throw new AppError('not-found', `unknown thing ${(request.params as { id: string }).id}`);
  });
  app.get('/boom', async () => {
    throw new Error('disk on fire');
  });
  app.post('/echo-json', async (request) => ({ received: request.body }));
  app.post('/body-kind', async (request) => {
    const body = request.body as Readable;
    const bytes = await readBodyBuffer(request, 'POST /body-kind', 1000);
    return { stream: typeof body.pipe === 'function', length: bytes.length, first: bytes.subarray(0, 4).toString('hex') };
  });
  app.get('/frames/:frames', async (request) => ({ frames: (request.params as { frames: string }).frames.split(',').length }));
  const { url } = await listenHttpServer(app, config);
  return url;
}

describe('binding', () => {
  it('listens on 127.0.0.1 only by default: another loopback address is refused', async () => {
    const url = await start();
    expect((app!.server.address() as AddressInfo).address).toBe('127.0.0.1');
    expect((await send(url, { path: '/hello' })).status).toBe(200);
    const port = new URL(url).port;
    await expect(send(`http://127.0.0.2:${port}`, { path: '/hello' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('listens on every interface when RemoteAccessAllowed', async () => {
    const url = await start({ RemoteAccessAllowed: true, AuthenticationEnabled: false });
    expect(['::', '0.0.0.0']).toContain((app!.server.address() as AddressInfo).address);
    const port = new URL(url).port;
    expect((await send(`http://127.0.0.2:${port}`, { path: '/hello' })).status).toBe(200);
  });
});

describe('HTTP Basic authentication', () => {
  const auth = { AuthenticationEnabled: true, RegisteredUsers: { alice: 'wonder land', bob: 'builder' } };

  it('refuses a request without credentials with 401 and a Basic challenge', async () => {
    const url = await start(auth);
    const answer = await send(url, { path: '/hello' });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Basic realm="/);
    expect(JSON.parse(answer.body)).toMatchObject({ HttpStatus: 401, HttpError: 'Unauthorized', ErrorKind: 'unauthorized', Uri: '/hello' });
  });

  it('refuses a wrong password, an unknown user and a malformed header', async () => {
    const url = await start(auth);
    for (const authorization of [basic('alice', 'wonderland'), basic('carol', 'builder'), basic('bob', ''), 'Basic !!!', 'Bearer abc', `Basic ${Buffer.from('alice').toString('base64')}`]) {
      const answer = await send(url, { path: '/hello', headers: { authorization } });
      expect(answer.status, authorization).toBe(401);
      expect(answer.body).not.toContain('wonder');
    }
  });

  it('accepts a registered user with the right password (colons and spaces allowed in it)', async () => {
    const url = await start({ AuthenticationEnabled: true, RegisteredUsers: { alice: 'a:b c' } });
    const answer = await send(url, { path: '/hello', headers: { authorization: basic('alice', 'a:b c') } });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ hello: 'world' });
  });

  it('answers CORS preflights without credentials, since browsers send none', async () => {
    const url = await start(auth);
    const answer = await send(url, {
      method: 'OPTIONS',
      path: '/hello',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(answer.headers['access-control-allow-headers']).toBe('authorization');
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    send(url, { method: 'OPTIONS', path: '/hello', headers: { origin, 'access-control-request-method': 'GET' } });

  it('allows loopback origins on any port', async () => {
    const url = await start();
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'http://[::1]:8080', 'http://localhost']) {
      const answer = await preflight(url, origin);
      expect(answer.status, origin).toBe(204);
      expect(answer.headers['access-control-allow-origin']).toBe(origin);
      expect(answer.headers['access-control-allow-methods']).toContain('DELETE');
      expect(answer.headers['access-control-allow-credentials']).toBe('true');
    }
    const simple = await send(url, { path: '/hello', headers: { origin: 'http://localhost:3000' } });
    expect(simple.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(simple.headers['access-control-expose-headers']).toContain('Content-Location');
  });

  it('gives no CORS permission to a foreign origin, or to look-alikes of loopback', async () => {
    const url = await start();
    for (const origin of ['http://evil.example', 'http://localhost.evil.example:3000', 'http://127.0.0.1.evil.example', 'https://localhost:3000']) {
      const answer = await preflight(url, origin);
      expect(answer.headers['access-control-allow-origin'], origin).toBeUndefined();
      expect(answer.status).toBe(404);
      const simple = await send(url, { path: '/hello', headers: { origin } });
      expect(simple.status).toBe(200);
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('allows the configured origins, and every origin with "*"', async () => {
    let url = await start({ HttpCorsOrigins: ['https://viewer.example.org'] });
    expect((await preflight(url, 'https://viewer.example.org')).headers['access-control-allow-origin']).toBe('https://viewer.example.org');
    expect((await preflight(url, 'http://localhost:3000')).headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect((await preflight(url, 'https://other.example.org')).headers['access-control-allow-origin']).toBeUndefined();
    await app!.close();
    url = await start({ HttpCorsOrigins: ['*'] });
    expect((await preflight(url, 'https://anything.example')).headers['access-control-allow-origin']).toBe('https://anything.example');
  });
});

describe('errors', () => {
  it('maps an AppError to its status with an Orthanc-like JSON body', async () => {
    const url = await start();
    const answer = await send(url, { path: '/missing/42?secret=1' });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toContain('application/json');
    expect(JSON.parse(answer.body)).toEqual({
      HttpError: 'Not Found', HttpStatus: 404, Message: 'unknown thing 42', Method: 'GET', Uri: '/missing/42', ErrorKind: 'not-found',
    });
  });

  it('answers an unknown route with 404 naming the method and path', async () => {
    const url = await start();
    const answer = await send(url, { method: 'DELETE', path: '/nowhere' });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ Message: 'unknown resource: no route for DELETE /nowhere', ErrorKind: 'not-found' });
  });

  it('answers an unexpected failure with 500 and keeps serving', async () => {
    const url = await start();
    const answer = await send(url, { path: '/boom' });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ HttpStatus: 500, ErrorKind: 'internal', Message: 'disk on fire' });
    expect((await send(url, { path: '/hello' })).status).toBe(200);
  });

  it('answers malformed JSON and bad percent-encoding with 400', async () => {
    const url = await start();
    const bad = await send(url, { method: 'POST', path: '/echo-json', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ErrorKind: 'bad-request', Message: 'the request body is not valid JSON (Content-Type is application/json)' });
    const url400 = await send(url, { path: '/missing/%zz' });
    expect(url400.status).toBe(400);
    expect(JSON.parse(url400.body).Message).toContain('bad percent-encoding');
    expect((await send(url, { path: '/hello' })).status).toBe(200);
  });
});

describe('request bodies', () => {
  it('parses application/json', async () => {
    const url = await start();
    const answer = await send(url, { method: 'POST', path: '/echo-json', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2]}' });
    expect(JSON.parse(answer.body)).toEqual({ received: { a: [1, 2] } });
  });

  it('leaves every other body unconsumed as a stream: octet-stream, multipart, text/plain, no Content-Type', async () => {
    const url = await start();
    const payload = Buffer.from([0x44, 0x49, 0x43, 0x4d, 1, 2, 3]);
    for (const type of ['application/octet-stream', 'application/dicom', 'multipart/related; type="application/dicom"; boundary=x', 'text/plain', undefined]) {
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      const answer = await send(url, { method: 'POST', path: '/body-kind', headers, body: payload });
      expect(answer.status, String(type)).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ stream: true, length: 7, first: '4449434d' });
    }
  });

  it('refuses a body larger than the handler accepts with 413, and the connection stays usable', async () => {
    const url = await start();
    const answer = await send(url, { method: 'POST', path: '/body-kind', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(5000) });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).Message).toContain('5000 bytes, more than the 1000 accepted');
    expect((await send(url, { path: '/hello' })).status).toBe(200);
  });
});

describe('limits', () => {
  it('answers oversized headers with 431 and keeps serving', async () => {
    const url = await start();
    const answer = await send(url, { path: '/hello', headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(answer.status).toBe(431);
    expect(JSON.parse(answer.body)).toMatchObject({ HttpStatus: 431 });
    expect((await send(url, { path: '/hello' })).status).toBe(200);
  });

  it('answers a malformed request line with 400 and keeps serving', async () => {
    const url = await start();
    const { port } = new URL(url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect((await send(url, { path: '/hello' })).status).toBe(200);
  });

  it('takes long frame lists in a path parameter', async () => {
    const url = await start();
    const frames = Array.from({ length: 1500 }, (_, i) => i + 1).join(',');
    const answer = await send(url, { path: `/frames/${frames}` });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ frames: 1500 });
  });
});

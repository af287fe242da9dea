/**
 * The remote client reuses connections to servers that announce a short
 * keep-alive (Orthanc's civetweb: `Keep-Alive: timeout=1`, which Node's own
 * agent treats as "do not reuse"), and drops an idle one before the server
 * would. Real HTTP servers on port 0 count the connections they accept.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRemoteClient, type ClosableRemoteClient } from '../../main/remote/httpClient.js';

interface CountingServer {
  url: string;
  connections(): number;
  close(): Promise<void>;
}

async function startServer(keepAliveHint: string): Promise<CountingServer> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Keep-Alive', keepAliveHint);
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 5000; // the server itself keeps sockets longer than it announces
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    connections: () => accepted,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function post(client: ClosableRemoteClient, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const answer = await client.fetchBuffer({ method: 'POST', path: 'studies', body: Buffer.from('x'), headers: {} }, () => true);
    expect(answer.status).toBe(200);
  }
}

describe('remote client connection reuse', () => {
  it('reuses one connection for back-to-back requests to a server announcing timeout=1, and drops it when idle', async () => {
    const server = await startServer('timeout=1');
    open.push(server);
    const client = createRemoteClient('orthanc-like', { Url: server.url }, { HttpTimeout: 10, HttpsVerifyPeers: true });
    open.push(client);
    await post(client, 8);
    expect(server.connections()).toBe(1);
    // Idle for longer than half the announced second: the client has let the socket go.
    await new Promise((resolve) => setTimeout(resolve, 800));
    await post(client, 1);
    expect(server.connections()).toBe(2);
  });

  it('keeps Node’s behaviour for longer hints (reused while idle less than hint minus one second)', async () => {
    const server = await startServer('timeout=5');
    open.push(server);
    const client = createRemoteClient('long-hint', { Url: server.url }, { HttpTimeout: 10, HttpsVerifyPeers: true });
    open.push(client);
    await post(client, 4);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await post(client, 1);
    expect(server.connections()).toBe(1);
  });
});

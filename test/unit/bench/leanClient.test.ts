/**
 * The benchmark's lean GET client (test/bench/leanClient.ts) against a raw TCP
 * server that controls how the answer's bytes are cut: bodies by length,
 * chunked (sizes and CRLFs split across reads) and up to the connection's end;
 * a kept-alive connection reused, and replaced once the server has closed it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeanClient } from '../../bench/leanClient.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `pieces` one by one with a pause between them, so that the client reads them apart. */
async function writeApart(socket: Socket, pieces: Array<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    socket.write(piece);
    await sleep(5);
  }
}

const big = Buffer.alloc(300_000, 'x');
big.write('start', 0);
big.write('end', big.length - 3);

let server: Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    let pending = '';
    socket.on('data', (bytes) => {
      pending += bytes.toString('latin1');
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = pending.split(' ')[1];
      pending = pending.slice(end + 4);
      if (path === '/length') void writeApart(socket, [`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n`, '\r\n', big.subarray(0, 1000), big.subarray(1000)]);
      else if (path === '/chunked')
        void writeApart(socket, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhel', 'lo\r', '\n1', '0\r\n0123456789abcdef\r\n', '0\r\n\r\n']);
      else if (path === '/until-close') void writeApart(socket, ['HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc', 'def']).then(() => socket.end());
      else if (path === '/close-after') void writeApart(socket, ['HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno']).then(() => socket.end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('LeanClient', () => {
  it('reads bodies by length, chunked and up to the connection end, reusing one connection while the server keeps it', async () => {
    const client = new LeanClient('127.0.0.1', port);
    const before = connections;
    const a = await client.get('/length');
    expect(a.status).toBe(200);
    expect(a.body.equals(big)).toBe(true);
    const b = await client.get('/chunked');
    expect(b.body.toString()).toBe('hello0123456789abcdef');
    expect(b.length).toBe(21);
    expect(connections - before).toBe(1);
    const c = await client.get('/until-close');
    expect(c.body.toString()).toBe('abcdef');
    client.close();
  });

  it('opens a new connection once the server has closed the kept one', async () => {
    const client = new LeanClient('127.0.0.1', port);
    const before = connections;
    const a = await client.get('/close-after');
    expect([a.status, a.body.toString()]).toEqual([404, 'no']);
    await sleep(20);
    const b = await client.get('/chunked');
    expect(b.body.toString()).toBe('hello0123456789abcdef');
    expect(connections - before).toBe(2);
    client.close();
  });

  it('counts a discarded body without keeping it', async () => {
    const client = new LeanClient('127.0.0.1', port);
    const a = await client.get('/length', {}, true);
    expect([a.length, a.body.length]).toEqual([big.length, 0]);
    client.close();
  });
});

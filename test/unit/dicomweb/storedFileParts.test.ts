/**
 * sendStoredFileParts (the WADO-RS retrieve body writer) with slabs far
 * smaller than the files, so that heads and files straddle slab boundaries
 * in every way, and a pool of a few slabs, so that slabs are reused: the body
 * must still be, byte for byte, the multipart body written out by hand.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultipartWriter } from '../../../main/dicomweb/multipart.js';
import { sendStoredFileParts, type StoredFilePart, type StoredFilePartsOptions } from '../../../main/dicomweb/storedFileParts.js';

const SIZES = [0, 1, 99, 100, 101, 250, 1000, 3, 777, 0, 64, 2048, 5];
let dir: string;
let bodies: Buffer[];
let parts: StoredFilePart[];
let app: FastifyInstance;
let url: string;
let options: StoredFilePartsOptions = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stored-file-parts-'));
  bodies = SIZES.map((size) => randomBytes(size));
  parts = bodies.map((body, i) => {
    const path = join(dir, `file${i}`);
    writeFileSync(path, body);
    return { headers: { 'Content-Type': 'application/octet-stream', 'X-Index': i }, path, size: body.length, what: `file ${i}` };
  });
  app = Fastify();
  app.get('/', async (request, reply) => {
    const writer = new MultipartWriter('application/octet-stream', 'test-boundary');
    reply.header('Content-Type', writer.contentType);
    return sendStoredFileParts(request, reply, writer, parts, options);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectedBody(): Buffer {
  const chunks: Buffer[] = [];
  bodies.forEach((body, i) => {
    const head = `${i === 0 ? '' : '\r\n'}--test-boundary\r\nContent-Type: application/octet-stream\r\nX-Index: ${i}\r\n\r\n`;
    chunks.push(Buffer.from(head, 'latin1'), body);
  });
  chunks.push(Buffer.from('\r\n--test-boundary--\r\n', 'latin1'));
  return Buffer.concat(chunks);
}

describe('sendStoredFileParts', () => {
  it.each([
    { slabSize: 1, maxBytesAhead: 2 },
    { slabSize: 7, maxBytesAhead: 21 },
    { slabSize: 100, maxBytesAhead: 300 },
    { slabSize: 1000, maxBytesAhead: 1000 },
    { slabSize: 64 * 1024, maxBytesAhead: 1024 * 1024 },
  ])('writes the exact multipart body with slabs of $slabSize bytes, $maxBytesAhead bytes ahead', async (slabs) => {
    options = slabs;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/related; type="application/octet-stream"; boundary=test-boundary');
    expect(Buffer.from(await response.arrayBuffer()).equals(expectedBody())).toBe(true);
  });
});

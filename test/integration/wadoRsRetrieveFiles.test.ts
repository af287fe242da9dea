/**
 * WADO-RS Retrieve Study/Series (PS3.18 10.4.1.1.1) as sent by
 * storedFileParts.ts, over real HTTP against a real engine: the whole body,
 * byte for byte, against one built by hand from the stored files (parts
 * straddle the 1 MiB slabs), the CORS headers of the hooks on the hijacked
 * answer, HEAD, and stored files that are missing or shorter than the index
 * says (a clean error before the first byte, a cut connection after).
 */
import { readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthStudy, synthUid } from '../support/synth.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

const KEY = 'wado-rs-files';
const STUDY = synthUid(KEY, 1);
const seriesUid = (s: number) => synthUid(KEY, 2, s);
const sopUid = (s: number, i: number) => synthUid(KEY, 3, s, i);
const PER_SERIES = 150; // 64 x 64 x 16 bits: ~9 KB each, ~1.4 MB per series
let engine: TestEngine;
let files: Buffer[];

beforeAll(async () => {
  engine = await startTestEngine();
  files = synthStudy({ key: KEY, patientID: 'P-FILES', patientName: 'Files^Retrieve', series: 4, instancesPerSeries: PER_SERIES });
  for (let i = 0; i < files.length; i += 100) {
    const outcomes = await engine.store.storeInstances(files.slice(i, i + 100));
    expect(outcomes.every((o) => o.ok)).toBe(true);
  }
}, 60_000);
afterAll(async () => {
  await engine?.close();
});

const seriesUrl = (s: number) => `${engine.dicomWebUrl}/studies/${STUDY}/series/${seriesUid(s)}`;

/** The multipart body PS3.18 8.6.1.2 / RFC 2046 describe, written out by hand. */
function expectedBody(boundary: string, series: number, bodies: Buffer[]): Buffer {
  const chunks: Buffer[] = [];
  bodies.forEach((body, i) => {
    const url = `${seriesUrl(series)}/instances/${sopUid(series, i + 1)}`;
    const head =
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\n` +
      `Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: ${body.length}\r\nContent-Location: ${url}\r\n\r\n`;
    chunks.push(Buffer.from(head, 'latin1'), body);
  });
  chunks.push(Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(chunks);
}

function boundaryOf(contentType: string | null): string {
  const match = /boundary=("?)([^";]+)\1/.exec(contentType ?? '');
  if (!match) throw new Error(`no boundary in ${contentType}`);
  return match[2]!;
}

/** The stored file of an instance (path from the index). */
function storedPath(series: number, instance: number): string {
  const [found] = engine.store.findInstances({ study: STUDY, series: seriesUid(series), instance: sopUid(series, instance) });
  if (!found) throw new Error('instance not stored');
  return found.path;
}

describe('WADO-RS retrieve of many small files', () => {
  it('sends exactly the multipart body built by hand from the stored files, parts in instance order', async () => {
    const response = await fetch(seriesUrl(1));
    expect(response.status).toBe(200);
    const contentType = response.headers.get('content-type');
    expect(contentType).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
    const body = Buffer.from(await response.arrayBuffer());
    const expected = expectedBody(boundaryOf(contentType), 1, files.slice(0, PER_SERIES));
    expect(body.length).toBe(expected.length);
    expect(body.equals(expected)).toBe(true);
  });

  it('gives the whole study, every series in order, to several clients at once', async () => {
    const answers = await Promise.all([1, 2, 3].map(() => fetch(`${engine.dicomWebUrl}/studies/${STUDY}`)));
    for (const response of answers) {
      const body = Buffer.from(await response.arrayBuffer());
      const boundary = boundaryOf(response.headers.get('content-type'));
      // Each part's body is the stored file, in series then instance order.
      let at = 0;
      for (let i = 0; i < files.length; i++) {
        at = body.indexOf('\r\n\r\n', at) + 4;
        expect(body.subarray(at, at + files[i]!.length).equals(files[i]!), `part ${i + 1}`).toBe(true);
        at += files[i]!.length;
      }
      expect(body.subarray(at).toString('latin1')).toBe(`\r\n--${boundary}--\r\n`);
    }
  });

  it('keeps the CORS headers of the request hooks', async () => {
    const response = await fetch(seriesUrl(2), { headers: { Origin: 'http://localhost:3000' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(response.headers.get('access-control-expose-headers')).toContain('Content-Location');
    await response.arrayBuffer();
  });

  it('answers HEAD with the status and headers only', async () => {
    const answer = await new Promise<{ status: number; type: string | undefined; bytes: number }>((resolve, reject) => {
      const req = httpRequest(seriesUrl(2), { method: 'HEAD' }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], bytes }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer).toMatchObject({ status: 200, bytes: 0 });
    expect(answer.type).toMatch(/^multipart\/related; type="application\/dicom"/);
  });
});

describe('WADO-RS retrieve when stored files are damaged', () => {
  it('answers 500 store-corrupt naming the instance when the first file is missing, and keeps serving', async () => {
    unlinkSync(storedPath(3, 1));
    const response = await fetch(seriesUrl(3));
    expect(response.status).toBe(500);
    const error = (await response.json()) as { ErrorKind: string; Message: string };
    expect(error.ErrorKind).toBe('store-corrupt');
    expect(error.Message).toContain(sopUid(3, 1));
    expect(error.Message).toContain('ENOENT');
    expect((await fetch(seriesUrl(1))).status).toBe(200);
  });

  it('answers 500 when the first file is shorter than the index says', async () => {
    const path = storedPath(4, 1);
    truncateSync(path, readFileSync(path).length - 10);
    const response = await fetch(seriesUrl(4));
    expect(response.status).toBe(500);
    const error = (await response.json()) as { ErrorKind: string; Message: string };
    expect(error.ErrorKind).toBe('store-corrupt');
    expect(error.Message).toContain(sopUid(4, 1));
  });

  it('cuts the connection after the parts before a file missing later in the answer', async () => {
    unlinkSync(storedPath(2, PER_SERIES)); // the last file, well past the first slab
    const response = await fetch(seriesUrl(2));
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    const read = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        received += value.length;
      }
    })();
    await expect(read).rejects.toThrow();
    expect(received).toBeGreaterThan(files[0]!.length * 100); // what came before the fault was sent
    expect((await fetch(seriesUrl(1))).status).toBe(200);
  });
});

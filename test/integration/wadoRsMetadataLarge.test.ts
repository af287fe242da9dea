/**
 * WADO-RS Retrieve Metadata (PS3.18 10.4.1.1.2) of a 1,000-instance series
 * comes from the index, not the files, complete and in order. Its speed is
 * measured by `npm run bench:server` against Orthanc, not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthStudy, synthUid } from '../support/synth.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

const KEY = 'metadata-speed';
let engine: TestEngine;

beforeAll(async () => {
  engine = await startTestEngine();
  const files = synthStudy({ key: KEY, patientID: 'P-SPEED', patientName: 'Speed^Metadata', series: 1, instancesPerSeries: 1000, rows: 16, columns: 16 });
  for (let i = 0; i < files.length; i += 100) {
    const outcomes = await engine.store.storeInstances(files.slice(i, i + 100));
    expect(outcomes.every((o) => o.ok)).toBe(true);
  }
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

describe('metadata of a 1,000-instance series', () => {
  it('is complete, in instance order and with absolute bulk data URIs', async () => {
    const url = `${engine.dicomWebUrl}/studies/${synthUid(KEY, 1)}/series/${synthUid(KEY, 2, 1)}/metadata`;
    const datasets = (await (await fetch(url)).json()) as Array<Record<string, { BulkDataURI?: string; Value?: unknown[] }>>;
    expect(datasets).toHaveLength(1000);
    expect(datasets[999]!['00080018']!.Value).toEqual([synthUid(KEY, 3, 1, 1000)]);
    expect(datasets[0]!['7FE00010']!.BulkDataURI).toBe(
      `${engine.dicomWebUrl}/studies/${synthUid(KEY, 1)}/series/${synthUid(KEY, 2, 1)}/instances/${synthUid(KEY, 3, 1, 1)}/bulk/7FE00010`,
    );
    expect(datasets.map((d) => d['00200013']!.Value![0])).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('gives the same bytes to many clients at once, one of them reading slowly (answers share pooled byte chunks)', async () => {
    const url = `${engine.dicomWebUrl}/studies/${synthUid(KEY, 1)}/series/${synthUid(KEY, 2, 1)}/metadata`;
    const reference = Buffer.from(await (await fetch(url)).arrayBuffer());
    expect(reference.length).toBeGreaterThan(512 * 1024); // several chunks
    const slow = (async () => {
      const res = await fetch(url);
      const reader = res.body!.getReader();
      const parts: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        await new Promise((resolve) => setTimeout(resolve, 5)); // the server's socket fills up meanwhile
      }
      return Buffer.concat(parts);
    })();
    const fast = Array.from({ length: 6 }, async () => Buffer.from(await (await fetch(url)).arrayBuffer()));
    for (const answer of await Promise.all([slow, ...fast])) expect(answer.equals(reference)).toBe(true);
    // HEAD: the headers, no body.
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/dicom\+json/);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });
});

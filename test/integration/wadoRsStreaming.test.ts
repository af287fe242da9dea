/**
 * WADO-RS retrieve streams (PS3.18 10.4): a series of ~200 MB is answered
 * with memory that does not grow with its size, and a client that stops
 * reading does not make the server buffer the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthInstance, synthUid } from '../support/synth.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

const KEY = 'wado-streaming';
const STUDY = synthUid(KEY, 1);
const SERIES = synthUid(KEY, 2);
const COUNT = 100;
const ROWS = 1024; // 1024 x 1024 x 16 bits: 2 MiB of pixels per instance
let engine: TestEngine;
let totalBytes = 0;

beforeAll(async () => {
  engine = await startTestEngine();
  // One instance written by dcmjs, copied with a new SOP Instance UID of the same length (100…199).
  const template = synthInstance({
    patientID: 'P-BIG',
    patientName: 'Big^Series',
    studyInstanceUID: STUDY,
    seriesInstanceUID: SERIES,
    sopInstanceUID: synthUid(KEY, 3, 100),
    rows: ROWS,
    columns: ROWS,
  });
  const templateUid = Buffer.from(synthUid(KEY, 3, 100), 'latin1');
  for (let start = 100; start < 100 + COUNT; start += 10) {
    const batch: Buffer[] = [];
    for (let i = start; i < start + 10; i++) {
      const copy = Buffer.from(template);
      const uid = Buffer.from(synthUid(KEY, 3, i), 'latin1');
      for (let at = copy.indexOf(templateUid); at >= 0; at = copy.indexOf(templateUid, at + 1)) uid.copy(copy, at);
      batch.push(copy);
    }
    const outcomes = await engine.store.storeInstances(batch);
    expect(outcomes.every((o) => o.ok)).toBe(true);
  }
  totalBytes = engine.store.findInstances({ study: STUDY }).reduce((sum, i) => sum + i.size, 0);
  expect(totalBytes).toBeGreaterThan(COUNT * ROWS * ROWS * 2);
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

describe('WADO-RS retrieve of a big series', () => {
  it('streams the answer: memory grows far less than the series size', async () => {
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakExternal = before.external + before.arrayBuffers;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
    }, 5);
    let received = 0;
    try {
      const response = await fetch(`${engine.dicomWebUrl}/studies/${STUDY}/series/${SERIES}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBeNull(); // sent as it is read, not built first
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) received += chunk.length;
    } finally {
      clearInterval(sampler);
    }
    expect(received).toBeGreaterThan(totalBytes);
    const growth = Math.max(peakRss - before.rss, peakExternal - (before.external + before.arrayBuffers));
    // The client reading the answer runs in this process too, and what it has read stays until the next
    // garbage collection: 50-55 MB measured with this file alone, up to 71 MB while other test files ran.
    // A server that built the answer before sending it would grow by the whole series (210 MB) or more.
    expect(growth, `memory grew by ${(growth / 1e6).toFixed(0)} MB for a ${(totalBytes / 1e6).toFixed(0)} MB series`).toBeLessThan(totalBytes / 2);
  });

  it('does not read ahead of a client that stops reading, and keeps serving others', async () => {
    const controller = new AbortController();
    const before = process.memoryUsage();
    const response = await fetch(`${engine.dicomWebUrl}/studies/${STUDY}`, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    try {
      await reader.read(); // a first chunk, then nothing more
      await new Promise((r) => setTimeout(r, 300));
      const after = process.memoryUsage();
      expect(after.external + after.arrayBuffers - (before.external + before.arrayBuffers)).toBeLessThan(totalBytes / 3);
      const other = await fetch(`${engine.dicomWebUrl}/studies/${STUDY}/series/${SERIES}/metadata`);
      expect(other.status).toBe(200);
      expect(((await other.json()) as unknown[]).length).toBe(COUNT);
    } finally {
      // An open, stalled answer would keep the server from closing.
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
  });
});

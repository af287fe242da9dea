/**
 * Closing the engine (SIGTERM in headless mode, quitting the app) while a
 * client holds an answer half-read: the close finishes after a short grace
 * period instead of waiting for the client forever.
 */
import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { synthStudy, synthUid } from '../support/synth.js';
import { startTestEngine } from '../support/engine.js';

describe('engine close', () => {
  it('does not wait forever for a client that stops reading a large answer', async () => {
    const engine = await startTestEngine();
    const files = synthStudy({ key: 'close-stall', patientID: 'P-C', patientName: 'Close^Stall', series: 1, instancesPerSeries: 40, rows: 512, columns: 512 });
    expect((await engine.store.storeInstances(files)).every((o) => o.ok)).toBe(true);
    const url = `${engine.dicomWebUrl}/studies/${synthUid('close-stall', 1)}`;
    const stalled = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(url, (res) => {
        res.pause(); // read nothing: the server's socket buffer fills, the answer stalls
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
    expect(stalled.statusCode).toBe(200);
    const started = Date.now();
    await engine.close();
    expect(Date.now() - started).toBeLessThan(20_000);
    stalled.destroy();
  });
});

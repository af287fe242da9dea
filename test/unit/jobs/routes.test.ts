import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { configFromObject } from '../../../main/config/loadConfig.js';
import { AppError } from '../../../main/errors.js';
import { createHttpServer, listenHttpServer } from '../../../main/http/createHttpServer.js';
import { createJobs } from '../../../main/jobs/jobs.js';
import { registerJobRoutes } from '../../../main/jobs/routes.js';
import type { JobContext } from '../../../main/jobs/types.js';

const jobs = createJobs({ retries: 0 });
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  const { config } = configFromObject({ HttpPort: 0, StorageDirectory: '/nonexistent-not-used' });
  app = await createHttpServer(config);
  registerJobRoutes(app, jobs);
  ({ url } = await listenHttpServer(app, config));
});
afterAll(async () => {
  await jobs.close();
  await app.close();
});

const untilAborted = (ctx: JobContext) =>
  new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new AppError('cancelled', 'stopped'))));

describe('the /jobs routes', () => {
  test('GET /jobs lists IDs newest first, and ?expand the full descriptions', async () => {
    const a = jobs.submit('DicomWebRetrieve', { Server: 'pacs' }, async () => ({ Instances: [] })).ID;
    await jobs.wait(a);
    const b = jobs.submit('DicomWebStow', { Server: 'pacs' }, async () => 1).ID;
    await jobs.wait(b);
    const ids = (await (await fetch(`${url}/jobs`)).json()) as string[];
    expect(ids.slice(0, 2)).toEqual([b, a]);
    const expanded = (await (await fetch(`${url}/jobs?expand`)).json()) as Array<{ ID: string; Type: string; State: string }>;
    expect(expanded.slice(0, 2).map((j) => [j.ID, j.Type, j.State])).toEqual([
      [b, 'DicomWebStow', 'Success'],
      [a, 'DicomWebRetrieve', 'Success'],
    ]);
  });

  test('GET /jobs/{id} answers one job, and 404 naming an unknown ID', async () => {
    const id = jobs.submit('DicomWebRetrieve', { Server: 'pacs' }, async () => 'r').ID;
    await jobs.wait(id);
    const res = await fetch(`${url}/jobs/${id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ID: id, State: 'Success', Progress: 100, Result: 'r', Content: { Server: 'pacs' } });
    const missing = await fetch(`${url}/jobs/no-such-job`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ Message: 'unknown job: no-such-job', ErrorKind: 'not-found' });
    for (const action of ['cancel', 'resubmit']) {
      expect((await fetch(`${url}/jobs/no-such-job/${action}`, { method: 'POST' })).status).toBe(404);
    }
  });

  test('POST /jobs/{id}/cancel cancels a running job; a finished one answers 400 with a sentence', async () => {
    const id = jobs.submit('DicomWebRetrieve', {}, untilAborted).ID;
    const res = await fetch(`${url}/jobs/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await jobs.wait(id)).State).toBe('Cancelled');
    const again = await fetch(`${url}/jobs/${id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { Message: string }).Message).toBe(`job ${id} cannot be cancelled: it has already ended (Cancelled)`);
  });

  test('POST /jobs/{id}/resubmit runs a cancelled job again; a successful one answers 400', async () => {
    let runs = 0;
    const id = jobs.submit('DicomWebRetrieve', {}, async (ctx) => {
      runs++;
      if (runs === 1) return untilAborted(ctx);
      return 'second';
    }).ID;
    await fetch(`${url}/jobs/${id}/cancel`, { method: 'POST' });
    await jobs.wait(id);
    const res = await fetch(`${url}/jobs/${id}/resubmit`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect((await jobs.wait(id)).Result).toBe('second');
    const again = await fetch(`${url}/jobs/${id}/resubmit`, { method: 'POST' });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { Message: string }).Message).toMatch(/only a job that failed or was cancelled can run again, and it is Success/);
  });
});

/**
 * The jobs over HTTP, with Orthanc's routes and answers:
 *   GET  /jobs                 IDs, newest first (`?expand`: full descriptions)
 *   GET  /jobs/{id}            one job (main/jobs/types.ts JobInfo)
 *   POST /jobs/{id}/cancel     {} — 400 when the job has already ended
 *   POST /jobs/{id}/resubmit   {} — 400 unless the job failed or was cancelled
 * An unknown ID answers 404.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { JobInfo, Jobs } from './types.js';

type WithId = FastifyRequest<{ Params: { id: string } }>;

function known(jobs: Jobs, id: string): JobInfo {
  const info = jobs.get(id);
  if (!info) throw new AppError('not-found', `unknown job: ${id}`);
  return info;
}

export function registerJobRoutes(app: FastifyInstance, jobs: Jobs): void {
  app.get('/jobs', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const expand = query.expand !== undefined && query.expand !== 'false' && query.expand !== '0';
    const all = jobs.list();
    return expand ? all : all.map((job) => job.ID);
  });

  app.get('/jobs/:id', async (request: WithId) => known(jobs, request.params.id));

  app.post('/jobs/:id/cancel', async (request: WithId) => {
    const info = known(jobs, request.params.id);
    if (!jobs.cancel(info.ID)) {
      throw new AppError('bad-request', `job ${info.ID} cannot be cancelled: it has already ended (${info.State})`);
    }
    return {};
  });

  app.post('/jobs/:id/resubmit', async (request: WithId) => {
    const info = known(jobs, request.params.id);
    if (!jobs.resubmit(info.ID)) {
      throw new AppError('bad-request', `job ${info.ID} cannot be resubmitted: only a job that failed or was cancelled can run again, and it is ${info.State}`);
    }
    return {};
  });
}

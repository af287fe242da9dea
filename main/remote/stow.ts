/**
 * POST {Root}servers/{name}/stow — the Orthanc DICOMweb plugin's STOW-RS
 * client route: sends local resources to the remote server `name` with
 * STOW-RS (PS3.18 10.5) as a "DicomWebStowClient" job.
 *   body: { "Resources": [Orthanc IDs of patients, studies, series, instances],
 *           "HttpHeaders": {…}, "Synchronous": true }
 * Synchronous (the default, as in Orthanc): waits, then answers the result
 * (stowJob.ts StowResult: Orthanc's InstancesCount and NetworkSizeMB, plus
 * what the remote stored and refused, per instance); a failed job answers its
 * error. Otherwise answers { "ID", "Path": "/jobs/{ID}" } at once.
 * An unknown resource answers 404 naming it before anything is sent.
 */
import type { FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../errors.js';
import type { RemoteRoute } from './context.js';
import { stowLimits } from './stowBatches.js';
import { STOW_JOB_TYPE, stowWork } from './stowJob.js';
import { readJsonBody } from '../http/rawBody.js';
import { parseStowRequest } from './stowRequest.js';
import { resolveStowResources } from './stowResources.js';

function serverName(request: FastifyRequest): string {
  const name = (request.params as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name.length === 0) throw new AppError('bad-request', 'stow: no server name in the URL');
  return name;
}

export const postStow: RemoteRoute = async (request, _reply, ctx) => {
  const name = serverName(request);
  const what = `stow to '${name}'`;
  ctx.clientFor(name); // unknown server: 404; Pkcs11: 400 — before reading anything
  const info = ctx.remotes.info(name);
  const asked = parseStowRequest(await readJsonBody(request, what), what);
  const instances = resolveStowResources(ctx.store, asked.resources, what);
  const chunked = info?.ChunkedTransfers ?? false;

  const job = ctx.jobs.submit(
    STOW_JOB_TYPE,
    {
      Server: name,
      Resources: asked.resources,
      InstancesCount: instances.length,
      Size: instances.reduce((n, i) => n + i.size, 0),
      ChunkedTransfers: chunked,
      // Names only: values may be tokens.
      HttpHeaders: Object.keys(asked.httpHeaders),
    },
    stowWork({
      server: name,
      instances,
      httpHeaders: asked.httpHeaders,
      chunked,
      limits: stowLimits(ctx.config.DicomWeb.StowMaxInstances, ctx.config.DicomWeb.StowMaxSize),
      clientFor: (server) => ctx.clientFor(server),
    }),
  );
  if (!asked.synchronous) return { ID: job.ID, Path: `/jobs/${job.ID}` };

  const end = await ctx.jobs.wait(job.ID);
  if (end.State === 'Success') return end.Result;
  throw new AppError((end.ErrorKind as ErrorKind | undefined) ?? 'internal', end.ErrorDescription || `${what}: the job ended in state ${end.State}`, { job: end.ID });
};

/**
 * POST {Root}servers/{name}/retrieve — the Orthanc DICOMweb plugin's WADO-RS
 * client route: downloads studies, series or instances of the remote server
 * `name` into the local store as a "DicomWebRetrieve" job (retrieveJob.ts).
 *   body: { "Resources": [ { "Study", "Series"?, "Instance"? } ],   DICOM UIDs
 *           "HttpHeaders"?, "Arguments"? (or "HttpArguments"), "Synchronous"? }
 * Synchronous (the default, as Orthanc 1.10 + plugin 1.7 do): waits, then
 * answers Orthanc's { NetworkUsageMB, ReceivedInstancesCount } plus what the
 * seed promises and Orthanc does not deliver — "Instances", the local Orthanc
 * IDs of every instance downloaded — and "Failures" (parts the store refused);
 * a failed job answers its error (502 for the remote's faults, naming the
 * server, the URL and the status). Otherwise answers { "ID", "Path": "/jobs/{ID}" }.
 * An unknown server answers 404 before anything is asked of it.
 */
import type { FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../errors.js';
import type { RemoteContext, RemoteRoute } from './context.js';
import { DEFAULT_PARALLEL_SERIES, retrieveJobContent, retrieveWork } from './retrieveJob.js';
import { parseRetrieveRequest } from './retrieveRequest.js';
import { readJsonBody } from '../http/rawBody.js';

export const RETRIEVE_JOB_TYPE = 'DicomWebRetrieve';

function serverName(request: FastifyRequest): string {
  const name = (request.params as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name.length === 0) throw new AppError('bad-request', 'retrieve: no server name in the URL');
  return name;
}

/** WADO-RS requests at the same time per retrieve (DicomWeb.RetrieveParallelSeries). */
function parallelism(ctx: RemoteContext): number {
  return ctx.config.DicomWeb.RetrieveParallelSeries ?? DEFAULT_PARALLEL_SERIES;
}

export const postRetrieve: RemoteRoute = async (request, _reply, ctx) => {
  const name = serverName(request);
  const what = `retrieve from '${name}'`;
  ctx.clientFor(name); // unknown server: 404; Pkcs11: 400 — before reading anything
  const asked = parseRetrieveRequest(await readJsonBody(request, what));
  const job = ctx.jobs.submit(
    RETRIEVE_JOB_TYPE,
    retrieveJobContent(name, asked),
    retrieveWork({
      server: name,
      request: asked,
      store: ctx.store,
      clientFor: (server) => ctx.clientFor(server),
      parallel: parallelism(ctx),
    }),
  );
  if (!asked.synchronous) return { ID: job.ID, Path: `/jobs/${job.ID}` };

  const end = await ctx.jobs.wait(job.ID);
  if (end.State === 'Success') return end.Result;
  throw new AppError((end.ErrorKind as ErrorKind | undefined) ?? 'internal', end.ErrorDescription || `${what}: the job ended in state ${end.State}`, { job: end.ID });
};

/**
 * Orthanc REST: one DICOM file in, one file out.
 *   POST /instances            body: a Part-10 file (any Content-Type but JSON) →
 *                              { ID, ParentPatient, ParentSeries, ParentStudy, Path, Status }
 *                              Status "Success" or "AlreadyStored", as Orthanc answers.
 *   GET  /instances/{id}/file  the stored file, application/dicom, streamed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../errors.js';
import type { DicomWebContext } from '../dicomweb/context.js';
import { readBodyBuffer } from '../http/rawBody.js';
import { sendStoredFile } from '../http/sendFile.js';
import { idParam } from './levels.js';

/** Largest single file accepted by POST /instances (the store takes whole buffers). */
const MAX_INSTANCE_BYTES = 2 * 1024 ** 3;

export async function uploadInstance(request: FastifyRequest, _reply: FastifyReply, ctx: DicomWebContext) {
  const bytes = await readBodyBuffer(request, 'POST /instances', MAX_INSTANCE_BYTES);
  if (bytes.length === 0) throw new AppError('bad-dicom', 'POST /instances: the body is empty, expected a DICOM file');
  const [outcome] = await ctx.store.storeInstances([bytes]);
  if (!outcome.ok) {
    const kind = outcome.reason === 'io' ? 'internal' : 'bad-dicom';
    throw new AppError(kind, `POST /instances: ${outcome.message}`);
  }
  const { ids } = outcome;
  return {
    ID: ids.instance,
    ParentPatient: ids.patient,
    ParentSeries: ids.series,
    ParentStudy: ids.study,
    Path: `/instances/${ids.instance}`,
    Status: outcome.status,
  };
}

export async function instanceFile(request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext) {
  const id = idParam(request, 'instance');
  const instance = ctx.store.getInstance(id);
  if (!instance) throw notFound(`unknown instance ${id}`);
  return sendStoredFile(reply, instance);
}

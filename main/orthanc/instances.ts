/**
 * Orthanc REST: one DICOM file in, one file out.
 *   POST /instances            body: a Part-10 file (any Content-Type but JSON) →
 *                              { ID, ParentPatient, ParentSeries, ParentStudy, Path, Status }
 *                              Status "Success" or "AlreadyStored", as Orthanc answers.
 *                              A ZIP archive body (recognised by its signature, as
 *                              Orthanc does) → an array with one such object per
 *                              DICOM entry stored; non-DICOM entries are skipped as
 *                              Orthanc skips them. Entries that fail are listed too,
 *                              as { Entry, Status: "Failure", Message } (Orthanc has
 *                              no such entry; nothing is dropped silently here).
 *   GET  /instances/{id}/file  the stored file, application/dicom, streamed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../errors.js';
import type { DicomWebContext } from '../dicomweb/context.js';
import { peekBody, readBodyBuffer, writeBodyToFile } from '../http/rawBody.js';
import { sendStoredFile } from '../http/sendFile.js';
import { TEMP_FOLDER } from '../store/files.js';
import { SNIFF_BYTES, sniff } from '../store/sniffDicom.js';
import type { ResourceIds } from '../store/types.js';
import { zipItems } from '../store/zipEntries.js';
import { idParam } from './levels.js';

function uploaded(ids: ResourceIds, status: string) {
  return {
    ID: ids.instance,
    ParentPatient: ids.patient,
    ParentSeries: ids.series,
    ParentStudy: ids.study,
    Path: `/instances/${ids.instance}`,
    Status: status,
  };
}

/**
 * A ZIP body: streamed to the store's temp folder (cleared at every start), never
 * held in memory (a DVD's archive is several GB), so that its entries can be read
 * one at a time (main/store/zipEntries.ts); removed at the end.
 */
async function uploadZip(request: FastifyRequest, ctx: DicomWebContext, whole: Buffer | undefined) {
  const folder = join(ctx.store.storageDirectory, TEMP_FOLDER);
  await mkdir(folder, { recursive: true });
  const archive = join(folder, `upload-${randomUUID()}.zip`);
  const answer: Array<Record<string, string>> = [];
  try {
    if (whole) await writeFile(archive, whole, { flag: 'wx' });
    else await writeBodyToFile(request, 'POST /instances', archive);
    for await (const item of zipItems(archive)) {
      const entry = item.path.slice(item.path.indexOf('!') + 1);
      if (item.kind === 'failed') answer.push({ Entry: entry, Status: 'Failure', Message: item.message });
      if (item.kind !== 'dicom') continue;
      const [outcome] = await ctx.store.storeInstances([item.bytes]);
      if (outcome.ok) answer.push(uploaded(outcome.ids, outcome.status));
      else answer.push({ Entry: entry, Status: 'Failure', Message: outcome.message });
    }
  } finally {
    await rm(archive, { force: true });
  }
  return answer;
}

/** Largest single DICOM file accepted by POST /instances (the store takes whole buffers; a ZIP has no limit). */
const MAX_INSTANCE_BYTES = 2 * 1024 ** 3;

export async function uploadInstance(request: FastifyRequest, _reply: FastifyReply, ctx: DicomWebContext) {
  const { head, whole } = await peekBody(request, 'POST /instances', SNIFF_BYTES);
  if (sniff(head.subarray(0, SNIFF_BYTES)) === 'zip') return uploadZip(request, ctx, whole);
  const bytes = whole ?? (await readBodyBuffer(request, 'POST /instances', MAX_INSTANCE_BYTES));
  if (bytes.length === 0) throw new AppError('bad-dicom', 'POST /instances: the body is empty, expected a DICOM file');
  const [outcome] = await ctx.store.storeInstances([bytes]);
  if (!outcome.ok) {
    const kind = outcome.reason === 'io' ? 'internal' : 'bad-dicom';
    throw new AppError(kind, `POST /instances: ${outcome.message}`);
  }
  return uploaded(outcome.ids, outcome.status);
}

export async function instanceFile(request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext) {
  const id = idParam(request, 'instance');
  const instance = ctx.store.getInstance(id);
  if (!instance) throw notFound(`unknown instance ${id}`);
  return sendStoredFile(reply, instance);
}

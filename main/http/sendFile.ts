/**
 * Streams a stored Part-10 file as the answer (WADO-URI, GET /instances/{id}/file):
 * the file is opened before any header is sent, so a missing file is a clean
 * error ('store-corrupt') rather than a cut answer; then it is piped, never
 * read whole.
 */
import { open } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';
import { AppError } from '../errors.js';
import type { StoredInstance } from '../store/types.js';

export async function sendStoredFile(reply: FastifyReply, instance: StoredInstance, contentType = 'application/dicom'): Promise<FastifyReply> {
  let handle;
  try {
    handle = await open(instance.path, 'r');
  } catch (err) {
    throw new AppError(
      'store-corrupt',
      `the file of instance ${instance.sopInstanceUID} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the index and the storage directory disagree`,
    );
  }
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  return reply.type(contentType).header('Content-Length', size).send(handle.createReadStream());
}

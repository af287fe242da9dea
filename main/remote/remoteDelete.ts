/**
 * POST {Root}servers/{name}/delete — the Orthanc DICOMweb plugin's route to
 * delete a study, series or instance on a remote server that accepts DELETE
 * on its WADO-RS URLs (servers with "HasDelete": true; Orthanc, Google's
 * Healthcare API). Not in PS3.18; as Orthanc does it:
 *   body: { "Level": "Study" | "Series" | "Instance", "StudyInstanceUID",
 *           "SeriesInstanceUID"?, "SOPInstanceUID"? }  →  DELETE …/studies/{s}[/series/{se}[/instances/{i}]]
 * Answers {} once the remote answered 2xx.
 */
import { AppError } from '../errors.js';
import { parseUid } from '../http/validate.js';
import type { RemoteRoute } from './context.js';
import { rephrase } from './httpClient.js';
import { readJsonBody } from '../http/rawBody.js';

const LEVELS: Record<string, number> = { study: 0, series: 1, instance: 2 };

export const postDelete: RemoteRoute = async (request, _reply, ctx) => {
  const name = (request.params as { name: string }).name;
  const what = `delete on '${name}'`;
  const client = ctx.clientFor(name);
  if (!ctx.remotes.info(name)?.HasDelete) {
    throw new AppError('bad-request', `${what}: the server does not accept deletions (set "HasDelete": true in its configuration)`);
  }
  const body = await readJsonBody(request, what);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AppError('bad-request', `${what}: the body must be a JSON object with "Level" and "StudyInstanceUID"`);
  const b = body as Record<string, unknown>;
  const level = typeof b.Level === 'string' ? LEVELS[b.Level.toLowerCase()] : undefined;
  if (level === undefined) throw new AppError('bad-request', `${what}: "Level" must be "Study", "Series" or "Instance"`, { key: 'Level' });
  let path = `studies/${parseUid(b.StudyInstanceUID, `${what}: StudyInstanceUID`)}`;
  if (level >= 1) path += `/series/${parseUid(b.SeriesInstanceUID, `${what}: SeriesInstanceUID`)}`;
  if (level >= 2) path += `/instances/${parseUid(b.SOPInstanceUID, `${what}: SOPInstanceUID`)}`;
  try {
    await client.fetchBuffer({ method: 'DELETE', path });
  } catch (err) {
    throw rephrase(err, what);
  }
  return {};
};

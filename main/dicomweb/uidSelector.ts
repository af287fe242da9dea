/**
 * The UIDs of a WADO-RS / STOW-RS target resource (PS3.18 10.4.1 and 10.5.1:
 * {study}, {study}/series/{series}, …/instances/{instance}), validated before
 * they reach the store, and described for messages.
 */
import type { FastifyRequest } from 'fastify';
import { parseUid } from '../http/validate.js';
import type { UidSelector } from '../store/types.js';

/** The selector named by the route parameters `study`, `series`, `instance` (400 for anything but UIDs). */
export function uidSelectorOf(request: FastifyRequest): UidSelector {
  const params = request.params as Record<string, string | undefined>;
  const selector: UidSelector = { study: parseUid(params.study, 'StudyInstanceUID in the URL') };
  if (params.series !== undefined) selector.series = parseUid(params.series, 'SeriesInstanceUID in the URL');
  if (params.instance !== undefined) selector.instance = parseUid(params.instance, 'SOPInstanceUID in the URL');
  return selector;
}

/** "study 1.2", "series 1.3 of study 1.2", "instance 1.4 of series 1.3 of study 1.2". */
export function describeSelector(selector: UidSelector): string {
  let text = `study ${selector.study}`;
  if (selector.series !== undefined) text = `series ${selector.series} of ${text}`;
  if (selector.instance !== undefined) text = `instance ${selector.instance} of ${text}`;
  return text;
}

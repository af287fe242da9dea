/**
 * The four resource levels of Orthanc's REST API and their URL segments.
 */
import type { FastifyRequest } from 'fastify';
import type { Level } from '../store/types.js';
import { parseOrthancId } from '../http/validate.js';

export const LEVEL_OF_SEGMENT = {
  patients: 'patient',
  studies: 'study',
  series: 'series',
  instances: 'instance',
} as const satisfies Record<string, Level>;

export type LevelSegment = keyof typeof LEVEL_OF_SEGMENT;

/** The validated Orthanc ID in the `:id` path parameter. */
export function idParam(request: FastifyRequest, level: Level): string {
  return parseOrthancId((request.params as { id?: unknown }).id, `${level} identifier`);
}

/**
 * Orthanc REST: listing, reading and deleting resources (patients, studies,
 * series, instances) as Orthanc 1.10 answers them:
 *   GET    /{level}?expand&limit=N&since=N   IDs, or full resources with expand
 *   GET    /{level}/{id}                     one resource
 *   DELETE /{level}/{id}                     { RemainingAncestor }
 */
import type { FastifyRequest } from 'fastify';
import { AppError, notFound } from '../errors.js';
import type { DicomWebContext } from '../dicomweb/context.js';
import type { Level } from '../store/types.js';
import { idParam } from './levels.js';

type Query = Record<string, string | string[] | undefined>;

function nonNegativeInteger(query: Query, name: string): number | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new AppError('bad-request', `parameter '${name}' must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** `?expand` (any value but "false" and "0", like Orthanc's presence test). */
function wantsExpand(query: Query): boolean {
  const value = query.expand;
  if (value === undefined) return false;
  return !(typeof value === 'string' && (value === 'false' || value === '0'));
}

export function listResources(level: Level) {
  return async (request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) => {
    const query = request.query as Query;
    const limit = nonNegativeInteger(query, 'limit');
    const since = nonNegativeInteger(query, 'since');
    const ids = ctx.store.listResources(level, { limit, since });
    if (!wantsExpand(query)) return ids;
    // A resource deleted between the listing and now is left out.
    return ids.map((id) => ctx.store.getResource(level, id)).filter((r) => r !== undefined);
  };
}

export function getResource(level: Level) {
  return async (request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) => {
    const id = idParam(request, level);
    const resource = ctx.store.getResource(level, id);
    if (!resource) throw notFound(`unknown ${level} ${id}`);
    return resource;
  };
}

export function deleteResource(level: Level) {
  return async (request: FastifyRequest, _reply: unknown, ctx: DicomWebContext) => {
    const id = idParam(request, level);
    const { deleted, remainingAncestor } = ctx.store.deleteResource(level, id);
    if (!deleted) throw notFound(`unknown ${level} ${id}`);
    return { RemainingAncestor: remainingAncestor };
  };
}

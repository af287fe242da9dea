/**
 * The Orthanc REST subset, as one table: the routes a DICOMweb workstation's
 * users and tools expect from an Orthanc (upload, browse, download, delete,
 * system, statistics). Identifiers are validated (parseOrthancId) before the
 * store sees them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DicomWebContext } from '../dicomweb/context.js';
import { LEVEL_OF_SEGMENT, type LevelSegment } from './levels.js';
import { deleteResource, getResource, listResources } from './resources.js';
import { instanceFile, uploadInstance } from './instances.js';
import { listPlugins, statistics, systemInfo } from './system.js';

type Handler = (request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext) => Promise<unknown>;
type Route = [method: 'GET' | 'POST' | 'DELETE', url: string, handler: Handler];

export function orthancRoutes(): Route[] {
  const routes: Route[] = [
    ['GET', '/system', systemInfo],
    ['GET', '/statistics', statistics],
    ['GET', '/plugins', listPlugins],
    ['POST', '/instances', uploadInstance],
    ['GET', '/instances/:id/file', instanceFile],
  ];
  for (const segment of Object.keys(LEVEL_OF_SEGMENT) as LevelSegment[]) {
    const level = LEVEL_OF_SEGMENT[segment];
    routes.push(
      ['GET', `/${segment}`, listResources(level)],
      ['GET', `/${segment}/:id`, getResource(level)],
      ['DELETE', `/${segment}/:id`, deleteResource(level)],
    );
  }
  return routes;
}

export function registerOrthancRoutes(app: FastifyInstance, ctx: DicomWebContext): void {
  for (const [method, url, handler] of orthancRoutes()) {
    app.route({ method, url, handler: (request, reply) => handler(request, reply, ctx) });
  }
}

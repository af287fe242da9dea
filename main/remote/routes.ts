/**
 * The remote-client routes table, under DicomWeb.Root, with the Orthanc
 * DICOMweb plugin's paths (its "servers" routes): the registry of remote
 * servers, HTTP GET (QIDO-RS, WADO-RS) through them, retrieve (WADO-RS into
 * the local store) and send (STOW-RS) as jobs, delete.
 */
import type { FastifyInstance } from 'fastify';
import type { RemoteContext, RemoteRoute } from './context.js';
import { deleteServer, listServers, putServer, serverOperations } from './serverRoutes.js';
import { postGet, postQido } from './getAndQido.js';
import { postDelete } from './remoteDelete.js';
import { postRetrieve } from './retrieve.js';
import { postStow } from './stow.js';

type Route = [method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, route: RemoteRoute];

const SERVER = 'servers/:name';

export const remoteRoutes: Route[] = [
  ['GET', 'servers', listServers],
  ['GET', SERVER, serverOperations],
  ['PUT', SERVER, putServer],
  ['DELETE', SERVER, deleteServer],
  ['POST', `${SERVER}/get`, postGet],
  ['POST', `${SERVER}/qido`, postQido],
  ['POST', `${SERVER}/retrieve`, postRetrieve],
  ['POST', `${SERVER}/stow`, postStow],
  ['POST', `${SERVER}/delete`, postDelete],
];

/** Registers the table under `root` (DicomWeb.Root, with leading and trailing '/'). */
export function registerRemoteRoutes(app: FastifyInstance, root: string, ctx: RemoteContext): void {
  for (const [method, path, route] of remoteRoutes) {
    app.route({ method, url: root + path, handler: (request, reply) => route(request, reply, ctx) });
  }
}

/**
 * The DICOMweb routes table (PS3.18): every route under DicomWeb.Root and the
 * transaction that serves it. One module per transaction.
 */
import type { FastifyInstance } from 'fastify';
import type { DicomWebContext, Transaction } from './context.js';
import { searchForStudies, searchForSeries, searchForInstances } from './search.js';
import { retrieveInstances } from './retrieveInstances.js';
import { retrieveMetadata } from './retrieveMetadata.js';
import { retrieveFrames } from './retrieveFrames.js';
import { retrieveBulkdata } from './retrieveBulkdata.js';
import { storeInstances } from './storeInstances.js';
import { retrieveRendered } from './retrieveRendered.js';
import { retrieveThumbnail } from './retrieveThumbnail.js';

type Route = [method: 'GET' | 'POST', path: string, transaction: Transaction];

const S = 'studies/:study';
const SE = `${S}/series/:series`;
const I = `${SE}/instances/:instance`;

export const dicomWebRoutes: Route[] = [
  // QIDO-RS (PS3.18 10.6)
  ['GET', 'studies', searchForStudies],
  ['GET', 'series', searchForSeries],
  ['GET', 'instances', searchForInstances],
  ['GET', `${S}/series`, searchForSeries],
  ['GET', `${S}/instances`, searchForInstances],
  ['GET', `${SE}/instances`, searchForInstances],
  // WADO-RS (PS3.18 10.4)
  ['GET', S, retrieveInstances],
  ['GET', SE, retrieveInstances],
  ['GET', I, retrieveInstances],
  ['GET', `${S}/metadata`, retrieveMetadata],
  ['GET', `${SE}/metadata`, retrieveMetadata],
  ['GET', `${I}/metadata`, retrieveMetadata],
  ['GET', `${I}/frames/:frames`, retrieveFrames],
  ['GET', `${I}/bulk/*`, retrieveBulkdata],
  // Rendered and thumbnail resources (PS3.18 10.4.1.1.3, 10.4.1.1.5)
  ['GET', `${S}/rendered`, retrieveRendered],
  ['GET', `${SE}/rendered`, retrieveRendered],
  ['GET', `${I}/rendered`, retrieveRendered],
  ['GET', `${I}/frames/:frames/rendered`, retrieveRendered],
  ['GET', `${S}/thumbnail`, retrieveThumbnail],
  ['GET', `${SE}/thumbnail`, retrieveThumbnail],
  ['GET', `${I}/thumbnail`, retrieveThumbnail],
  ['GET', `${I}/frames/:frames/thumbnail`, retrieveThumbnail],
  // STOW-RS (PS3.18 10.5)
  ['POST', 'studies', storeInstances],
  ['POST', S, storeInstances],
];

/** Registers the table under `root` (DicomWeb.Root, with leading and trailing '/'). */
export function registerDicomWebRoutes(app: FastifyInstance, root: string, ctx: DicomWebContext): void {
  for (const [method, path, transaction] of dicomWebRoutes) {
    app.route({ method, url: root + path, handler: (request, reply) => transaction(request, reply, ctx) });
  }
}

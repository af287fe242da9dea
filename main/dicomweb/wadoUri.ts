/**
 * WADO-URI (PS3.18 chapter 9, "URI Service"), at DicomWeb.WadoRoot:
 *   GET {WadoRoot}?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…&contentType=application/dicom
 * requestType (must be "WADO"), studyUID and objectUID are required; seriesUID,
 * when given, must be the instance's series (else 404). contentType
 * application/dicom (or application/*, * / *) answers the stored file,
 * streamed; transferSyntax, when given, must be the stored one (no
 * transcoding yet). Rendered answers — image/jpeg is the standard's default
 * when contentType is absent — need the pixel pipeline: 406 until it exists.
 * Registered by startEngine, not in the DICOMweb routes table (own root).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, badRequest, notFound } from '../errors.js';
import { parseUid } from '../http/validate.js';
import { sendStoredFile } from '../http/sendFile.js';
import type { DicomWebContext } from './context.js';

type Query = Record<string, string | string[] | undefined>;

/** The query of a WADO-URI request, validated. */
export interface WadoUriRequest {
  studyUID: string;
  seriesUID?: string;
  objectUID: string;
  /** Media types of contentType, in the order given, parameters (;q=…) dropped; ['image/jpeg'] when absent. */
  contentTypes: string[];
  contentTypeGiven: boolean;
  transferSyntax?: string;
  anonymize: boolean;
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badRequest(`WADO-URI parameter '${name}' must be given once, got ${value.length} values`);
  return value;
}

export function parseWadoUriQuery(query: Query): WadoUriRequest {
  const requestType = single(query, 'requestType');
  if (requestType !== 'WADO') {
    throw badRequest(
      requestType === undefined
        ? "WADO-URI parameter 'requestType' is required and must be 'WADO'"
        : `WADO-URI parameter 'requestType' must be 'WADO', got ${JSON.stringify(requestType.slice(0, 40))}`,
    );
  }
  const required = (name: string) => {
    const value = single(query, name);
    if (value === undefined) throw badRequest(`WADO-URI parameter '${name}' is required (PS3.18 9.1.2)`);
    return parseUid(value, `WADO-URI parameter '${name}'`);
  };
  const studyUID = required('studyUID');
  const objectUID = required('objectUID');
  const seriesText = single(query, 'seriesUID');
  const seriesUID = seriesText === undefined ? undefined : parseUid(seriesText, "WADO-URI parameter 'seriesUID'");

  const contentTypeText = single(query, 'contentType');
  const contentTypes =
    contentTypeText === undefined
      ? ['image/jpeg']
      : contentTypeText
          .split(',')
          .map((t) => t.split(';')[0].trim().toLowerCase())
          .filter((t) => t !== '');
  if (contentTypes.length === 0) throw badRequest("WADO-URI parameter 'contentType' is empty");

  const ts = single(query, 'transferSyntax');
  const transferSyntax = ts === undefined ? undefined : parseUid(ts, "WADO-URI parameter 'transferSyntax'");
  const anonymize = single(query, 'anonymize');
  if (anonymize !== undefined && anonymize !== 'yes') {
    throw badRequest(`WADO-URI parameter 'anonymize' must be 'yes' when given, got ${JSON.stringify(anonymize.slice(0, 40))}`);
  }
  return { studyUID, seriesUID, objectUID, contentTypes, contentTypeGiven: contentTypeText !== undefined, transferSyntax, anonymize: anonymize === 'yes' };
}

const DICOM_TYPES = new Set(['application/dicom', 'application/*', '*/*']);
const RENDERED = /^(image|video)\//;

export async function retrieveWadoUri(request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext) {
  const wado = parseWadoUriQuery(request.query as Query);
  if (!wado.contentTypes.some((t) => DICOM_TYPES.has(t))) {
    const asked = wado.contentTypes.join(', ');
    const shown = wado.contentTypeGiven ? `contentType ${asked}` : `contentType ${asked} (the default when contentType is absent)`;
    throw new AppError(
      'not-acceptable',
      wado.contentTypes.some((t) => RENDERED.test(t))
        ? `WADO-URI: rendered images are not available yet: ${shown}; ask for contentType=application/dicom`
        : `WADO-URI: ${shown} is not available; this server answers contentType=application/dicom`,
    );
  }
  if (wado.anonymize) throw new AppError('not-acceptable', 'WADO-URI: anonymize=yes is not supported: this server does not de-identify');

  const found = ctx.store.findInstances({ study: wado.studyUID, series: wado.seriesUID, instance: wado.objectUID });
  const instance = found[0];
  if (!instance) {
    throw notFound(
      `WADO-URI: no instance ${wado.objectUID} in study ${wado.studyUID}${wado.seriesUID ? `, series ${wado.seriesUID}` : ''}`,
    );
  }
  if (wado.transferSyntax && wado.transferSyntax !== instance.transferSyntaxUID) {
    throw new AppError(
      'not-acceptable',
      `WADO-URI: transferSyntax ${wado.transferSyntax} asked but the instance is stored as ${instance.transferSyntaxUID}, and transcoding is not available yet`,
    );
  }
  return sendStoredFile(reply, instance, 'application/dicom');
}

/** WADO-URI at `wadoRoot` (DicomWeb.WadoRoot: leading '/', no trailing '/'). */
export function registerWadoUri(app: FastifyInstance, wadoRoot: string, ctx: DicomWebContext): void {
  app.get(wadoRoot, (request, reply) => retrieveWadoUri(request, reply, ctx));
}

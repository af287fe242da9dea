/**
 * WADO-URI (PS3.18 chapter 9, "URI Service"), at DicomWeb.WadoRoot:
 *   GET {WadoRoot}?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…&contentType=application/dicom
 * requestType (must be "WADO"), studyUID and objectUID are required; seriesUID,
 * when given, must be the instance's series (else 404). contentType
 * application/dicom (or application/*, * / *) answers the stored file,
 * streamed; transferSyntax, when given, must be the stored one or
 * 1.2.840.10008.1.2.1 (compressed and deflated instances transcoded,
 * main/pixels/transcodeToNative.ts). contentType image/jpeg (the standard's
 * default when contentType is absent) or image/png answers the rendered frame
 * (main/pixels/renderInstance.ts) with rows, columns (fit inside, aspect
 * kept), windowCenter/windowWidth, frameNumber and imageQuality (PS3.18
 * 9.1.2.1, parsed in renderedQuery.ts). The first content type listed that
 * can be produced is answered (q-values are not weighed).
 * Registered by startEngine, not in the DICOMweb routes table (own root).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, badRequest, notFound } from '../errors.js';
import { parseUid } from '../http/validate.js';
import { sendStoredFile } from '../http/sendFile.js';
import { logOf, type DicomWebContext } from './context.js';
import { loggedChunks } from './retrieveTranscoded.js';
import { canTranscodeToNative, transcodeToNative } from '../pixels/transcodeToNative.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transferSyntaxes.js';
import type { RenderedMediaType } from '../pixels/render.js';
import { renderInstanceFrame } from '../pixels/renderInstance.js';
import { parseWadoUriImageQuery } from './renderedQuery.js';

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
const IMAGE_TYPES: Record<string, RenderedMediaType> = { 'image/jpeg': 'image/jpeg', 'image/*': 'image/jpeg', 'image/png': 'image/png' };

/** The first content type given that can be produced: the stored file, or a rendered image. */
function chosenContentType(wado: WadoUriRequest): 'application/dicom' | RenderedMediaType {
  for (const type of wado.contentTypes) {
    if (DICOM_TYPES.has(type)) return 'application/dicom';
    if (IMAGE_TYPES[type]) return IMAGE_TYPES[type]!;
  }
  const asked = wado.contentTypes.join(', ');
  throw new AppError(
    'not-acceptable',
    `WADO-URI: contentType ${asked} is not available; this server answers contentType=image/jpeg (the default), image/png or application/dicom`,
  );
}

export async function retrieveWadoUri(request: FastifyRequest, reply: FastifyReply, ctx: DicomWebContext) {
  const query = request.query as Query;
  const wado = parseWadoUriQuery(query);
  const contentType = chosenContentType(wado);
  if (wado.anonymize) throw new AppError('not-acceptable', 'WADO-URI: anonymize=yes is not supported: this server does not de-identify');
  const image = contentType === 'application/dicom' ? undefined : parseWadoUriImageQuery(query, contentType);

  const found = ctx.store.findInstances({ study: wado.studyUID, series: wado.seriesUID, instance: wado.objectUID });
  const instance = found[0];
  if (!instance) {
    throw notFound(
      `WADO-URI: no instance ${wado.objectUID} in study ${wado.studyUID}${wado.seriesUID ? `, series ${wado.seriesUID}` : ''}`,
    );
  }
  if (image) {
    if (!instance.pixel) {
      const shown = wado.contentTypeGiven ? `contentType ${contentType}` : `contentType ${contentType} (the default when contentType is absent)`;
      throw new AppError(
        'not-acceptable',
        `WADO-URI: ${shown} asked but instance ${instance.sopInstanceUID} (SOP Class ${instance.sopClassUID}) has no pixel data; ask for contentType=application/dicom`,
      );
    }
    const bytes = await renderInstanceFrame(ctx.store, instance, image.frame, image.params);
    reply.header('Content-Type', contentType);
    return reply.send(bytes);
  }
  if (wado.transferSyntax && wado.transferSyntax !== instance.transferSyntaxUID) {
    // Transcoding to Explicit VR Little Endian only (main/pixels/transcodeToNative.ts).
    if (wado.transferSyntax !== EXPLICIT_VR_LITTLE_ENDIAN || !canTranscodeToNative(instance.transferSyntaxUID)) {
      throw new AppError(
        'not-acceptable',
        `WADO-URI: transferSyntax ${wado.transferSyntax} asked but the instance is stored as ${instance.transferSyntaxUID}; it can be sent as stored${canTranscodeToNative(instance.transferSyntaxUID) ? ` or transcoded to ${EXPLICIT_VR_LITTLE_ENDIAN}` : ''}`,
      );
    }
    const transcoded = await transcodeToNative(instance);
    reply.raw.once('close', () => void transcoded.close());
    const body = loggedChunks(transcoded.chunks, logOf(ctx), `WADO-URI: instance ${instance.sopInstanceUID} as ${EXPLICIT_VR_LITTLE_ENDIAN}`);
    return reply.type('application/dicom').header('Content-Length', transcoded.length).send(Readable.from(body, { objectMode: false }));
  }
  return sendStoredFile(reply, instance, 'application/dicom');
}

/** WADO-URI at `wadoRoot` (DicomWeb.WadoRoot: leading '/', no trailing '/'). */
export function registerWadoUri(app: FastifyInstance, wadoRoot: string, ctx: DicomWebContext): void {
  app.get(wadoRoot, (request, reply) => retrieveWadoUri(request, reply, ctx));
}

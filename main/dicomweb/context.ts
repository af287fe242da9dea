/**
 * What every DICOMweb transaction handler receives, and the URL helpers they share.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import type { Store } from '../store/types.js';

export interface DicomWebContext {
  store: Store;
  config: Config;
  /** Where failures that can no longer be answered (a streamed answer cut short) are written; stderr when absent. */
  log?: (line: string) => void;
}

/** ctx.log, or stderr. */
export function logOf(ctx: DicomWebContext): (line: string) => void {
  return ctx.log ?? ((line) => process.stderr.write(`${line}\n`));
}

/** A PS3.18 transaction bound to a route; it answers through `reply` (streams allowed). */
export type Transaction = (
  request: FastifyRequest,
  reply: FastifyReply,
  ctx: DicomWebContext,
) => Promise<unknown>;

/**
 * Absolute base URL of the DICOMweb API without trailing slash, e.g.
 * `http://localhost:8042/dicom-web`. Built from DicomWeb.Host/Ssl when Host is
 * set (as Orthanc does), otherwise from the request's Host header.
 */
export function dicomWebBaseUrl(request: FastifyRequest, config: Config): string {
  const scheme = config.DicomWeb.Host ? (config.DicomWeb.Ssl ? 'https' : 'http') : request.protocol;
  const host = config.DicomWeb.Host ?? request.headers.host ?? `localhost:${config.HttpPort}`;
  return `${scheme}://${host}${config.DicomWeb.Root.replace(/\/$/, '')}`;
}

export function studyUrl(base: string, study: string): string {
  return `${base}/studies/${study}`;
}

export function seriesUrl(base: string, study: string, series: string): string {
  return `${base}/studies/${study}/series/${series}`;
}

export function instanceUrl(base: string, study: string, series: string, instance: string): string {
  return `${base}/studies/${study}/series/${series}/instances/${instance}`;
}

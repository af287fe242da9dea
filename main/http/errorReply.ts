/**
 * One error answer for the whole server, shaped like Orthanc's
 * ({ HttpError, HttpStatus, Message, Method, Uri }) plus our ErrorKind:
 * AppErrors map to a status through httpStatusOfKind; fastify's own errors
 * (bad JSON, unknown route, bad URL encoding) are mapped the same way.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind, httpStatusOfKind } from '../errors.js';

export interface ErrorBody {
  HttpError: string;
  HttpStatus: number;
  Message: string;
  Method: string;
  Uri: string;
  ErrorKind: ErrorKind;
}

const KIND_OF_STATUS: Record<number, ErrorKind> = {
  400: 'bad-request',
  401: 'unauthorized',
  404: 'not-found',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

/** Clearer messages for fastify's own error codes. */
const FASTIFY_MESSAGES: Record<string, (err: FastifyError) => string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => 'the request body is not valid JSON (Content-Type is application/json)',
  FST_ERR_CTP_EMPTY_JSON_BODY: () => 'the request body is empty but Content-Type is application/json',
  FST_ERR_CTP_BODY_TOO_LARGE: () => 'the request body is larger than this route accepts',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (err) => `unsupported Content-Type: ${err.message}`,
  FST_ERR_BAD_URL: (err) => `the URL is not valid (bad percent-encoding): ${err.message}`,
};

/** The request path without its query string (never echo query values in errors). */
export function requestPath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function errorBody(status: number, kind: ErrorKind, message: string, method: string, url: string): ErrorBody {
  return {
    HttpError: STATUS_CODES[status] ?? 'Error',
    HttpStatus: status,
    Message: message,
    Method: method,
    Uri: requestPath(url),
    ErrorKind: kind,
  };
}

/** Status, kind and message of any thrown value. */
export function classifyError(err: unknown): { status: number; kind: ErrorKind; message: string } {
  if (err instanceof AppError) return { status: httpStatusOfKind[err.kind], kind: err.kind, message: err.message };
  const fe = err as Partial<FastifyError> & { status?: number };
  const status = fe?.statusCode ?? fe?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const rewrite = fe.code ? FASTIFY_MESSAGES[fe.code] : undefined;
    const message = rewrite ? rewrite(fe as FastifyError) : String(fe.message ?? STATUS_CODES[status]);
    return { status, kind: KIND_OF_STATUS[status] ?? 'bad-request', message };
  }
  return { status: 500, kind: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export function makeErrorHandler(log?: (line: string) => void) {
  return function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const { status, kind, message } = classifyError(err);
    if (status >= 500 && log) {
      log(`error ${request.method} ${requestPath(request.url)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
    if (reply.raw.headersSent) {
      // A streamed answer failed half-way: the only honest signal left is to cut the connection.
      reply.raw.destroy(err instanceof Error ? err : undefined);
      return;
    }
    reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, kind, message, request.method, request.url));
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const path = requestPath(request.url);
  reply
    .code(404)
    .type('application/json; charset=utf-8')
    .send(errorBody(404, 'not-found', `unknown resource: no route for ${request.method} ${path}`, request.method, request.url));
}

/**
 * POST {Root}servers/{name}/get and /qido — the Orthanc DICOMweb plugin's
 * routes for an HTTP GET on a remote server (QIDO-RS PS3.18 10.6, WADO-RS
 * 10.4, or anything under its Url):
 *   body: { "Uri": "/studies", "HttpHeaders"?: { name: value },
 *           "Arguments"?: { key: value } }   ("HttpArguments" is read too)
 * Arguments become the query string (remoteQuery.ts: Orthanc-friendly
 * encoding); "Uri" may not carry one, as in Orthanc.
 *
 * /get passes the remote's answer back as it comes: status, Content-Type
 * (application/octet-stream when none), body streamed. A remote error status
 * is passed back too, with our JSON error body naming the server, the URL and
 * the remote's explanation (ErrorKind "remote-status", RemoteStatus).
 * /qido asks for DICOM JSON (Accept: application/dicom+json) and answers it
 * (204 No Content → []); a remote error status or an answer that is not JSON
 * answers 502 with the same kind of message.
 * Failing to reach the server answers 502 ("remote-unreachable"). Our client
 * going away aborts the remote request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { errorBody } from '../http/errorReply.js';
import type { RemoteContext, RemoteRoute } from './context.js';
import { rephrase, remoteStatusError } from './httpClient.js';
import { relativeRemotePath } from './remoteQuery.js';
import { readJsonBody } from '../http/rawBody.js';
import type { RemoteResponse } from './types.js';

export interface GetRequest {
  path: string;
  headers: Record<string, string>;
  query: Record<string, string>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(value: unknown, key: string, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new AppError('bad-request', `${what}: "${key}" must be an object of strings`, { key });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else throw new AppError('bad-request', `${what}: "${key}.${k}" must be a string`, { key: `${key}.${k}` });
  }
  return out;
}

/** Validates the body of /get and /qido. */
export function parseGetRequest(body: unknown, what: string): GetRequest {
  if (!isPlainObject(body)) throw new AppError('bad-request', `${what}: the body must be a JSON object with the field "Uri"`);
  if (typeof body.Uri !== 'string') {
    throw new AppError('bad-request', `${what}: the body must have a field "Uri" (a string: the path under the server's Url, such as "/studies")`, { key: 'Uri' });
  }
  const path = relativeRemotePath(body.Uri, what);
  const headers = stringRecord(body.HttpHeaders, 'HttpHeaders', what);
  const query = { ...stringRecord(body.HttpArguments, 'HttpArguments', what), ...stringRecord(body.Arguments, 'Arguments', what) };
  return { path, headers, query };
}

function serverName(request: FastifyRequest): string {
  return (request.params as { name: string }).name;
}

/** Aborts the remote request when our own client goes away before the answer is complete. */
function abortOnClientGone(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller;
}

/** Reads at most `max` bytes of an error answer as text, then drops the rest. */
async function errorText(response: RemoteResponse, max = 64 * 1024): Promise<string | undefined> {
  const type = String(response.headers['content-type'] ?? '');
  if (type !== '' && !/json|text|xml|html/i.test(type)) {
    response.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= max) break;
    }
  } catch {
    // the explanation is optional
  }
  response.body.destroy();
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/** Answer headers not passed back: hop-by-hop ones, and those that would speak for our server. */
const DROPPED_HEADERS = new Set([
  'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate',
  'proxy-connection', 'www-authenticate', 'set-cookie', 'strict-transport-security', 'alt-svc', 'date', 'server',
  'access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'vary',
]);

async function send(ctx: RemoteContext, request: FastifyRequest, reply: FastifyReply, operation: 'get' | 'qido') {
  const name = serverName(request);
  const what = `${operation} from '${name}'`;
  const client = ctx.clientFor(name);
  const asked = parseGetRequest(await readJsonBody(request, what), what);
  if (operation === 'qido') {
    for (const key of Object.keys(asked.headers)) if (key.toLowerCase() === 'accept') delete asked.headers[key];
    asked.headers.Accept = 'application/dicom+json';
  }
  const controller = abortOnClientGone(reply);
  let response: RemoteResponse;
  try {
    response = await client.request({ method: 'GET', path: asked.path, query: asked.query, headers: asked.headers, signal: controller.signal });
  } catch (err) {
    throw rephrase(err, what);
  }
  response.body.once('error', () => undefined); // reported by the stream's consumer

  if (response.status >= 400) {
    const error = remoteStatusError(name, what, response.status, response.url, await errorText(response));
    if (operation === 'qido') throw error;
    return reply
      .code(response.status)
      .type('application/json; charset=utf-8')
      .send({ ...errorBody(response.status, 'remote-status', error.message, request.method, request.url), RemoteStatus: response.status, RemoteUrl: response.url });
  }

  const type = String(response.headers['content-type'] ?? '');
  if (operation === 'qido') {
    if (response.status === 204 || response.status === 304) {
      response.body.destroy();
      return reply.code(200).type('application/dicom+json').send('[]');
    }
    if (!/^application\/(dicom\+)?json\b/i.test(type)) {
      response.body.destroy();
      throw new AppError('remote-status', `${what}: the answer from ${response.url} is ${type ? `"${type}"` : 'untyped'}, not DICOM JSON (application/dicom+json)`, {
        server: name,
        url: response.url,
        status: response.status,
      });
    }
    reply.code(response.status).type('application/dicom+json');
    if (response.headers['content-length'] !== undefined) reply.header('content-length', response.headers['content-length']);
    return reply.send(response.body);
  }

  reply.code(response.status);
  for (const [key, value] of Object.entries(response.headers)) {
    if (value === undefined || DROPPED_HEADERS.has(key)) continue;
    reply.header(key, value);
  }
  if (!type) reply.type('application/octet-stream');
  if (response.status === 204 || response.status === 304) {
    response.body.destroy();
    return reply.send();
  }
  return reply.send(response.body);
}

export const postGet: RemoteRoute = (request, reply, ctx) => send(ctx, request, reply, 'get');
export const postQido: RemoteRoute = (request, reply, ctx) => send(ctx, request, reply, 'qido');

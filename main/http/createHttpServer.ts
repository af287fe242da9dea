/**
 * The HTTP server (fastify 5) shared by the Orthanc REST subset, DICOMweb
 * (PS3.18) and WADO-URI: loopback-only unless RemoteAccessAllowed, HTTP Basic
 * auth when AuthenticationEnabled, CORS, one error format, raw body streams
 * for everything but JSON (see rawBody.ts). Routes are added by the caller.
 */
import type { AddressInfo, Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import cors from '@fastify/cors';
import type { Config } from '../config/types.js';
import { basicAuthHook } from './basicAuth.js';
import { corsOptions } from './cors.js';
import { classifyError, errorBody, makeErrorHandler, notFoundHandler, requestPath } from './errorReply.js';
import { passBodiesThrough } from './rawBody.js';

export interface HttpServerOptions {
  /** Where server-side failures (5xx) and, with logRequests, one line per request go. */
  log?: (line: string) => void;
  /** Off by default. Logs method, path (no query), status, time; never headers. */
  logRequests?: boolean;
}

export async function createHttpServer(config: Config, options: HttpServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    // Frame lists (…/frames/1,2,3,…) and long UIDs live in path parameters.
    routerOptions: { maxParamLength: 10_000, ignoreTrailingSlash: true },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestTimeout: 0,
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => {
      const { status, kind, message } = classifyError(error);
      (reply as FastifyReply).code(status).type('application/json; charset=utf-8').send(errorBody(status, kind, message, request.method, request.url));
    },
  });

  passBodiesThrough(app);
  app.setErrorHandler(makeErrorHandler(options.log));
  app.setNotFoundHandler(notFoundHandler);
  // CORS first: its onRequest hook answers preflights before authentication (browsers send no credentials in them).
  await app.register(cors, corsOptions(config.HttpCorsOrigins));
  if (config.AuthenticationEnabled) app.addHook('onRequest', basicAuthHook(config.RegisteredUsers, config.Name));
  if (options.logRequests && options.log) {
    const log = options.log;
    app.addHook('onResponse', async (request, reply) => {
      log(`${request.method} ${requestPath(request.url)} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`);
    });
  }
  return app;
}

/** Listens on HttpPort (0 = a free port): 127.0.0.1 only, or every interface when RemoteAccessAllowed. */
export async function listenHttpServer(app: FastifyInstance, config: Config): Promise<{ url: string; port: number; host: string }> {
  let host = config.RemoteAccessAllowed ? '::' : '127.0.0.1';
  try {
    await app.listen({ port: config.HttpPort, host });
  } catch (err) {
    // A machine without IPv6: every IPv4 interface instead.
    if (host !== '::' || (err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT') throw err;
    host = '0.0.0.0';
    await app.listen({ port: config.HttpPort, host });
  }
  const port = (app.server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, host };
}

/**
 * Errors the HTTP parser finds before a request exists: oversized headers (431,
 * Node's 16 KiB limit), timeouts (408), malformed requests (400). Answers in
 * our error format and closes that connection only; the server keeps serving.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers are larger than the 16 KiB accepted']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request was not received in time']
        : [400, `malformed HTTP request (${err.code ?? err.message})`];
  const body = JSON.stringify(errorBody(status, 'bad-request', message, '', ''));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

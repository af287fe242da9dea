/**
 * The HTTP client of one remote DICOMweb server (got 14), with what Orthanc's
 * client applies (its options, same names):
 * - global HttpProxy (http:// or https:// proxy, "host:port" taken as http://;
 *   tunnelled with CONNECT by hpagent for http and https targets alike),
 *   HttpTimeout (seconds, 0 = none; the server's Timeout overrides it when
 *   > 0), HttpsVerifyPeers, HttpsCACertificates (PEM bundle, replacing the
 *   default roots as libcurl's CAINFO does);
 * - per server: Basic auth (Username/Password), HttpHeaders, client
 *   certificate + key + passphrase. Pkcs11 is refused for that server only.
 * The timeout bounds each wait — connecting, the TLS handshake, the answer's
 * headers, and every pause of the transfer — not the whole transfer, which
 * may be a study of several GB.
 * No retries (jobs decide), no compression asked for (DICOM does not shrink;
 * an Accept-Encoding given by the caller is passed on and the answer left
 * encoded), bodies streamed both ways, keep-alive connections per server.
 * Failures are AppErrors naming the server, the URL (credentials removed) and
 * the cause; details carry { server, url, reason, code?, status? } so callers
 * can say it their way (rephrase()). Secrets never appear in any of them.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import got, { type Got, type RequestError } from 'got';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import type { RemoteServerConfig } from '../config/types.js';
import { AppError } from '../errors.js';
import { relativeRemotePath, remoteUrl } from './remoteQuery.js';
import type { RemoteClient, RemoteRequest, RemoteResponse } from './types.js';

/** The global options of Config that apply to every remote server. */
export interface HttpGlobals {
  HttpProxy?: string;
  HttpTimeout: number;
  HttpsVerifyPeers: boolean;
  HttpsCACertificates?: string;
}

export interface ClosableRemoteClient extends RemoteClient {
  /** Requests whose answer has not been fully read or dropped yet. */
  readonly inflight: number;
  /** Closes the keep-alive connections (after the requests in flight end). */
  close(): void;
}

const USER_AGENT = 'DICOMweb-Workstation';

/**
 * Orthanc (civetweb) answers `Keep-Alive: timeout=1`. Node's agent keeps an idle
 * socket only until one second before the server's announced timeout, so with
 * timeout=1 it never reuses one: every request to an Orthanc opened a new
 * connection (and a new TLS handshake over https). For such a short hint these
 * agents keep the socket idle for half the announced time instead, still well
 * before the server closes it. The hint is read from the response the agent has
 * just finished (`_httpMessage.res`), as Node's own keepSocketAlive does: no
 * public API exposes it.
 */
function shortHintMs(socket: Socket): number | undefined {
  const res = (socket as unknown as { _httpMessage?: { res?: http.IncomingMessage } })._httpMessage?.res;
  const hint = res?.headers['keep-alive'];
  const seconds = typeof hint === 'string' ? Number(/^timeout=(\d+)/.exec(hint)?.[1]) : NaN;
  return seconds > 0 && seconds <= 1 ? seconds * 500 : undefined;
}

function keepShortHinted(agent: http.Agent, socket: Socket, keepAliveMsecs: number): boolean {
  const ms = shortHintMs(socket);
  if (ms === undefined) return (http.Agent.prototype.keepSocketAlive as unknown as (this: http.Agent, s: Socket) => boolean).call(agent, socket);
  socket.setKeepAlive(true, keepAliveMsecs);
  socket.unref();
  socket.setTimeout(ms);
  return true;
}

class ShortHintHttpAgent extends http.Agent {
  override keepSocketAlive(socket: Socket): void {
    return keepShortHinted(this, socket, 1000) as unknown as void; // @types/node says void; Node reads the boolean
  }
}

class ShortHintHttpsAgent extends https.Agent {
  override keepSocketAlive(socket: Socket): void {
    return keepShortHinted(this, socket, 1000) as unknown as void;
  }
}

/** The URL without user:password@ (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** A remote failure said from the caller's point of view: "retrieve from 'pacs': HTTP 401 Unauthorized from https://…". */
export function rephrase(err: unknown, action: string): unknown {
  if (!(err instanceof AppError) || typeof err.details?.reason !== 'string') return err;
  return new AppError(err.kind, `${action}: ${err.details.reason}`, err.details);
}

/** AppError 'remote-status' for an HTTP error status, with the start of the remote's explanation when it sent text. */
export function remoteStatusError(server: string, action: string, status: number, url: string, bodyText?: string): AppError {
  const explanation = bodyText ? summariseBody(bodyText) : '';
  const reason = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''} from ${redactUrl(url)}${explanation ? `: ${explanation}` : ''}`;
  return new AppError('remote-status', `${action}: ${reason}`, { server, url: redactUrl(url), status, reason });
}

/** The first 300 characters of a text answer, on one line (Orthanc's JSON errors: their Message/Details). */
function summariseBody(text: string): string {
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const parts = [json.Message, json.Details].filter((v): v is string => typeof v === 'string' && v !== '');
    if (parts.length > 0) return parts.join(': ').slice(0, 300);
  } catch {
    // not JSON
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

function proxyUrl(proxy: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function readPem(file: string, what: string, name: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AppError('config', `server '${name}': cannot read ${what} '${file}': ${(err as Error).message}`);
  }
}

/** Timeout of a server in seconds (0 = none). */
export function timeoutOf(server: RemoteServerConfig, globals: HttpGlobals): number {
  return server.Timeout !== undefined && server.Timeout > 0 ? server.Timeout : globals.HttpTimeout;
}

export function createRemoteClient(name: string, server: RemoteServerConfig, globals: HttpGlobals): ClosableRemoteClient {
  if (server.Pkcs11) throw new AppError('bad-request', `server '${name}': PKCS#11 is not supported by this build`);

  const tls: Record<string, unknown> = { rejectUnauthorized: globals.HttpsVerifyPeers };
  if (globals.HttpsCACertificates) tls.certificateAuthority = readPem(globals.HttpsCACertificates, 'HttpsCACertificates', name);
  if (server.CertificateFile) {
    tls.certificate = readPem(server.CertificateFile, 'CertificateFile', name);
    if (server.CertificateKeyFile) tls.key = readPem(server.CertificateKeyFile, 'CertificateKeyFile', name);
    if (server.CertificateKeyPassword !== undefined) tls.passphrase = server.CertificateKeyPassword;
    try {
      createSecureContext({ cert: tls.certificate as Buffer, key: tls.key as Buffer | undefined, passphrase: tls.passphrase as string | undefined });
    } catch (err) {
      const hint = /decrypt|passphrase|bad password/i.test((err as Error).message) ? ' (is CertificateKeyPassword right?)' : '';
      throw new AppError('config', `server '${name}': the client certificate '${server.CertificateFile}' and key '${server.CertificateKeyFile ?? server.CertificateFile}' cannot be used: ${(err as Error).message}${hint}`);
    }
  }

  const agentOptions = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8 };
  const proxy = globals.HttpProxy ? proxyUrl(globals.HttpProxy) : undefined;
  const agents = {
    http: proxy ? new HttpProxyAgent({ ...agentOptions, proxy }) : new ShortHintHttpAgent(agentOptions),
    https: proxy ? new HttpsProxyAgent({ ...agentOptions, proxy }) : new ShortHintHttpsAgent(agentOptions),
  };

  const seconds = timeoutOf(server, globals);
  const ms = seconds * 1000;
  const instance: Got = got.extend({
    retry: { limit: 0 },
    throwHttpErrors: false,
    decompress: false,
    followRedirect: true,
    agent: agents,
    https: tls,
    timeout: ms > 0 ? { lookup: ms, connect: ms, secureConnect: ms, socket: ms, response: ms } : {},
    headers: { 'user-agent': USER_AGENT, 'accept-encoding': undefined },
  });

  let inflight = 0;
  let closeRequested = false;
  const destroyAgents = () => {
    agents.http.destroy();
    agents.https.destroy();
  };
  const done = () => {
    inflight--;
    if (closeRequested && inflight === 0) destroyAgents();
  };

  /** Headers: the server's, then the request's (case-insensitive override), then Basic auth unless one is given. */
  const headersFor = (extra: Record<string, string> | undefined): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const source of [server.HttpHeaders, extra]) {
      for (const [key, value] of Object.entries(source ?? {})) out[key.toLowerCase()] = value;
    }
    if (server.Username !== undefined && out.authorization === undefined) {
      out.authorization = `Basic ${Buffer.from(`${server.Username}:${server.Password ?? ''}`).toString('base64')}`;
    }
    return out;
  };

  const fail = (reason: string, url: string, kind: 'remote-unreachable' | 'cancelled', code?: string) =>
    new AppError(kind, `server '${name}': ${reason}`, { server: name, url: redactUrl(url), reason, ...(code ? { code } : {}) });

  const mapError = (err: unknown, url: string, signal: AbortSignal | undefined, answered: boolean): AppError => {
    if (err instanceof AppError) return err;
    const shown = redactUrl(url);
    if (signal?.aborted) return fail(`request to ${shown} cancelled`, url, 'cancelled');
    const e = err as RequestError & { event?: string };
    const code = e.code ?? (e.cause as NodeJS.ErrnoException | undefined)?.code;
    const cause = describeCause(e, code, seconds, proxy, answered);
    return fail(answered ? `the answer from ${shown} was cut: ${cause}` : `cannot reach ${shown}: ${cause}`, url, 'remote-unreachable', code);
  };

  const request = async (req: RemoteRequest): Promise<RemoteResponse> => {
    const path = relativeRemotePath(req.path, `server '${name}'`);
    const url = remoteUrl(server.Url, path, req.query);
    const headers = headersFor(req.headers);
    if (req.chunked) {
      delete headers['content-length'];
    } else if (Buffer.isBuffer(req.body) && headers['content-length'] === undefined) {
      headers['content-length'] = String(req.body.length);
    }
    const signal = req.signal;
    if (signal?.aborted) {
      if (req.body instanceof Readable) req.body.destroy();
      throw fail(`request to ${redactUrl(url)} cancelled`, url, 'cancelled');
    }
    inflight++;
    return new Promise<RemoteResponse>((resolve, reject) => {
      let answered = false;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        done();
      };
      const stream = instance.stream(url, {
        method: req.method,
        headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        ...(signal ? { signal } : {}),
      });
      // got's stream waits for a body to be written for every method but GET and HEAD.
      if (req.body === undefined && req.method !== 'GET') stream.end();
      const body = new PassThrough({ highWaterMark: 1 << 20 });
      stream.once('response', (response: http.IncomingMessage) => {
        answered = true;
        stream.pipe(body);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, url: redactUrl(url) });
      });
      stream.on('error', (err) => {
        const mapped = mapError(err, url, signal, answered);
        if (answered) body.destroy(mapped);
        else reject(mapped);
        finish();
      });
      stream.once('end', finish);
      // The consumer dropping the body ends the request.
      body.once('close', () => {
        if (!stream.readableEnded) stream.destroy();
        finish();
      });
    });
  };

  const fetchBuffer: RemoteClient['fetchBuffer'] = async (req, acceptStatus = (s) => s < 400) => {
    const response = await request(req);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (!acceptStatus(response.status)) {
      const type = String(response.headers['content-type'] ?? '');
      const text = /json|text|xml/i.test(type) || type === '' ? body.toString('utf8') : undefined;
      throw remoteStatusError(name, `server '${name}'`, response.status, response.url, text);
    }
    return { status: response.status, headers: response.headers, body, url: response.url };
  };

  return {
    name,
    request,
    fetchBuffer,
    get inflight() {
      return inflight;
    },
    close() {
      closeRequested = true;
      if (inflight === 0) destroyAgents();
    },
  };
}

const TIMEOUT_PHASES: Record<string, string> = {
  lookup: 'resolving the host name',
  connect: 'connecting',
  secureConnect: 'the TLS handshake',
  send: 'sending the request',
  request: 'the request',
  read: 'reading the answer',
};

const CERT_UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

function describeCause(err: RequestError & { event?: string }, code: string | undefined, seconds: number, proxy: string | undefined, answered: boolean): string {
  if (err.name === 'TimeoutError') {
    const event = err.event ?? '';
    const phase = event === 'socket' || event === 'response' ? (answered ? 'the transfer stalled' : 'waiting for the answer') : (TIMEOUT_PHASES[event] ?? event);
    return `timeout after ${seconds} s (${phase})`;
  }
  const message = err.message;
  const proxyRefusal = /^Bad response: (\d+)/.exec(message);
  if (proxyRefusal) return `the proxy ${redactUrl(proxy ?? '')} refused the connection (HTTP ${proxyRefusal[1]})`;
  if (message === 'Proxy timeout') return `timeout after ${seconds} s (connecting through the proxy ${redactUrl(proxy ?? '')})`;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused (ECONNREFUSED)${proxy ? ` (through the proxy ${redactUrl(proxy)})` : ''}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `unknown host (${code})`;
    case 'ECONNRESET':
      return 'connection reset by the peer (ECONNRESET)';
    case 'EPIPE':
      return 'connection closed by the peer while sending (EPIPE)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the host (${code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the TLS certificate does not name this host (${code})`;
    case 'CERT_HAS_EXPIRED':
      return `the TLS certificate has expired (${code})`;
    default:
      if (code && /^ERR_SSL_.*CERTIFICATE_REQUIRED$/.test(code)) {
        return `the server asks for a client certificate (${code}): set CertificateFile and CertificateKeyFile for this server`;
      }
      if (code && code.startsWith('ERR_SSL_')) {
        return `the TLS handshake failed: ${code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ')} (${code})`;
      }
      if (code && CERT_UNTRUSTED.has(code)) {
        return `the TLS certificate is not trusted (${code}): give its CA in HttpsCACertificates, or set HttpsVerifyPeers to false`;
      }
      if (/premature close|aborted/i.test(message)) return `the connection closed before the answer ended (${code ?? 'premature close'})`;
      return code ? `${message} (${code})` : message;
  }
}

/**
 * The server registry over HTTP, as the Orthanc DICOMweb plugin answers it:
 *   GET    {Root}servers/          names, sorted (`?expand`: { name: info }, never a secret)
 *   GET    {Root}servers/{name}    the operations it offers: get, retrieve, stow, qido (+ delete with HasDelete)
 *   PUT    {Root}servers/{name}    adds or replaces it: [url], [url, user, password] or the object form
 *                                  (Url, Username, Password, HttpHeaders, CertificateFile, CertificateKeyFile,
 *                                  CertificateKeyPassword, Pkcs11, Timeout, HasDelete, ChunkedTransfers); a
 *                                  Password or CertificateKeyPassword left out keeps the stored one. Answers {}.
 *   DELETE {Root}servers/{name}    removes it. Answers {}.
 * Changes are persisted (serverRegistry.ts). Invalid bodies answer 400 naming the key.
 */
import { dirname } from 'node:path';
import { statSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { ConfigReader, isPlainObject, keyPathText } from '../config/configValues.js';
import { readRemoteServers } from '../config/remoteServers.js';
import { REMOTE_SERVER_IGNORED_KEYS } from '../config/orthancKeys.js';
import type { RemoteServerConfig } from '../config/types.js';
import { AppError } from '../errors.js';
import type { RemoteContext, RemoteRoute } from './context.js';
import { readJsonBody } from '../http/rawBody.js';

const SERVER_KEYS = new Set([
  'Url', 'Username', 'Password', 'HttpHeaders', 'CertificateFile', 'CertificateKeyFile',
  'CertificateKeyPassword', 'Pkcs11', 'Timeout', 'HasDelete', 'ChunkedTransfers',
]);

function serverName(request: FastifyRequest): string {
  return (request.params as { name: string }).name;
}

function known(ctx: RemoteContext, name: string) {
  const info = ctx.remotes.info(name);
  if (!info) throw new AppError('not-found', `unknown remote server '${name}'`);
  return info;
}

export const listServers: RemoteRoute = async (request, _reply, ctx) => {
  const query = request.query as Record<string, string | undefined>;
  const names = ctx.remotes.names();
  if (query.expand === undefined || query.expand === 'false' || query.expand === '0') return names;
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const { Name: _name, ...info } = known(ctx, name);
    out[name] = info;
  }
  return out;
};

export const serverOperations: RemoteRoute = async (request, _reply, ctx) => {
  const info = known(ctx, serverName(request));
  return info.HasDelete ? ['get', 'retrieve', 'stow', 'qido', 'delete'] : ['get', 'retrieve', 'stow', 'qido'];
};

/** Relative certificate paths of a PUT are resolved against the configuration file's folder, else the data directory. */
function baseDirectory(ctx: RemoteContext): string {
  const source = ctx.config.sourcePath;
  try {
    if (source && statSync(source).isFile()) return dirname(source);
    if (source && statSync(source).isDirectory()) return source;
  } catch {
    // fall through
  }
  return dirname(ctx.config.StorageDirectory);
}

/** Validates a PUT body with the configuration's own rules; errors name the key. */
export function parseServerBody(ctx: RemoteContext, name: string, body: unknown): RemoteServerConfig {
  const what = `PUT servers/${name}`;
  if (isPlainObject(body)) {
    for (const key of Object.keys(body)) {
      if (!SERVER_KEYS.has(key) && !REMOTE_SERVER_IGNORED_KEYS.has(key)) {
        const hint = [...SERVER_KEYS].find((k) => k.toLowerCase() === key.toLowerCase());
        throw new AppError('bad-request', `${what}: unknown key ${JSON.stringify(key)}${hint ? ` (did you mean ${hint}? keys are case-sensitive)` : ''}`, { key });
      }
    }
  }
  // A Password left out keeps the stored one: stand in for it while validating.
  const existing = ctx.remotes.config(name);
  let keepPassword = false;
  let raw = body;
  if (isPlainObject(body) && typeof body.Username === 'string' && body.Password === undefined && existing?.Password !== undefined) {
    raw = { ...body, Password: '' };
    keepPassword = true;
  }
  const reader = new ConfigReader(() => what);
  let server: RemoteServerConfig;
  try {
    server = readRemoteServers(reader, [], { [name]: raw }, baseDirectory(ctx), [])[name];
  } catch (err) {
    if (err instanceof AppError && err.kind === 'config') {
      // "PUT servers/x: x.Url must be…" → "PUT servers/x: Url must be…"
      const prefix = `${keyPathText([name])}`;
      const key = typeof err.details?.key === 'string' ? err.details.key : '';
      const shortKey = key === prefix ? '' : key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}[`) ? key.slice(prefix.length).replace(/^\./, '') : key;
      const message = err.message.replace(`${what}: ${key}`, shortKey ? `${what}: ${shortKey}` : `${what}: the server`);
      throw new AppError('bad-request', message, { key: shortKey || undefined });
    }
    throw err;
  }
  if (keepPassword) delete server.Password;
  return server;
}

export const putServer: RemoteRoute = async (request, _reply, ctx) => {
  const name = serverName(request);
  const body = await readJsonBody(request, `PUT servers/${name}`);
  await ctx.remotes.put(name, parseServerBody(ctx, name, body));
  return {};
};

export const deleteServer: RemoteRoute = async (request, _reply, ctx) => {
  const name = serverName(request);
  if (!(await ctx.remotes.remove(name))) throw new AppError('not-found', `unknown remote server '${name}'`);
  return {};
};

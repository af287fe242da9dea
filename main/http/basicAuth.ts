/**
 * HTTP Basic authentication (RFC 7617) against RegisteredUsers, as Orthanc's
 * AuthenticationEnabled does. Passwords are compared in constant time (hashes
 * of equal length through crypto.timingSafeEqual); credentials are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** An onRequest hook refusing requests without the credentials of a registered user (401). */
export function basicAuthHook(users: Record<string, string>, realm: string) {
  const expected = new Map(Object.entries(users).map(([user, password]) => [user, digest(password)]));
  const decoy = digest('\u0000no such user\u0000');
  const challenge = `Basic realm="${realm.replace(/["\\]/g, '')}", charset="UTF-8"`;

  return async function checkBasicAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header('WWW-Authenticate', challenge);
      throw new AppError('unauthorized', 'authentication required: send HTTP Basic credentials of a registered user');
    }
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon === -1 ? decoded : decoded.slice(0, colon);
    const password = colon === -1 ? '' : decoded.slice(colon + 1);
    const want = expected.get(user);
    const same = timingSafeEqual(digest(password), want ?? decoy);
    if (!want || !same || colon === -1) {
      reply.header('WWW-Authenticate', challenge);
      throw new AppError('unauthorized', 'wrong user name or password');
    }
  };
}

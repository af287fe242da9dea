/**
 * CORS (Fetch standard) through @fastify/cors: pages served from this machine
 * (http://localhost:*, http://127.0.0.1:*, http://[::1]:*) are always allowed,
 * plus the configured HttpCorsOrigins ('*' = any origin; "scheme://host:*" =
 * any port). Exposes the headers a DICOMweb viewer reads.
 */
import type { FastifyCorsOptions } from '@fastify/cors';
import { LOOPBACK_CORS_ORIGINS } from '../config/defaults.js';

/** Does `origin` match one of the patterns (exact, '*', or port wildcard ':*')? */
export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  for (const pattern of patterns) {
    if (pattern === '*' || pattern === origin) return true;
    if (pattern.endsWith(':*')) {
      const prefix = pattern.slice(0, -1); // "http://localhost:"
      if (origin === pattern.slice(0, -2) || (origin.startsWith(prefix) && /^\d{1,5}$/.test(origin.slice(prefix.length)))) return true;
    }
  }
  return false;
}

export function corsOptions(configured: readonly string[]): FastifyCorsOptions {
  const patterns = [...LOOPBACK_CORS_ORIGINS, ...configured];
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && originAllowed(origin, patterns)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    exposedHeaders: [
      'Content-Type', 'Content-Length', 'Content-Location', 'Content-Disposition', 'Location',
      'Warning', 'ETag', 'Last-Modified', 'WWW-Authenticate',
    ],
    maxAge: 600,
  };
}

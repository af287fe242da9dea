/**
 * What the remote-client routes ({Root}servers/…, as the Orthanc DICOMweb
 * plugin names them) receive.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import type { Jobs } from '../jobs/types.js';
import type { Store } from '../store/types.js';
import type { RemoteClient, RemoteServers } from './types.js';

export interface RemoteContext {
  store: Store;
  config: Config;
  remotes: RemoteServers;
  jobs: Jobs;
  /** The HTTP client of a configured server; AppError 'not-found' naming it when unknown, 'bad-request' for Pkcs11. */
  clientFor(name: string): RemoteClient;
}

export type RemoteRoute = (request: FastifyRequest, reply: FastifyReply, ctx: RemoteContext) => Promise<unknown>;

/**
 * Encrypts secrets at rest (Electron safeStorage in the app). `encrypted`
 * false means the platform offers nothing: secrets are kept in a file readable
 * by the user only (headless mode).
 */
export interface SecretBox {
  readonly encrypted: boolean;
  seal(plain: string): string;
  open(sealed: string): string;
}

/**
 * Builds the RemoteContext the {Root}servers/… routes receive: the store, the
 * configuration, the server registry, the jobs, and one HTTP client per
 * server, made on first use and replaced when the server is changed or
 * removed (the old one closes its connections once its requests end).
 */
import type { Config } from '../config/types.js';
import { AppError } from '../errors.js';
import type { Jobs } from '../jobs/types.js';
import type { Store } from '../store/types.js';
import type { RemoteContext } from './context.js';
import { createRemoteClient, type ClosableRemoteClient } from './httpClient.js';
import type { ServerRegistry } from './serverRegistry.js';

export interface ClosableRemoteContext extends RemoteContext {
  /** Closes every client's connections (engine shutdown). */
  close(): void;
}

export function createRemoteContext(store: Store, config: Config, remotes: ServerRegistry, jobs: Jobs): ClosableRemoteContext {
  const clients = new Map<string, ClosableRemoteClient>();
  const unsubscribe = remotes.onChange((name) => {
    clients.get(name)?.close();
    clients.delete(name);
  });
  return {
    store,
    config,
    remotes,
    jobs,
    clientFor(name) {
      const existing = clients.get(name);
      if (existing) return existing;
      const server = remotes.config(name);
      if (!server) throw new AppError('not-found', `unknown remote server '${name}' (configured: ${remotes.names().map((n) => `'${n}'`).join(', ') || 'none'})`);
      const client = createRemoteClient(name, server, config);
      clients.set(name, client);
      return client;
    },
    close() {
      unsubscribe();
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

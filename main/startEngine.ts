/**
 * Starts the engine: opens the store, creates the HTTP server and wires the
 * Orthanc REST subset, DICOMweb (PS3.18 chapter 10, under DicomWeb.Root) and
 * WADO-URI (PS3.18 chapter 9, at DicomWeb.WadoRoot), then listens. Wiring only.
 */
import { mkdirSync } from 'node:fs';
import type { Engine } from './app.js';
import type { Config } from './config/types.js';
import { AppError } from './errors.js';
import { openStore } from './store/openStore.js';
import { createHttpServer, listenHttpServer } from './http/createHttpServer.js';
import { registerDicomWebRoutes } from './dicomweb/routes.js';
import { registerWadoUri } from './dicomweb/wadoUri.js';
import type { DicomWebContext } from './dicomweb/context.js';
import { registerOrthancRoutes } from './orthanc/registerOrthancRoutes.js';

export interface StartEngineOptions {
  /** Server-side failures and, with logRequests, one line per request. */
  log?: (line: string) => void;
  logRequests?: boolean;
  /** better-sqlite3 native addon built for Electron's ABI (main/index.ts in development). */
  sqliteNativeBinding?: string;
}

export async function startEngine(config: Config, options: StartEngineOptions = {}): Promise<Engine> {
  mkdirSync(config.StorageDirectory, { recursive: true });
  mkdirSync(config.IndexDirectory, { recursive: true });
  const storeOptions = {
    storageDirectory: config.StorageDirectory,
    indexDirectory: config.IndexDirectory,
    ...(options.sqliteNativeBinding ? { nativeBinding: options.sqliteNativeBinding } : {}),
  };
  const store = await openStore(storeOptions);
  const ctx: DicomWebContext = { store, config };

  let app;
  let url: string;
  try {
    app = await createHttpServer(config, { log: options.log, logRequests: options.logRequests });
    registerOrthancRoutes(app, ctx);
    if (config.DicomWeb.Enable) {
      registerDicomWebRoutes(app, config.DicomWeb.Root, ctx);
      if (config.DicomWeb.EnableWado) registerWadoUri(app, config.DicomWeb.WadoRoot, ctx);
    }
    ({ url } = await listenHttpServer(app, config));
  } catch (err) {
    await app?.close().catch(() => undefined);
    store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new AppError('config', `HttpPort ${config.HttpPort} is already in use by another program; choose another HttpPort`);
    if (code === 'EACCES') throw new AppError('config', `HttpPort ${config.HttpPort} cannot be opened by this user (ports below 1024 need privileges)`);
    throw err;
  }

  const server = app;
  let closing: Promise<void> | undefined;
  return {
    config,
    store,
    url,
    dicomWebUrl: url + config.DicomWeb.Root.replace(/\/$/, ''),
    close() {
      closing ??= (async () => {
        try {
          await server.close();
        } finally {
          store.close();
        }
      })();
      return closing;
    },
  };
}

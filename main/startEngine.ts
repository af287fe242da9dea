/**
 * Starts the engine: opens the store, creates the HTTP server and wires the
 * Orthanc REST subset, DICOMweb (PS3.18 chapter 10, under DicomWeb.Root),
 * WADO-URI (PS3.18 chapter 9, at DicomWeb.WadoRoot), the remote-client routes
 * ({Root}servers/…, as the Orthanc DICOMweb plugin names them) and the jobs
 * (/jobs), then listens. Wiring only.
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
import { createJobs, type JobsOptions } from './jobs/jobs.js';
import { registerJobRoutes } from './jobs/routes.js';
import type { SecretBox } from './remote/context.js';
import { createServerRegistry } from './remote/serverRegistry.js';
import { createRemoteContext } from './remote/remoteContext.js';
import { registerRemoteRoutes } from './remote/routes.js';
import { closeDecodePool } from './pixels/decodePool.js';

/** How long close() lets answers in flight finish before cutting their connections. */
const CLOSE_GRACE_MS = 3000;

export interface StartEngineOptions {
  /** Server-side failures and, with logRequests, one line per request. */
  log?: (line: string) => void;
  logRequests?: boolean;
  /** better-sqlite3 native addon built for Electron's ABI (main/index.ts in development). */
  sqliteNativeBinding?: string;
  /**
   * Seals remote servers' secrets at rest (Electron safeStorage in the app).
   * Default: none available — kept as they are in a file readable by the user only.
   */
  secretBox?: SecretBox;
  /** Where remote servers saved at run time and their secrets live; default: the parent of StorageDirectory. */
  dataDirectory?: string;
  /** Jobs engine settings (concurrency, retries and their delays); defaults in main/jobs/jobs.ts. */
  jobs?: JobsOptions;
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
  const ctx: DicomWebContext = { store, config, log: options.log };
  const remotes = createServerRegistry({ config, secretBox: options.secretBox, dataDirectory: options.dataDirectory });
  for (const warning of remotes.warnings) options.log?.(`warning: ${warning}`);
  const jobs = createJobs(options.jobs);
  const remoteCtx = createRemoteContext(store, config, remotes, jobs);

  let app;
  let url: string;
  try {
    app = await createHttpServer(config, { log: options.log, logRequests: options.logRequests });
    registerOrthancRoutes(app, ctx);
    registerJobRoutes(app, jobs);
    if (config.DicomWeb.Enable) {
      registerDicomWebRoutes(app, config.DicomWeb.Root, ctx);
      registerRemoteRoutes(app, config.DicomWeb.Root, remoteCtx);
      if (config.DicomWeb.EnableWado) registerWadoUri(app, config.DicomWeb.WadoRoot, ctx);
    }
    ({ url } = await listenHttpServer(app, config));
  } catch (err) {
    await app?.close().catch(() => undefined);
    await jobs.close().catch(() => undefined);
    remoteCtx.close();
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
    remotes,
    jobs,
    url,
    dicomWebUrl: url + config.DicomWeb.Root.replace(/\/$/, ''),
    close() {
      closing ??= (async () => {
        try {
          // Jobs first: they stop writing to the store and release their connections.
          await jobs.close();
          // Answers in flight get a grace period; a client that stops reading must not hold the close forever.
          const force = setTimeout(() => server.server.closeAllConnections(), CLOSE_GRACE_MS);
          try {
            await server.close();
          } finally {
            clearTimeout(force);
          }
        } finally {
          remoteCtx.close();
          store.close();
          // Decode worker threads (process-wide; the next decode starts them again).
          await closeDecodePool();
        }
      })();
      return closing;
    },
  };
}

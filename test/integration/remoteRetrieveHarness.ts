/**
 * A small real engine for the retrieve fault tests: a store in a temp
 * directory, the server registry and remote context of main/remote, the jobs
 * engine with short retry delays (so that retries of transient errors take
 * milliseconds, not seconds), the retrieve and /jobs routes on a real HTTP
 * server on a free port.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { configFromObject } from '../../main/config/loadConfig.js';
import { createHttpServer, listenHttpServer } from '../../main/http/createHttpServer.js';
import { createJobs, type JobsOptions } from '../../main/jobs/jobs.js';
import { registerJobRoutes } from '../../main/jobs/routes.js';
import type { Jobs } from '../../main/jobs/types.js';
import { postRetrieve } from '../../main/remote/retrieve.js';
import { createRemoteContext, type ClosableRemoteContext } from '../../main/remote/remoteContext.js';
import { createServerRegistry } from '../../main/remote/serverRegistry.js';
import { openStore } from '../../main/store/openStore.js';
import type { Store } from '../../main/store/types.js';

export interface RetrieveHarness {
  url: string;
  store: Store;
  jobs: Jobs;
  ctx: ClosableRemoteContext;
  /** POST {url}/dicom-web/servers/{name}/retrieve with a JSON body. */
  retrieve(name: string, body: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startRetrieveHarness(config: Record<string, unknown>, jobsOptions: JobsOptions = {}): Promise<RetrieveHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'retrieve-harness-'));
  const { config: cfg } = configFromObject({ HttpPort: 0, StorageDirectory: join(dir, 'storage'), ...config }, { source: 'test', baseDir: dir });
  const store = await openStore({ storageDirectory: cfg.StorageDirectory, indexDirectory: cfg.IndexDirectory });
  const jobs = createJobs({ retryDelayMs: 10, ...jobsOptions });
  const remotes = createServerRegistry({ config: cfg, dataDirectory: dir });
  const ctx = createRemoteContext(store, cfg, remotes, jobs);
  let app: FastifyInstance | undefined;
  try {
    app = await createHttpServer(cfg);
    registerJobRoutes(app, jobs);
    app.post('/dicom-web/servers/:name/retrieve', (request, reply) => postRetrieve(request, reply, ctx));
    const { url } = await listenHttpServer(app, cfg);
    const server = app;
    return {
      url,
      store,
      jobs,
      ctx,
      async retrieve(name, body) {
        const res = await fetch(`${url}/dicom-web/servers/${name}/retrieve`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: await res.json() };
      },
      async close() {
        await jobs.close();
        ctx.close();
        await server.close();
        store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await app?.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A small real engine for the STOW-RS client's fault tests: a store in a temp
 * directory, the server registry and remote context of main/remote, the jobs
 * engine with short retry delays (retries of transient errors take
 * milliseconds, not the default seconds), the {Root}servers/… routes table and
 * /jobs on a real HTTP server on a free port. Everything else is the
 * production code; startTestEngine cannot shorten the retry delays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { configFromObject } from '../../main/config/loadConfig.js';
import { createHttpServer, listenHttpServer } from '../../main/http/createHttpServer.js';
import { createJobs, type JobsOptions } from '../../main/jobs/jobs.js';
import { registerJobRoutes } from '../../main/jobs/routes.js';
import type { JobInfo, Jobs } from '../../main/jobs/types.js';
import { createRemoteContext, type ClosableRemoteContext } from '../../main/remote/remoteContext.js';
import { registerRemoteRoutes } from '../../main/remote/routes.js';
import { createServerRegistry } from '../../main/remote/serverRegistry.js';
import { openStore } from '../../main/store/openStore.js';
import type { Store } from '../../main/store/types.js';

export interface StowHarness {
  url: string;
  store: Store;
  jobs: Jobs;
  /** POST {url}/dicom-web/servers/{name}/stow with a JSON body. */
  stow(name: string, body: unknown): Promise<{ status: number; json: any }>;
  /** GET /jobs/{id} until the job has ended (bounded). */
  waitJob(id: string): Promise<JobInfo>;
  close(): Promise<void>;
}

export async function startStowHarness(config: Record<string, unknown>, jobsOptions: JobsOptions = {}): Promise<StowHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'stow-harness-'));
  const { config: cfg } = configFromObject({ HttpPort: 0, StorageDirectory: join(dir, 'storage'), ...config }, { source: 'test', baseDir: dir });
  const store = await openStore({ storageDirectory: cfg.StorageDirectory, indexDirectory: cfg.IndexDirectory });
  const jobs = createJobs({ retryDelayMs: 10, maxRetryDelayMs: 50, ...jobsOptions });
  const remotes = createServerRegistry({ config: cfg, dataDirectory: dir });
  const ctx: ClosableRemoteContext = createRemoteContext(store, cfg, remotes, jobs);
  let app: FastifyInstance | undefined;
  try {
    app = await createHttpServer(cfg);
    registerJobRoutes(app, jobs);
    registerRemoteRoutes(app, cfg.DicomWeb.Root, ctx);
    const { url } = await listenHttpServer(app, cfg);
    const server = app;
    return {
      url,
      store,
      jobs,
      async stow(name, body) {
        const res = await fetch(`${url}/dicom-web/servers/${name}/stow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, json: await res.json() };
      },
      async waitJob(id) {
        for (let i = 0; i < 600; i++) {
          const info = (await (await fetch(`${url}/jobs/${id}`)).json()) as JobInfo;
          if (info.State === 'Success' || info.State === 'Failure' || info.State === 'Cancelled') return info;
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error(`job ${id} did not end within 15 s`);
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
    ctx.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

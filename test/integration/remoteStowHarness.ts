/**
 * A real engine for the STOW-RS client's fault tests (startTestEngine), with
 * the jobs engine's retry delays shortened so that retries of transient
 * errors take milliseconds, not seconds.
 */
import type { JobsOptions } from '../../main/jobs/jobs.js';
import type { JobInfo, Jobs } from '../../main/jobs/types.js';
import type { Store } from '../../main/store/types.js';
import { startTestEngine } from '../support/engine.js';

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
  const engine = await startTestEngine(config, { jobs: { retryDelayMs: 10, maxRetryDelayMs: 50, ...jobsOptions } });
  const { url } = engine;
  return {
    url,
    store: engine.store,
    jobs: engine.jobs,
    async stow(name, body) {
      const res = await fetch(`${engine.dicomWebUrl}/servers/${name}/stow`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
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
    close: () => engine.close(),
  };
}

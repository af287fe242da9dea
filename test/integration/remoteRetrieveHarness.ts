/**
 * A real engine for the retrieve fault tests (startTestEngine), with the jobs
 * engine's retry delays shortened so that retries of transient errors take
 * milliseconds, not seconds.
 */
import type { JobsOptions } from '../../main/jobs/jobs.js';
import type { Jobs } from '../../main/jobs/types.js';
import type { Store } from '../../main/store/types.js';
import { startTestEngine } from '../support/engine.js';

export interface RetrieveHarness {
  url: string;
  store: Store;
  jobs: Jobs;
  /** POST {url}/dicom-web/servers/{name}/retrieve with a JSON body. */
  retrieve(name: string, body: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startRetrieveHarness(config: Record<string, unknown>, jobsOptions: JobsOptions = {}): Promise<RetrieveHarness> {
  const engine = await startTestEngine(config, { jobs: { retryDelayMs: 10, ...jobsOptions } });
  return {
    url: engine.url,
    store: engine.store,
    jobs: engine.jobs,
    async retrieve(name, body) {
      const res = await fetch(`${engine.dicomWebUrl}/servers/${name}/retrieve`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: await res.json() };
    },
    close: () => engine.close(),
  };
}

/**
 * The retrieve job (`POST {Root}servers/{name}/retrieve`, run by main/jobs):
 * plans the WADO-RS requests (retrievePlan.ts: a study becomes its series),
 * fetches them in parallel (default 4 at a time) into the local store
 * (retrieveStream.ts), reports progress (instances and bytes; the total from
 * QIDO when the server gives it) and answers what Orthanc answers plus what
 * the seed promises — the local Orthanc IDs of every instance downloaded:
 *
 *   { "NetworkUsageMB": "12", "ReceivedInstancesCount": "40",   (Orthanc's, as strings)
 *     "Instances": [ Orthanc IDs, stored or already stored ],
 *     "Failures": [ { "Url", "SOPInstanceUID"?, "Reason" } ] }   (parts the store refused)
 *
 * When one request fails, the others stop (what they received whole is
 * stored) and the job fails with that request's error; when it is transient
 * the jobs engine runs the work again, and the series already complete in
 * that run are not fetched again.
 */
import { AppError } from '../errors.js';
import type { JobContext, JobWork } from '../jobs/types.js';
import type { Store } from '../store/types.js';
import { eachLimited } from './limited.js';
import { expectedTotal, planRetrieve, type RetrieveUnit } from './retrievePlan.js';
import type { RetrieveRequest } from './retrieveRequest.js';
import { streamRetrieve, type BatchLimits, type RetrieveFailure, type StreamTally } from './retrieveStream.js';
import { rephrase } from './httpClient.js';
import type { RemoteClient } from './types.js';

export const DEFAULT_PARALLEL_SERIES = 4;

export interface RetrieveResult {
  NetworkUsageMB: string;
  ReceivedInstancesCount: string;
  Instances: string[];
  Failures: RetrieveFailure[];
}

export interface RetrieveJobOptions {
  server: string;
  request: RetrieveRequest;
  store: Store;
  /** The server's client, asked for at each attempt (a server changed meanwhile is honoured). */
  clientFor(name: string): RemoteClient;
  /** WADO-RS requests at the same time; default 4. */
  parallel?: number;
  batch?: BatchLimits;
}

/** The job's description (never header or argument values: they may hold tokens). */
export function retrieveJobContent(server: string, request: RetrieveRequest): Record<string, unknown> {
  return {
    Server: server,
    Resources: request.resources,
    HttpHeaders: Object.keys(request.headers),
    Arguments: Object.keys(request.query),
  };
}

function resultOf(tallies: StreamTally[]): RetrieveResult {
  const seen = new Set<string>();
  const instances: string[] = [];
  const failures: RetrieveFailure[] = [];
  let bytes = 0;
  let parts = 0;
  for (const tally of tallies) {
    for (const id of tally.instances) {
      if (seen.has(id)) continue;
      seen.add(id);
      instances.push(id);
    }
    failures.push(...tally.failures);
    bytes += tally.networkBytes;
    parts += tally.parts;
  }
  return {
    NetworkUsageMB: String(Math.round(bytes / (1024 * 1024))),
    ReceivedInstancesCount: String(parts),
    Instances: instances,
    Failures: failures,
  };
}

export function retrieveWork(options: RetrieveJobOptions): JobWork<RetrieveResult> {
  const { server, request, store } = options;
  const parallel = Math.max(1, options.parallel ?? DEFAULT_PARALLEL_SERIES);
  /** Requests completed in this run (kept across automatic retries, cleared by a resubmit). */
  const completed = new Map<string, StreamTally>();
  let plan: RetrieveUnit[] | undefined;

  return async (job: JobContext) => {
    if (job.attempt === 1) {
      completed.clear();
      plan = undefined;
    }
    // Aborts this attempt's requests: on cancel, or when a sibling request failed.
    const inner = new AbortController();
    const onCancel = () => inner.abort();
    job.signal.addEventListener('abort', onCancel, { once: true });
    if (job.signal.aborted) inner.abort();
    try {
      const client = options.clientFor(server);
      job.progress({ step: `listing the series to retrieve from '${server}'` });
      plan ??= await planRetrieve(client, request, inner, parallel).catch((err: unknown) => {
        if (job.signal.aborted) throw new AppError('cancelled', `retrieve from '${server}' cancelled`);
        throw rephrase(err, `retrieve from '${server}'`);
      });
      const units = plan;
      const total = expectedTotal(units);

      // Requests done (earlier attempts of this run included), by path; the result lists them in plan order.
      const tallies = new Map<string, StreamTally>();
      let storedNow = 0;
      let instancesDone = 0;
      let bytesDone = 0;
      for (const unit of units) {
        const done = completed.get(unit.path);
        if (done) {
          tallies.set(unit.path, done);
          instancesDone += done.instances.length + done.failures.length;
          bytesDone += done.networkBytes;
        }
      }
      // What Result shows if this attempt ends in Failure or Cancelled: grows as instances are stored.
      const partial = { Instances: [] as string[], Failures: [] as RetrieveFailure[] };
      for (const done of tallies.values()) {
        partial.Instances.push(...done.instances);
        partial.Failures.push(...done.failures);
      }
      job.partialResult(partial);
      let unitsDone = tallies.size;
      const step = () => `${unitsDone}/${units.length} request${units.length === 1 ? '' : 's'} done from '${server}'`;
      job.progress({ instancesDone, bytesDone, ...(total !== undefined ? { instancesTotal: total } : {}), step: step() });

      const todo = units.filter((unit) => !completed.has(unit.path));
      try {
        await eachLimited(todo, parallel, inner, async (unit, _index, signal) => {
          const tally = await streamRetrieve({
            client,
            server,
            store,
            path: unit.path,
            query: request.query,
            headers: request.headers,
            signal,
            ...(options.batch ? { batch: options.batch } : {}),
            events: {
              onBytes: (n) => job.progress({ addBytes: n }),
              onStored: (id) => {
                storedNow++;
                partial.Instances.push(id);
                job.progress({ addInstances: 1 });
              },
              onFailure: (failure) => {
                partial.Failures.push(failure);
                job.progress({ addInstances: 1 });
              },
            },
          });
          completed.set(unit.path, tally);
          tallies.set(unit.path, tally);
          unitsDone++;
          job.progress({ step: step() });
        });
      } catch (err) {
        if (job.signal.aborted) throw new AppError('cancelled', `retrieve from '${server}' cancelled after storing ${storedNow} instance${storedNow === 1 ? '' : 's'}`);
        const kept = partial.Instances.length;
        if (err instanceof AppError && kept > 0) {
          throw new AppError(err.kind, `${err.message}; the ${kept} instance${kept === 1 ? '' : 's'} received whole before it ${kept === 1 ? 'is' : 'are'} stored`, err.details);
        }
        throw err;
      }
      return resultOf(units.map((unit) => tallies.get(unit.path)!));
    } finally {
      job.signal.removeEventListener('abort', onCancel);
    }
  };
}

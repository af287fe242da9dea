/**
 * The jobs engine (Orthanc's /jobs, main/jobs/types.ts): long work — retrieve,
 * stow — run with bounded concurrency, with progress (instances and bytes done
 * / total, bytes per second over a sliding window), cancel (AbortController:
 * the work sees `signal`; the job becomes Cancelled once its work has stopped,
 * so the store is consistent by then), resubmit (the same work again, same ID)
 * and automatic retries of transient errors with exponential backoff
 * (retryPolicy.ts), each retry counted in `attempt`.
 *
 * Jobs live in memory only: they are lost when the engine stops (the issue
 * asks for no persistence across restarts). Finished jobs beyond `maxHistory`
 * are forgotten, oldest first.
 */
import { randomUUID } from 'node:crypto';
import { AppError, asAppError } from '../errors.js';
import { orthancErrorCodeOfKind, orthancTime } from './orthancJobFields.js';
import { defaultRetryPolicy, isTransient, retryDelay, type RetryPolicy } from './retryPolicy.js';
import { SpeedMeter } from './speedMeter.js';
import type { JobContext, JobInfo, JobProgress, JobState, JobWork, Jobs } from './types.js';

export interface JobsOptions {
  /** Jobs running at the same time; default 2. Others wait Pending. */
  concurrency?: number;
  /** Retries of transient errors after the first attempt; default 3. */
  retries?: number;
  /** Delay before the first retry (doubles each time); default 1000 ms. */
  retryDelayMs?: number;
  /** Longest delay between attempts; default 30 s. */
  maxRetryDelayMs?: number;
  /** Finished jobs kept for GET /jobs; default 1000. */
  maxHistory?: number;
}

type Counters = Omit<JobProgress, 'bytesPerSecond'>;

interface JobRecord {
  id: string;
  type: string;
  content: Record<string, unknown>;
  work: JobWork<unknown>;
  state: JobState;
  attempt: number;
  counters: Counters;
  speed: SpeedMeter;
  created: number;
  completed?: number;
  /** Milliseconds spent running in finished runs, plus the start of the current run. */
  runtimeMs: number;
  runStart?: number;
  controller: AbortController;
  error?: AppError;
  result?: unknown;
  partial?: unknown;
  /** Resolved when the current run reaches a final state. */
  waiters: Array<(info: JobInfo) => void>;
  /** Increments on resubmit: a late callback of an older run changes nothing. */
  generation: number;
}

const FINAL: ReadonlySet<JobState> = new Set(['Success', 'Failure', 'Cancelled']);

function freshCounters(): Counters {
  return { instancesDone: 0, bytesDone: 0 };
}

/** Sleeps `ms`, rejecting with AppError 'cancelled' as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AppError('cancelled', 'the job was cancelled'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AppError('cancelled', 'the job was cancelled'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createJobs(options: JobsOptions = {}): Jobs {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const maxHistory = Math.max(1, options.maxHistory ?? 1000);
  const policy: RetryPolicy = {
    ...defaultRetryPolicy,
    retries: Math.max(0, options.retries ?? defaultRetryPolicy.retries),
    baseDelayMs: options.retryDelayMs ?? defaultRetryPolicy.baseDelayMs,
    maxDelayMs: options.maxRetryDelayMs ?? defaultRetryPolicy.maxDelayMs,
  };

  const jobs = new Map<string, JobRecord>(); // insertion order = creation order
  const queue: JobRecord[] = [];
  const runs = new Set<Promise<void>>();
  let running = 0;
  let closed = false;

  function describe(job: JobRecord): JobInfo {
    const now = Date.now();
    const runtimeMs = job.runtimeMs + (job.runStart !== undefined ? now - job.runStart : 0);
    const c = job.counters;
    const bytesPerSecond =
      job.state === 'Running'
        ? job.speed.rate(c.bytesDone, now)
        : runtimeMs > 0 && FINAL.has(job.state)
          ? Math.round(c.bytesDone / (runtimeMs / 1000))
          : 0;
    let progress = 0;
    if (job.state === 'Success') progress = 100;
    else if (c.instancesTotal) progress = (100 * c.instancesDone) / c.instancesTotal;
    else if (c.bytesTotal) progress = (100 * c.bytesDone) / c.bytesTotal;
    const info: JobInfo = {
      ID: job.id,
      Type: job.type,
      State: job.state,
      // 100 only once it has succeeded (a server may send more than it announced).
      Progress: job.state === 'Success' ? 100 : Math.min(99, Math.floor(progress)),
      CreationTime: orthancTime(job.created),
      EffectiveRuntime: Math.round(runtimeMs) / 1000,
      ErrorCode: job.error ? orthancErrorCodeOfKind[job.error.kind] : 0,
      ErrorDescription: job.error?.message ?? '',
      Attempt: job.attempt,
      Content: job.content,
      Details: { ...c, bytesPerSecond },
    };
    if (job.completed !== undefined) info.CompletionTime = orthancTime(job.completed);
    if (job.error) info.ErrorKind = job.error.kind;
    if (job.state === 'Success') info.Result = job.result;
    else if (FINAL.has(job.state) && job.partial !== undefined) info.Result = job.partial;
    return info;
  }

  function finish(job: JobRecord, state: JobState, outcome: { result?: unknown; error?: AppError }): void {
    const now = Date.now();
    if (job.runStart !== undefined) {
      job.runtimeMs += now - job.runStart;
      job.runStart = undefined;
    }
    job.state = state;
    job.completed = now;
    job.result = outcome.result;
    job.error = outcome.error;
    const info = describe(job);
    const waiters = job.waiters.splice(0);
    for (const resolve of waiters) resolve(info);
    forgetOldJobs();
  }

  function forgetOldJobs(): void {
    let finished = 0;
    for (const job of jobs.values()) if (FINAL.has(job.state)) finished++;
    for (const job of jobs.values()) {
      if (finished <= maxHistory) break;
      if (FINAL.has(job.state)) {
        jobs.delete(job.id);
        finished--;
      }
    }
  }

  function contextOf(job: JobRecord): JobContext {
    const generation = job.generation;
    return {
      signal: job.controller.signal,
      get attempt() {
        return job.attempt;
      },
      progress(update) {
        if (job.generation !== generation) return;
        const { addBytes, addInstances, ...set } = update;
        const c = job.counters;
        Object.assign(c, set);
        if (addBytes) c.bytesDone += addBytes;
        if (addInstances) c.instancesDone += addInstances;
        job.speed.record(c.bytesDone);
      },
      partialResult(result) {
        if (job.generation === generation) job.partial = result;
      },
    };
  }

  /** Runs the work, then retries transient failures with backoff, until a final state. */
  async function run(job: JobRecord): Promise<void> {
    const generation = job.generation;
    const signal = job.controller.signal;
    job.state = 'Running';
    job.runStart = Date.now();
    for (;;) {
      job.counters = freshCounters();
      job.partial = undefined;
      job.speed.reset(0);
      try {
        const result = await job.work(contextOf(job));
        if (job.generation !== generation) return;
        if (signal.aborted) finish(job, 'Cancelled', { error: new AppError('cancelled', 'the job was cancelled') });
        else finish(job, 'Success', { result });
        return;
      } catch (thrown) {
        if (job.generation !== generation) return;
        const error = asAppError(thrown);
        if (signal.aborted) {
          finish(job, 'Cancelled', { error: new AppError('cancelled', 'the job was cancelled') });
          return;
        }
        if (!isTransient(error, policy) || job.attempt > policy.retries || closed) {
          finish(job, 'Failure', { error });
          return;
        }
        const delay = retryDelay(policy, job.attempt + 1);
        job.counters.step = `attempt ${job.attempt} failed, attempt ${job.attempt + 1} of ${policy.retries + 1} in ${(delay / 1000).toFixed(1)} s: ${error.message}`;
        try {
          await sleep(delay, signal);
        } catch {
          if (job.generation === generation) finish(job, 'Cancelled', { error: new AppError('cancelled', 'the job was cancelled') });
          return;
        }
        if (job.generation !== generation) return;
        job.attempt++;
      }
    }
  }

  function pump(): void {
    while (!closed && running < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      running++;
      const p = run(job)
        .catch((err) => {
          // run() handles the work's errors; anything here is a bug in this module.
          if (!FINAL.has(job.state)) finish(job, 'Failure', { error: asAppError(err) });
        })
        .finally(() => {
          running--;
          runs.delete(p);
          pump();
        });
      runs.add(p);
    }
  }

  function enqueue(job: JobRecord): void {
    job.state = 'Pending';
    queue.push(job);
    pump();
  }

  return {
    submit(type, content, work) {
      if (closed) throw new AppError('cancelled', `cannot start a ${type} job: the engine is closing`);
      const job: JobRecord = {
        id: randomUUID(),
        type,
        content,
        work: work as JobWork<unknown>,
        state: 'Pending',
        attempt: 1,
        counters: freshCounters(),
        speed: new SpeedMeter(),
        created: Date.now(),
        runtimeMs: 0,
        controller: new AbortController(),
        waiters: [],
        generation: 0,
      };
      jobs.set(job.id, job);
      enqueue(job);
      return describe(job);
    },

    get(id) {
      const job = jobs.get(id);
      return job ? describe(job) : undefined;
    },

    list() {
      return [...jobs.values()].reverse().map(describe);
    },

    cancel(id) {
      const job = jobs.get(id);
      if (!job || FINAL.has(job.state)) return false;
      job.controller.abort(new AppError('cancelled', 'the job was cancelled'));
      if (job.state === 'Pending') {
        const at = queue.indexOf(job);
        if (at >= 0) queue.splice(at, 1);
        finish(job, 'Cancelled', { error: new AppError('cancelled', 'the job was cancelled') });
      }
      // Running: becomes Cancelled when its work has stopped (run()).
      return true;
    },

    resubmit(id) {
      const job = jobs.get(id);
      if (!job || closed || (job.state !== 'Failure' && job.state !== 'Cancelled')) return false;
      job.generation++;
      job.attempt = 1;
      job.error = undefined;
      job.result = undefined;
      job.partial = undefined;
      job.completed = undefined;
      job.counters = freshCounters();
      job.controller = new AbortController();
      enqueue(job);
      return true;
    },

    wait(id) {
      const job = jobs.get(id);
      if (!job) return Promise.reject(new AppError('not-found', `unknown job: ${id}`));
      if (FINAL.has(job.state)) return Promise.resolve(describe(job));
      return new Promise((resolve) => job.waiters.push(resolve));
    },

    async close() {
      closed = true;
      for (const job of queue.splice(0)) {
        job.controller.abort(new AppError('cancelled', 'the engine is closing'));
        finish(job, 'Cancelled', { error: new AppError('cancelled', 'the job was cancelled: the engine is closing') });
      }
      for (const job of jobs.values()) if (job.state === 'Running') job.controller.abort(new AppError('cancelled', 'the engine is closing'));
      await Promise.allSettled([...runs]);
    },
  };
}

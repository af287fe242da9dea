import { describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { createJobs } from '../../../main/jobs/jobs.js';
import { isTransient, retryDelay, defaultRetryPolicy } from '../../../main/jobs/retryPolicy.js';
import type { JobContext } from '../../../main/jobs/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A work function that runs until its signal aborts (or `release()`), then settles. */
function blocker() {
  let release!: (value: string) => void;
  const released = new Promise<string>((r) => (release = r));
  let started!: () => void;
  const startedP = new Promise<void>((r) => (started = r));
  const work = async (ctx: JobContext) => {
    started();
    return await new Promise<string>((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => reject(new AppError('cancelled', 'stopped')), { once: true });
      void released.then(resolve);
    });
  };
  return { work, release, started: startedP };
}

describe('jobs engine', () => {
  test('a job runs to Success and keeps its result, with Orthanc-shaped fields', async () => {
    const jobs = createJobs();
    const info = jobs.submit('Test', { Server: 'x' }, async (ctx) => {
      ctx.progress({ instancesTotal: 2, bytesTotal: 20 });
      ctx.progress({ addInstances: 1, addBytes: 10 });
      ctx.progress({ addInstances: 1, addBytes: 10 });
      return { Instances: ['a', 'b'] };
    });
    expect(info.ID).toMatch(/^[0-9a-f-]{36}$/);
    expect(['Pending', 'Running']).toContain(info.State);
    const done = await jobs.wait(info.ID);
    expect(done).toMatchObject({
      ID: info.ID,
      Type: 'Test',
      State: 'Success',
      Progress: 100,
      ErrorCode: 0,
      ErrorDescription: '',
      Attempt: 1,
      Content: { Server: 'x' },
      Result: { Instances: ['a', 'b'] },
    });
    expect(done.Details).toMatchObject({ instancesDone: 2, instancesTotal: 2, bytesDone: 20, bytesTotal: 20 });
    expect(done.CreationTime).toMatch(/^\d{8}T\d{6}\.\d{6}$/);
    expect(done.CompletionTime).toMatch(/^\d{8}T\d{6}\.\d{6}$/);
    expect(done.ErrorKind).toBeUndefined();
    await jobs.close();
  });

  test('no more than `concurrency` jobs run at once; the others wait Pending', async () => {
    const jobs = createJobs({ concurrency: 2 });
    const b = [blocker(), blocker(), blocker()];
    const ids = b.map((x) => jobs.submit('Test', {}, x.work).ID);
    await Promise.all([b[0]!.started, b[1]!.started]);
    expect(ids.map((id) => jobs.get(id)!.State)).toEqual(['Running', 'Running', 'Pending']);
    b[0]!.release('one');
    await b[2]!.started;
    expect(jobs.get(ids[2]!)!.State).toBe('Running');
    b[1]!.release('two');
    b[2]!.release('three');
    const results = await Promise.all(ids.map((id) => jobs.wait(id)));
    expect(results.map((r) => r.Result)).toEqual(['one', 'two', 'three']);
    expect(jobs.list().map((j) => j.ID)).toEqual([...ids].reverse());
    await jobs.close();
  });

  test('cancelling a running job aborts its signal and the job ends Cancelled once the work stops', async () => {
    const jobs = createJobs();
    let stoppedAt = 0;
    const id = jobs.submit('Test', {}, async (ctx) => {
      ctx.progress({ addInstances: 1, addBytes: 5 });
      ctx.partialResult({ Instances: ['kept'] });
      await new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => {
          // The work takes a moment to stop cleanly; the job must not be Cancelled before.
          setTimeout(() => {
            stoppedAt = Date.now();
            reject(new AppError('cancelled', 'stopped'));
          }, 50);
        }),
      );
    }).ID;
    await sleep(20);
    expect(jobs.cancel(id)).toBe(true);
    expect(jobs.get(id)!.State).toBe('Running');
    const done = await jobs.wait(id);
    expect(Date.now()).toBeGreaterThanOrEqual(stoppedAt);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(done).toMatchObject({ State: 'Cancelled', ErrorKind: 'cancelled', ErrorCode: 37, Result: { Instances: ['kept'] } });
    expect(done.ErrorDescription).toMatch(/cancelled/);
    expect(jobs.cancel(id)).toBe(false);
    await jobs.close();
  });

  test('cancelling a pending job ends it at once without running its work', async () => {
    const jobs = createJobs({ concurrency: 1 });
    const first = blocker();
    const a = jobs.submit('Test', {}, first.work).ID;
    let ran = false;
    const b = jobs.submit('Test', {}, async () => {
      ran = true;
    }).ID;
    expect(jobs.get(b)!.State).toBe('Pending');
    expect(jobs.cancel(b)).toBe(true);
    expect(jobs.get(b)!.State).toBe('Cancelled');
    first.release('done');
    await jobs.wait(a);
    await sleep(10);
    expect(ran).toBe(false);
    await jobs.close();
  });

  test('transient errors are retried with backoff, each retry counted in attempt', async () => {
    const jobs = createJobs({ retries: 3, retryDelayMs: 20 });
    const seen: Array<{ attempt: number; at: number }> = [];
    const start = Date.now();
    const id = jobs.submit('Test', {}, async (ctx) => {
      seen.push({ attempt: ctx.attempt, at: Date.now() - start });
      if (ctx.attempt < 3) throw new AppError('remote-status', `HTTP 503 from http://x/studies (attempt ${ctx.attempt})`, { status: 503 });
      return 'ok';
    }).ID;
    const done = await jobs.wait(id);
    expect(done).toMatchObject({ State: 'Success', Attempt: 3, Result: 'ok', ErrorDescription: '' });
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    // 20 ms then 40 ms between attempts.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(18);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(38);
    await jobs.close();
  });

  test('a job that keeps failing transiently ends in Failure after the last retry, keeping the last error', async () => {
    const jobs = createJobs({ retries: 2, retryDelayMs: 5 });
    let calls = 0;
    const id = jobs.submit('Test', {}, async () => {
      calls++;
      throw new AppError('remote-unreachable', `retrieve from 'pacs': connection refused by http://127.0.0.1:9/ (try ${calls})`);
    }).ID;
    const done = await jobs.wait(id);
    expect(calls).toBe(3);
    expect(done).toMatchObject({ State: 'Failure', Attempt: 3, ErrorKind: 'remote-unreachable', ErrorCode: 9 });
    expect(done.ErrorDescription).toBe(`retrieve from 'pacs': connection refused by http://127.0.0.1:9/ (try 3)`);
    await jobs.close();
  });

  test('errors that are not transient (401, 404, malformed answers) fail at once', async () => {
    const jobs = createJobs({ retries: 3, retryDelayMs: 5 });
    for (const err of [
      new AppError('remote-status', 'HTTP 401 from http://x', { status: 401 }),
      new AppError('remote-status', 'HTTP 404 from http://x', { status: 404 }),
      new AppError('bad-request', 'malformed multipart'),
      new Error('plain bug'),
    ]) {
      let calls = 0;
      const id = jobs.submit('Test', {}, async () => {
        calls++;
        throw err;
      }).ID;
      const done = await jobs.wait(id);
      expect(calls).toBe(1);
      expect(done.State).toBe('Failure');
      expect(done.ErrorDescription).toBe(err.message);
    }
    await jobs.close();
  });

  test('the retry policy counts refused connections, 5xx and 429 as transient, nothing else', () => {
    expect(isTransient(new AppError('remote-unreachable', 'x'))).toBe(true);
    expect(isTransient(new AppError('remote-status', 'x', { status: 500 }))).toBe(true);
    expect(isTransient(new AppError('remote-status', 'x', { status: 429 }))).toBe(true);
    expect(isTransient(new AppError('remote-status', 'x', { status: 403 }))).toBe(false);
    expect(isTransient(new AppError('remote-status', 'x'))).toBe(false);
    expect(isTransient(new AppError('cancelled', 'x'))).toBe(false);
    expect([2, 3, 4, 10].map((n) => retryDelay(defaultRetryPolicy, n))).toEqual([1000, 2000, 4000, 30000]);
  });

  test('cancelling during the backoff between attempts ends the job Cancelled without another attempt', async () => {
    const jobs = createJobs({ retries: 3, retryDelayMs: 10_000 });
    let calls = 0;
    const id = jobs.submit('Test', {}, async () => {
      calls++;
      throw new AppError('remote-unreachable', 'refused');
    }).ID;
    await sleep(30);
    expect(jobs.get(id)!.State).toBe('Running');
    expect(jobs.get(id)!.Details.step).toMatch(/attempt 2 of 4 in 10\.0 s: refused/);
    jobs.cancel(id);
    const done = await jobs.wait(id);
    expect(done.State).toBe('Cancelled');
    expect(calls).toBe(1);
    await jobs.close();
  });

  test('resubmit runs the same work again under the same ID, only after Failure or Cancelled', async () => {
    const jobs = createJobs({ retries: 0 });
    let calls = 0;
    const id = jobs.submit('Test', { What: 'w' }, async (ctx) => {
      calls++;
      ctx.progress({ addInstances: 1 });
      if (calls === 1) throw new AppError('remote-status', 'HTTP 404 from http://x', { status: 404 });
      return calls;
    }).ID;
    expect((await jobs.wait(id)).State).toBe('Failure');
    expect(jobs.resubmit(id)).toBe(true);
    const done = await jobs.wait(id);
    expect(done).toMatchObject({ ID: id, State: 'Success', Result: 2, Attempt: 1, ErrorDescription: '', Content: { What: 'w' } });
    expect(done.Details.instancesDone).toBe(1);
    expect(jobs.resubmit(id)).toBe(false);
    expect(jobs.resubmit('nope')).toBe(false);
    await jobs.close();
  });

  test('bytes per second is measured over a sliding window while running', async () => {
    const jobs = createJobs();
    const b = blocker();
    const id = jobs.submit('Test', {}, async (ctx) => {
      for (let i = 0; i < 6; i++) {
        ctx.progress({ addBytes: 100_000 });
        await sleep(50);
      }
      return b.work(ctx);
    }).ID;
    await b.started;
    const running = jobs.get(id)!;
    expect(running.Details.bytesDone).toBe(600_000);
    expect(running.EffectiveRuntime).toBeGreaterThan(0.2);
    // All within the window (5 s): the speed is the bytes over the time running (~2 MB/s; busy machines are slower).
    const average = 600_000 / running.EffectiveRuntime;
    expect(running.Details.bytesPerSecond).toBeGreaterThan(average * 0.7);
    expect(running.Details.bytesPerSecond).toBeLessThan(average * 1.3);
    b.release('x');
    await jobs.wait(id);
    await jobs.close();
  });

  test('progress is the share of instances done when the total is known, else of bytes', async () => {
    const jobs = createJobs();
    const b1 = blocker();
    const a = jobs.submit('Test', {}, async (ctx) => {
      ctx.progress({ instancesTotal: 4, addInstances: 1, bytesTotal: 1000, addBytes: 900 });
      return b1.work(ctx);
    }).ID;
    const b2 = blocker();
    const b = jobs.submit('Test', {}, async (ctx) => {
      ctx.progress({ bytesTotal: 1000, addBytes: 500 });
      return b2.work(ctx);
    }).ID;
    await Promise.all([b1.started, b2.started]);
    expect(jobs.get(a)!.Progress).toBe(25);
    expect(jobs.get(b)!.Progress).toBe(50);
    b1.release('');
    b2.release('');
    await jobs.wait(a);
    await jobs.wait(b);
    await jobs.close();
  });

  test('close cancels pending and running jobs and waits for their work to stop', async () => {
    const jobs = createJobs({ concurrency: 1 });
    const b = blocker();
    const a = jobs.submit('Test', {}, b.work).ID;
    const p = jobs.submit('Test', {}, async () => 'never').ID;
    await b.started;
    await jobs.close();
    expect(jobs.get(a)!.State).toBe('Cancelled');
    expect(jobs.get(p)!.State).toBe('Cancelled');
    expect(() => jobs.submit('Test', {}, async () => 1)).toThrow(/closing/);
  });

  test('finished jobs beyond the history size are forgotten, oldest first', async () => {
    const jobs = createJobs({ maxHistory: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const id = jobs.submit('Test', {}, async () => i).ID;
      ids.push(id);
      await jobs.wait(id);
    }
    expect(jobs.list().map((j) => j.ID)).toEqual([ids[3], ids[2]]);
    await expect(jobs.wait(ids[0]!)).rejects.toThrow(/unknown job/);
    await jobs.close();
  });
});

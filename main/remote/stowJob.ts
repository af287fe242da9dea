/**
 * The STOW-RS client job (Orthanc's "DicomWebStowClient"): sends local
 * instances to a remote DICOMweb server with STOW-RS (PS3.18 10.5, POST
 * {Url}/studies, multipart/related; type="application/dicom", Accept
 * application/dicom+json), one request per batch (stowBatches.ts; up to
 * STOW_PARALLEL_REQUESTS in flight, as the remote ingests them in parallel) or,
 * with ChunkedTransfers, a few chunked requests side by side (one for a small
 * call), each body streamed from disk (stowBody.ts), and reports
 * per instance what the remote stored and refused (stowAnswer.ts).
 *
 * Progress counts instances and body bytes against totals known before the
 * first byte. Cancel aborts the request in flight. When the jobs engine runs
 * the work again (retry of a transient error, resubmit), the batches already
 * answered are not sent again.
 */
import { AppError } from '../errors.js';
import { newBoundary } from '../dicomweb/multipart.js';
import type { JobContext, JobWork } from '../jobs/types.js';
import { rephrase, remoteStatusError } from './httpClient.js';
import type { RemoteClient } from './types.js';
import { planChunkedRequests, planStowRequests, type StowLimits } from './stowBatches.js';
import { stowBody, stowBodyLength, STOW_PART_TYPE } from './stowBody.js';
import { parseStowDataset, readStowAnswer, STOW_ANSWER_STATUSES, type StowInstanceReport } from './stowAnswer.js';
import type { StowInstance } from './stowResources.js';

export const STOW_JOB_TYPE = 'DicomWebStowClient';
/** STOW-RS requests in flight at once when a call is cut into several. */
export const STOW_PARALLEL_REQUESTS = 4;

export interface StowJobParams {
  /** The remote server's name (DicomWeb.Servers). */
  server: string;
  instances: StowInstance[];
  /** Extra request headers from the call (HttpHeaders). */
  httpHeaders: Record<string, string>;
  /** Chunked requests, not cut by the limits (the server's ChunkedTransfers): one, or a few side by side for a large call. */
  chunked: boolean;
  limits: StowLimits;
  /** Requests in flight at once (batches only); default STOW_PARALLEL_REQUESTS. */
  parallel?: number;
  /** The server's HTTP client (looked up at each attempt: the server may have changed). */
  clientFor(name: string): RemoteClient;
}

/** The job's result, and the synchronous answer of POST …/stow. */
export interface StowResult {
  /** Orthanc's fields (strings, as its job content has them). */
  InstancesCount: string;
  NetworkSizeMB: string;
  Server: string;
  /** STOW-RS requests answered by the remote. */
  Requests: number;
  /** Body bytes sent in those requests. */
  SentBytes: number;
  StoredCount: number;
  FailedCount: number;
  Stored: StowInstanceReport[];
  Failed: StowInstanceReport[];
  Warnings: string[];
}

interface BatchOutcome {
  bytes: number;
  stored: StowInstanceReport[];
  failed: StowInstanceReport[];
  warnings: string[];
}

/** Largest answer read (a STOW-RS response lists every instance: ~300 bytes each). */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

export function stowWork(params: StowJobParams): JobWork<StowResult> {
  const { server, instances, limits } = params;
  const parallel = Math.max(1, params.parallel ?? STOW_PARALLEL_REQUESTS);
  const what = `stow to '${server}'`;
  const boundary = newBoundary();
  const batches = params.chunked ? planChunkedRequests(instances, parallel, boundary) : planStowRequests(instances, limits, boundary);
  const lengths = batches.map((b) => stowBodyLength(b, boundary));
  const bytesTotal = lengths.reduce((a, b) => a + b, 0);
  /** Answers kept across attempts: batch index → outcome. */
  const done = new Map<number, BatchOutcome>();

  const result = (): StowResult => {
    const outcomes = [...done.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    const stored = outcomes.flatMap((o) => o.stored);
    const failed = outcomes.flatMap((o) => o.failed);
    const sentBytes = outcomes.reduce((n, o) => n + o.bytes, 0);
    return {
      InstancesCount: String(instances.length),
      NetworkSizeMB: String(Math.floor(sentBytes / (1024 * 1024))),
      Server: server,
      Requests: outcomes.length,
      SentBytes: sentBytes,
      StoredCount: stored.length,
      FailedCount: failed.length,
      Stored: stored,
      Failed: failed,
      Warnings: outcomes.flatMap((o) => o.warnings),
    };
  };

  async function send(client: RemoteClient, index: number, ctx: JobContext): Promise<BatchOutcome> {
    const batch = batches[index]!;
    const failure: { error?: AppError } = {};
    const body = stowBody(batch, {
      boundary,
      signal: ctx.signal,
      what,
      failure,
      onBytes: (n) => ctx.progress({ addBytes: n }),
      onInstance: () => ctx.progress({ addInstances: 1 }),
    });
    // The caller's headers, but never over the ones that frame the body (whatever their case).
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(params.httpHeaders)) {
      if (!/^(content-type|content-length|transfer-encoding|accept)$/i.test(name)) headers[name] = value;
    }
    headers['Content-Type'] = `multipart/related; type="${STOW_PART_TYPE}"; boundary=${boundary}`;
    headers.Accept = 'application/dicom+json';
    if (!params.chunked) headers['Content-Length'] = String(lengths[index]);

    let answer: Awaited<ReturnType<RemoteClient['fetchBuffer']>>;
    try {
      answer = await client.fetchBuffer({ method: 'POST', path: 'studies', headers, body, chunked: params.chunked, signal: ctx.signal }, () => true);
    } catch (err) {
      body.destroy();
      if (failure.error) throw failure.error;
      if (ctx.signal.aborted) throw new AppError('cancelled', `${what}: cancelled`);
      const said = rephrase(err, what);
      if (said instanceof AppError) throw said;
      throw new AppError('remote-unreachable', `${what}: ${(said as Error).message}`, { server });
    }
    if (failure.error) throw failure.error;

    const { status, url } = answer;
    const contentType = typeof answer.headers['content-type'] === 'string' ? answer.headers['content-type'] : undefined;
    const dataset = STOW_ANSWER_STATUSES.has(status) && answer.body.length <= MAX_ANSWER_BYTES ? parseStowDataset(answer.body) : undefined;
    if (!dataset && status !== 200 && status !== 202) {
      const text = answer.body.subarray(0, 64 * 1024).toString('utf8');
      throw remoteStatusError(server, what, status, url, contentType === undefined || /json|text|xml/i.test(contentType) ? text : undefined);
    }
    const read = readStowAnswer(status, dataset, batch);
    return { bytes: lengths[index]!, ...read };
  }

  return async (ctx) => {
    // Counters start afresh at each attempt: count what earlier attempts finished.
    const already = [...done.keys()];
    ctx.progress({
      instancesTotal: instances.length,
      bytesTotal,
      instancesDone: already.reduce((n, i) => n + batches[i]!.length, 0),
      bytesDone: already.reduce((n, i) => n + lengths[i]!, 0),
      step: `${instances.length} instance(s) to '${server}' in ${batches.length} request(s)${params.chunked ? ' (chunked)' : ''}`,
    });
    const todo = batches.map((_, i) => i).filter((i) => !done.has(i));
    if (todo.length > 0) {
      const client = params.clientFor(server);
      // A few requests in flight (the remote ingests in parallel). After a failure
      // no new request starts; those in flight finish (their answers are kept).
      let failed: unknown;
      let answered = done.size;
      const worker = async () => {
        for (let i = todo.shift(); i !== undefined && failed === undefined; i = todo.shift()) {
          if (ctx.signal.aborted) {
            failed ??= new AppError('cancelled', `${what}: cancelled`);
            return;
          }
          try {
            done.set(i, await send(client, i, ctx));
          } catch (err) {
            failed ??= err;
            return;
          }
          answered++;
          ctx.progress({ step: `${answered} of ${batches.length} request(s) to '${server}' answered` });
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
      if (failed !== undefined) {
        // What the answered requests did stays visible on the failed or cancelled job.
        if (done.size > 0) ctx.partialResult(result());
        throw failed;
      }
    }
    const final = result();
    if (final.StoredCount === 0 && final.FailedCount > 0) {
      ctx.partialResult(final);
      const first = final.Failed[0]!;
      throw new AppError(
        'conflict',
        `${what}: the remote refused all ${final.FailedCount} instance(s); first: ${first.SOPInstanceUID} (local ${first.ID}), ${first.Message ?? 'refused'}`,
        { server },
      );
    }
    return final;
  };
}

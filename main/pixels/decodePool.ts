/**
 * The decode pool: worker threads (piscina) that decode compressed frames and
 * render images, so the CPU-bound codecs and windowing never block the event
 * loop that serves HTTP. Frames of stored instances are read from their files
 * on the worker itself (decodeStoredInPool, renderStoredInPool): only the
 * decoded frame or the encoded image crosses threads. Threads: min(4,
 * available parallelism), two tasks each (see TASKS_PER_THREAD), started on
 * demand; an idle thread is unref'd
 * (piscina does so) and ends after IDLE_TIMEOUT_MS, so the pool never keeps a
 * process alive. closeDecodePool() ends them all (the engine's close calls it).
 *
 * Under vitest / tsx the sources are .ts: the worker is started with
 * `--import tsx` so it can load them; built code (dist/*.js) uses plain workers.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { AppError } from '../errors.js';
import type { DecodedFrame, FrameInfo } from './types.js';
import type { StoredInstance } from '../store/types.js';
import type { DecodeStoredResult, DecodeStoredTask, DecodeTask, PixelTaskResult, RenderStoredResult, RenderStoredTask, StoredTaskFailure } from './pixelWorker.js';
import type { RenderingAttributes, RenderParams } from './render.js';

const IDLE_TIMEOUT_MS = 30_000;
const TASKS_PER_THREAD = 2;

let pool: Piscina | undefined;

function decodePool(): Piscina {
  if (!pool) {
    const fromSources = import.meta.url.endsWith('.ts');
    pool = new Piscina({
      filename: new URL(fromSources ? './pixelWorker.ts' : './pixelWorker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: Math.min(4, availableParallelism()),
      idleTimeout: IDLE_TIMEOUT_MS,
      // A render task waits on the file read and on sharp (libuv threads) for part of its
      // time: a second task per thread keeps the thread busy meanwhile (measured, bench:pixels).
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      ...(fromSources ? { execArgv: ['--import', 'tsx'] } : {}),
    });
  }
  return pool;
}

/** Decodes one compressed frame on a worker thread; errors come back as the AppError the codec threw. */
export async function decodeInPool(stored: Buffer, info: FrameInfo): Promise<DecodedFrame> {
  const result = await runDecode(stored, info);
  if (!result.ok) throw new AppError(result.kind, result.message);
  const { bytes } = result.frame;
  return { ...result.frame, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** The worker's raw answer (with its threadId, which tests check). */
export async function runDecode(stored: Buffer, info: FrameInfo): Promise<PixelTaskResult> {
  // The compressed bytes are copied into a buffer that is then transferred: the
  // caller keeps its `stored` usable (transferring it would detach it under its
  // feet). The decoded frame, the larger one, comes back transferred.
  const bytes = new Uint8Array(stored);
  const task: DecodeTask = { task: 'decode', stored: bytes, info: { ...info } };
  return (await decodePool().run(task, { transferList: [bytes.buffer as ArrayBuffer] })) as PixelTaskResult;
}

/**
 * Reads, decodes and renders frame `frame` of a stored instance on a worker
 * thread. Failures are thrown as `onFailure` words them (see RenderStoredResult).
 */
export async function renderStoredInPool(
  instance: StoredInstance,
  frame: number,
  eightBitAsOW: boolean,
  attributes: RenderingAttributes,
  params: RenderParams,
  onFailure: (failure: StoredTaskFailure) => never,
): Promise<Buffer> {
  const task: RenderStoredTask = { task: 'render-stored', instance, frame, eightBitAsOW, attributes, params };
  const result = (await decodePool().run(task)) as RenderStoredResult;
  if (!result.ok) onFailure(result);
  return Buffer.from(result.image.buffer, result.image.byteOffset, result.image.byteLength);
}

/** Reads and decodes frame `frame` of a stored instance (compressed) on a worker thread; the decoded bytes come back transferred. */
export async function decodeStoredInPool(instance: StoredInstance, frame: number, onFailure: (failure: StoredTaskFailure) => never): Promise<DecodedFrame> {
  const task: DecodeStoredTask = { task: 'decode-stored', instance, frame };
  const result = (await decodePool().run(task)) as DecodeStoredResult;
  if (!result.ok) onFailure(result);
  const { bytes } = result.frame;
  return { ...result.frame, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Ends the worker threads (pending decodes are rejected); the next decode starts a new pool. */
export async function closeDecodePool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}

/**
 * The decode pool: worker threads (piscina) that decode compressed frames so
 * the CPU-bound codecs never block the event loop that serves HTTP. Threads:
 * min(4, available parallelism), started on demand; an idle thread is unref'd
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
import type { DecodeTask, PixelTaskResult, RenderTask, RenderTaskResult } from './pixelWorker.js';
import type { RenderingAttributes, RenderParams } from './render.js';

const IDLE_TIMEOUT_MS = 30_000;

let pool: Piscina | undefined;

function decodePool(): Piscina {
  if (!pool) {
    const fromSources = import.meta.url.endsWith('.ts');
    pool = new Piscina({
      filename: new URL(fromSources ? './pixelWorker.ts' : './pixelWorker.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: Math.min(4, availableParallelism()),
      idleTimeout: IDLE_TIMEOUT_MS,
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
 * Decodes and renders one stored frame (native or compressed) on a worker
 * thread: the windowing loop and the JPEG/PNG encoding stay off the event loop,
 * and only the encoded image crosses back.
 */
export async function renderInPool(stored: Buffer, info: FrameInfo, attributes: RenderingAttributes, params: RenderParams): Promise<Buffer> {
  const bytes = new Uint8Array(stored);
  const task: RenderTask = { task: 'render', stored: bytes, info: { ...info }, attributes, params };
  const result = (await decodePool().run(task, { transferList: [bytes.buffer as ArrayBuffer] })) as RenderTaskResult;
  if (!result.ok) throw new AppError(result.kind, result.message);
  return Buffer.from(result.image.buffer, result.image.byteOffset, result.image.byteLength);
}

/** Ends the worker threads (pending decodes are rejected); the next decode starts a new pool. */
export async function closeDecodePool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}

/**
 * The decode pool's worker (decodePool.ts, piscina): runs pixel tasks off the
 * server's event loop. A task names what to do: `decode` a frame given as
 * bytes, `decode-stored` / `render-stored` a frame read from its file here
 * (blocking reads: this thread serves nothing else). Each wasm codec is loaded
 * once per worker thread (main/pixels/codecs/wasmModule.ts). Failures come back as data
 * (kind and message) because an AppError does not survive the structured
 * clone between threads; the frame's bytes are transferred, not copied.
 */
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { AppError, asAppError, type ErrorKind } from '../errors.js';
import type { StoredInstance } from '../store/types.js';
import { decodeFrameInThread, isNative, nativeFrame } from './decodeFrame.js';
import { openPixelSource } from './pixelSource.js';
import { renderFrame, shownSize, type PaletteLut, type RenderingAttributes, type RenderParams } from './render.js';
import { BufferPool } from './bufferPool.js';
import type { DecodedFrame, FrameAllocator, FrameInfo } from './types.js';

export interface DecodeTask {
  task: 'decode';
  stored: Uint8Array;
  info: FrameInfo;
}

/**
 * Read (from the stored file), decode and render one frame of an instance: the
 * frame's bytes never cross between threads, only the encoded image comes back.
 */
export interface RenderStoredTask {
  task: 'render-stored';
  instance: StoredInstance;
  frame: number;
  eightBitAsOW: boolean;
  attributes: RenderingAttributes;
  params: RenderParams;
}

/** Read (from the stored file) and decode one frame: the compressed bytes never cross between threads. */
export interface DecodeStoredTask {
  task: 'decode-stored';
  instance: StoredInstance;
  frame: number;
}

export type PixelTask = DecodeTask | DecodeStoredTask | RenderStoredTask;

export type RenderStoredResult = { ok: true; image: Uint8Array } | StoredTaskFailure;

/**
 * A failure reading the frame (stage 'read': missing file, frame beyond the
 * data), decoding or rendering it (`appError` false for a codec's or sharp's
 * own exception), so that the caller words it as it would in its own thread.
 */
export interface StoredTaskFailure {
  ok: false;
  stage: 'read' | 'render' | 'decode';
  appError: boolean;
  kind: ErrorKind;
  message: string;
}

export type DecodeStoredResult = { ok: true; frame: Omit<DecodedFrame, 'bytes'> & { bytes: Uint8Array } } | StoredTaskFailure;

export type PixelTaskResult =
  | { ok: true; frame: Omit<DecodedFrame, 'bytes'> & { bytes: Uint8Array }; threadId: number }
  | { ok: false; kind: ErrorKind; message: string; threadId: number };

export default async function runPixelTask(task: PixelTask): Promise<unknown> {
  if (task.task === 'render-stored') return runRenderStored(task);
  if (task.task === 'decode-stored') return runDecodeStored(task);
  try {
    if (task.task !== 'decode') throw new Error(`unknown pixel task ${JSON.stringify((task as { task: unknown }).task)}`);
    const stored = Buffer.from(task.stored.buffer, task.stored.byteOffset, task.stored.byteLength);
    const frame = await decodeFrameInThread(stored, task.info);
    const bytes = ownedBytes(frame.bytes);
    const result: PixelTaskResult = { ok: true, frame: { ...frame, bytes }, threadId };
    return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
  } catch (err) {
    const { kind, message } = asAppError(err);
    const result: PixelTaskResult = { ok: false, kind, message, threadId };
    return result;
  }
}

function failure(stage: StoredTaskFailure['stage'], err: unknown): StoredTaskFailure {
  const { kind, message } = asAppError(err);
  return { ok: false, stage, appError: err instanceof AppError, kind, message };
}

/** Frame n of a stored instance, read here with blocking calls (this is a worker thread). */
async function readStored(instance: StoredInstance, frame: number, eightBitAsOW: boolean, allocate?: FrameAllocator): Promise<{ stored: Buffer; info: FrameInfo }> {
  const source = await openPixelSource(instance, { eightBitAsOW, blocking: true });
  try {
    return { stored: await source.readStoredFrame(frame, allocate), info: source.info };
  } finally {
    await source.close();
  }
}

async function runDecodeStored(task: DecodeStoredTask): Promise<unknown> {
  let read: { stored: Buffer; info: FrameInfo };
  try {
    read = await readStored(task.instance, task.frame, false);
  } catch (err) {
    return failure('read', err);
  }
  try {
    const frame = await decodeFrameInThread(read.stored, read.info);
    const bytes = ownedBytes(frame.bytes);
    const result: DecodeStoredResult = { ok: true, frame: { ...frame, bytes } };
    return move({ [transferableSymbol]: bytes.buffer, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
  } catch (err) {
    return failure('decode', err);
  }
}

/**
 * The stored frame, the decoded frame and the display pixels of a render task
 * are lent by this pool and given back once the image is encoded: rendering a
 * series allocates no frame-sized memory per image (see bufferPool.ts for why).
 * Only the encoded image leaves the thread. Up to 64 MB kept per worker thread.
 */
const renderBuffers = new BufferPool(64 * 1024 * 1024);

async function runRenderStored(task: RenderStoredTask): Promise<unknown> {
  const lent: Buffer[] = [];
  const allocate = (length: number) => {
    const buffer = renderBuffers.take(length);
    lent.push(buffer);
    return buffer;
  };
  try {
    let stored: Buffer;
    let info: FrameInfo;
    try {
      ({ stored, info } = await readStored(task.instance, task.frame, task.eightBitAsOW, allocate));
    } catch (err) {
      return failure('read', err);
    }
    try {
      // Shown smaller than it is (thumbnail, viewport without a source region): a JPEG 2000 frame is decoded at
      // a lower resolution still at least twice the shown size (see decodeFrameInThread), then scaled to that size.
      const whole = { width: info.columns, height: info.rows };
      const shown = task.params.viewport?.region ? undefined : shownSize(whole, task.params.viewport);
      const frame = isNative(info.transferSyntaxUID) ? nativeFrame(stored, info) : await decodeFrameInThread(stored, info, allocate, shown);
      const image = ownedBytes(await renderFrame(frame, withBuffers(task.attributes), task.params, allocate, whole));
      const result: RenderStoredResult = { ok: true, image };
      return move({ [transferableSymbol]: image.buffer, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
    } catch (err) {
      return failure('render', err);
    }
  } finally {
    // The image is encoded (or the task failed): nothing refers to the lent buffers any more.
    for (const buffer of lent) renderBuffers.give(buffer);
  }
}

/** Palette LUT data arrive as Uint8Array (the structured clone drops Buffer's prototype): Buffers again. */
function withBuffers(attributes: RenderingAttributes): RenderingAttributes {
  const palette = attributes.palette;
  if (!palette) return attributes;
  const asBuffer = (lut: PaletteLut): PaletteLut => ({ ...lut, data: Buffer.from(lut.data.buffer, lut.data.byteOffset, lut.data.byteLength) });
  return { ...attributes, palette: { red: asBuffer(palette.red), green: asBuffer(palette.green), blue: asBuffer(palette.blue) } };
}

/** Bytes that own their whole ArrayBuffer (a slice of Buffer's shared pool must not be transferred). */
function ownedBytes(bytes: Buffer): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return new Uint8Array(bytes.buffer);
  }
  return new Uint8Array(bytes);
}

/**
 * The decode pool's worker (decodePool.ts, piscina): runs pixel tasks off the
 * server's event loop. A task names what to do (`task: 'decode'`; rendering
 * can be added as another kind). Each wasm codec is loaded once per worker
 * thread (main/pixels/codecs/wasmModule.ts). Failures come back as data
 * (kind and message) because an AppError does not survive the structured
 * clone between threads; the frame's bytes are transferred, not copied.
 */
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { asAppError, type ErrorKind } from '../errors.js';
import { decodeFrameInThread } from './decodeFrame.js';
import { renderFrame, type PaletteLut, type RenderingAttributes, type RenderParams } from './render.js';
import type { DecodedFrame, FrameInfo } from './types.js';

export interface DecodeTask {
  task: 'decode';
  stored: Uint8Array;
  info: FrameInfo;
}

/** Decode (native or compressed) and render one frame: only the small encoded image comes back. */
export interface RenderTask {
  task: 'render';
  stored: Uint8Array;
  info: FrameInfo;
  attributes: RenderingAttributes;
  params: RenderParams;
}

export type PixelTask = DecodeTask | RenderTask;

export type RenderTaskResult = { ok: true; image: Uint8Array } | { ok: false; kind: ErrorKind; message: string };

export type PixelTaskResult =
  | { ok: true; frame: Omit<DecodedFrame, 'bytes'> & { bytes: Uint8Array }; threadId: number }
  | { ok: false; kind: ErrorKind; message: string; threadId: number };

export default async function runPixelTask(task: PixelTask): Promise<unknown> {
  if (task.task === 'render') return runRender(task);
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

async function runRender(task: RenderTask): Promise<unknown> {
  try {
    const stored = Buffer.from(task.stored.buffer, task.stored.byteOffset, task.stored.byteLength);
    const frame = await decodeFrameInThread(stored, task.info);
    const image = ownedBytes(await renderFrame(frame, withBuffers(task.attributes), task.params));
    const result: RenderTaskResult = { ok: true, image };
    return move({ [transferableSymbol]: image.buffer, [valueSymbol]: result } as unknown as Parameters<typeof move>[0]);
  } catch (err) {
    const { kind, message } = asAppError(err);
    const result: RenderTaskResult = { ok: false, kind, message };
    return result;
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

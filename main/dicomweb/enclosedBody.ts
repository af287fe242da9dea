/**
 * A one-part answer (multipart head, body, closing delimiter) built in a
 * single buffer: the body is read or decoded straight into its place between
 * the head and the tail (`allocate`, a FrameAllocator), then the whole answer
 * is sent in one write with a Content-Length. No frame-sized copy, and one
 * frame-sized allocation per answer rather than two or three (see
 * main/pixels/bufferPool.ts for what fresh memory costs).
 */
import type { FrameAllocator } from '../pixels/types.js';

export interface EnclosedBody {
  /** The body's place: `length` bytes after the head, starting 4-byte aligned (decoders write 32-bit words). */
  allocate: FrameAllocator;
  /** The whole answer: built in place when `body` is the place `allocate` gave, else copied together. */
  wrap(body: Buffer): Buffer;
}

export function enclosedBody(head: Buffer, tail: Buffer): EnclosedBody {
  let whole: Buffer | undefined;
  let place: Buffer | undefined;
  return {
    allocate(length) {
      const pad = (4 - (head.length % 4)) % 4;
      whole = Buffer.allocUnsafeSlow(pad + head.length + length + tail.length).subarray(pad);
      head.copy(whole, 0);
      place = whole.subarray(head.length, head.length + length);
      return place;
    },
    wrap(body) {
      if (whole && place && body.buffer === place.buffer && body.byteOffset === place.byteOffset && body.length === place.length) {
        tail.copy(whole, head.length + body.length);
        return whole;
      }
      return Buffer.concat([head, body, tail]);
    },
  };
}

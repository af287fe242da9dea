/**
 * Frame cutting for WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4, frame numbers
 * 1-based): which bytes of the stored file make frame n (PS3.5 8.2 native
 * pixel data, PS3.5 A.4 encapsulated fragments), read at their offsets only,
 * and delivered as little endian (PS3.18 8.7.3.3.2: uncompressed bulk data is
 * Explicit VR Little Endian).
 */
import type { FileHandle } from 'node:fs/promises';
import type { ByteRange, PixelLayout } from '../dicom/types.js';
import { AppError } from '../errors.js';
import type { FrameAllocator } from '../pixels/types.js';

/** Most frame numbers one request may list. */
const MAX_FRAMES_PER_REQUEST = 100_000;

/** `1,3,5` → [1, 3, 5]; anything but positive integers → 400. */
export function parseFrameList(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_FRAMES_PER_REQUEST) {
    throw new AppError('bad-request', `frame list has ${items.length} numbers, at most ${MAX_FRAMES_PER_REQUEST} are allowed`);
  }
  return items.map((item) => {
    if (!/^[0-9]{1,9}$/.test(item) || Number(item) < 1) {
      throw new AppError('bad-request', `frame list ${JSON.stringify(text.slice(0, 100))} must be comma-separated frame numbers starting at 1, got ${JSON.stringify(item)}`);
    }
    return Number(item);
  });
}

export function frameCount(layout: PixelLayout): number {
  if (layout.encapsulated) return layout.frames?.length ?? 0;
  return Math.max(1, layout.numberOfFrames);
}

/**
 * Bits of one native frame (PS3.5 8.1.1: frames are contiguous, 1-bit frames
 * are not padded to bytes). YBR_FULL_422 native data holds 2 samples per pixel
 * (two Y values share one CB and one CR, PS3.3 C.7.6.3.1.2).
 */
function frameBits(layout: PixelLayout): number {
  const samples = layout.photometricInterpretation === 'YBR_FULL_422' ? 2 : layout.samplesPerPixel;
  return layout.rows * layout.columns * samples * layout.bitsAllocated;
}

/** Bytes of one uncompressed frame as delivered (1-bit frames rounded up to whole bytes). */
export function nativeFrameLength(layout: PixelLayout): number {
  return Math.ceil(frameBits(layout) / 8);
}

/** Where frame `n` (1-based, checked by the caller) lies: one range for native data, the fragments for encapsulated data. */
export function frameRanges(layout: PixelLayout, n: number): ByteRange[] {
  if (layout.encapsulated) {
    const fragments = layout.frames?.[n - 1];
    if (!fragments) throw new AppError('not-found', `frame ${n} is not in the pixel data (${frameCount(layout)} frames)`);
    return fragments;
  }
  if (!layout.value) throw new AppError('store-corrupt', 'native pixel data without a stored value offset');
  const bits = frameBits(layout);
  const startBit = (n - 1) * bits;
  const start = Math.floor(startBit / 8);
  const end = Math.ceil((startBit + bits) / 8);
  if (end > layout.value.length) {
    throw new AppError('not-found', `frame ${n} lies beyond the end of the pixel data (${layout.value.length} bytes for ${frameCount(layout)} frames)`);
  }
  return [{ offset: layout.value.offset + start, length: end - start }];
}

/**
 * Reads byte ranges from somewhere: an open file, or bytes in memory (inflated
 * deflated datasets). `into` (range.length bytes) is where a file is read to;
 * bytes in memory come back as a view instead, so use the buffer returned.
 */
export interface ByteSource {
  read(range: ByteRange, into?: Buffer): Promise<Buffer>;
}

export function fileByteSource(handle: FileHandle, what: string): ByteSource {
  return {
    async read({ offset, length }, into) {
      const buffer = into ?? Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new AppError('store-corrupt', `${what}: file ends before byte ${offset + length}`);
        done += bytesRead;
      }
      return buffer;
    },
  };
}

export function bufferByteSource(bytes: Buffer, what: string): ByteSource {
  return {
    async read({ offset, length }) {
      if (offset + length > bytes.length) throw new AppError('store-corrupt', `${what}: data ends before byte ${offset + length}`);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** In place: swaps each `wordBytes`-byte word (big endian → little endian). */
export function swapBytes(buffer: Buffer, wordBytes: 2 | 4 | 8): Buffer {
  const usable = buffer.length - (buffer.length % wordBytes);
  const view = usable === buffer.length ? buffer : buffer.subarray(0, usable);
  if (wordBytes === 2) view.swap16();
  else if (wordBytes === 4) view.swap32();
  else view.swap64();
  return buffer;
}

export interface NativeFrameOptions {
  /** The dataset is big endian: words of `bitsAllocated` (or of the OW value for 8-bit data) are swapped. */
  bigEndian: boolean;
  /** Big endian 8-bit data stored as OW: its bytes are swapped in 16-bit words in the file. */
  eightBitAsOW?: boolean;
}

/**
 * The bytes of native frame `n` (1-based), little endian. 1-bit frames that do
 * not start on a byte boundary are shifted so the frame's first pixel is the
 * least significant bit of the first byte (PS3.5 8.1.1 bit order).
 */
export async function readNativeFrame(source: ByteSource, layout: PixelLayout, n: number, options: NativeFrameOptions, allocate?: FrameAllocator): Promise<Buffer> {
  const bits = frameBits(layout);
  if (options.bigEndian && layout.bitsAllocated === 8 && options.eightBitAsOW) {
    // Swapping is per 16-bit word of the whole value: read whole words around the frame.
    const [range] = frameRanges(layout, n);
    const valueStart = layout.value!.offset;
    const alignedStart = range!.offset - ((range!.offset - valueStart) % 2);
    const alignedEnd = Math.min(valueStart + layout.value!.length, range!.offset + range!.length + ((range!.offset + range!.length - valueStart) % 2));
    const words = swapBytes(Buffer.from(await source.read({ offset: alignedStart, length: alignedEnd - alignedStart })), 2);
    return words.subarray(range!.offset - alignedStart, range!.offset - alignedStart + range!.length);
  }
  const [range] = frameRanges(layout, n);
  let bytes = await source.read(range!, allocate?.(range!.length));
  if (layout.bitsAllocated === 1) {
    const shift = ((n - 1) * bits) % 8;
    if (shift !== 0) bytes = shiftBitsDown(bytes, shift, bits);
    else if (bits % 8 !== 0) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 1]! &= (1 << bits % 8) - 1;
    }
    return bytes;
  }
  if (options.bigEndian && (layout.bitsAllocated === 16 || layout.bitsAllocated === 32 || layout.bitsAllocated === 64)) {
    // A private copy: the source may be a view of shared bytes.
    bytes = swapBytes(Buffer.from(bytes), (layout.bitsAllocated / 8) as 2 | 4 | 8);
  }
  return bytes;
}

/** `bits` bits starting at bit `shift` of `bytes`, re-aligned to bit 0 (LSB first). */
function shiftBitsDown(bytes: Buffer, shift: number, bits: number): Buffer {
  const out = Buffer.alloc(Math.ceil(bits / 8));
  for (let i = 0; i < out.length; i++) {
    const low = bytes[i]! >> shift;
    const high = i + 1 < bytes.length ? (bytes[i + 1]! << (8 - shift)) & 0xff : 0;
    out[i] = low | high;
  }
  if (bits % 8 !== 0) out[out.length - 1]! &= (1 << bits % 8) - 1;
  return out;
}

/** The bytes of encapsulated frame `n` (1-based): its fragments concatenated, as stored (into `allocate`'s buffer if given). */
export async function readEncapsulatedFrame(source: ByteSource, layout: PixelLayout, n: number, allocate?: FrameAllocator): Promise<Buffer> {
  const fragments = frameRanges(layout, n);
  if (allocate) {
    const frame = allocate(fragments.reduce((sum, f) => sum + f.length, 0));
    let at = 0;
    for (const fragment of fragments) {
      const place = frame.subarray(at, at + fragment.length);
      const got = await source.read(fragment, place);
      if (got !== place) got.copy(place);
      at += fragment.length;
    }
    return frame;
  }
  const parts: Buffer[] = [];
  for (const fragment of fragments) parts.push(await source.read(fragment));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

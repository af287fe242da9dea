/**
 * Decoded samples → the bytes of a DecodedFrame (main/pixels/types.ts):
 * little endian words of BitsAllocated, after checking the codec gave exactly
 * rows × columns × samples values (a codec that returns a different size is
 * reported, never passed on as pixels).
 *
 * Bits outside BitsStored (PS3.5 8.1.1): values are masked to BitsStored and,
 * when PixelRepresentation is 1, sign-extended from bit BitsStored-1 to the
 * whole word — so a signed 12-bit -1 decoded from JPEG Lossless (which
 * delivers 0xFFF) becomes the 16-bit word 0xFFFF, and reading the bytes as
 * Int16 gives the value. Masking then sign-extending again is a no-op, so a
 * reader that does it itself gets the same values.
 */
import { endianness } from 'node:os';
import type { FrameInfo } from '../types.js';
import { corrupt } from './frameErrors.js';

if (endianness() !== 'LE') throw new Error('the pixel codecs assume a little endian host (typed arrays are written as they lie in memory)');

export function expectedSampleCount(info: FrameInfo): number {
  return info.rows * info.columns * info.samplesPerPixel;
}

export function checkSize(info: FrameInfo, codec: string, rows: number, columns: number, components: number): void {
  if (rows !== info.rows || columns !== info.columns || components !== info.samplesPerPixel) {
    throw corrupt(
      info.transferSyntaxUID,
      `${codec} decoded ${columns}x${rows} with ${components} component(s), the dataset says ${info.columns}x${info.rows} with ${info.samplesPerPixel} sample(s) per pixel`,
    );
  }
}

/** Samples as delivered by a codec (one number per sample, interleaved) → words of BitsAllocated. */
export function toWords(values: ArrayLike<number>, info: FrameInfo, codec: string): Buffer {
  const count = expectedSampleCount(info);
  if (values.length !== count) {
    throw corrupt(info.transferSyntaxUID, `${codec} delivered ${values.length} samples, ${count} expected (${info.columns}x${info.rows}x${info.samplesPerPixel})`);
  }
  const bytes = info.bitsAllocated / 8;
  if (bytes !== 1 && bytes !== 2 && bytes !== 4) throw corrupt(info.transferSyntaxUID, `BitsAllocated ${info.bitsAllocated} is not 8, 16 or 32`);
  const out = Buffer.allocUnsafe(count * bytes);
  const words = bytes === 1 ? new Uint8Array(out.buffer, out.byteOffset, count) : bytes === 2 ? new Uint16Array(out.buffer, out.byteOffset, count) : new Uint32Array(out.buffer, out.byteOffset, count);
  const stored = Math.min(info.bitsStored, info.bitsAllocated);
  if (stored === info.bitsAllocated) {
    // Nothing to mask: typed-array assignment wraps each value modulo 2^bitsAllocated (two's complement for negatives).
    words.set(values);
    return out;
  }
  // stored < bitsAllocated ≤ 32, so `mask` < 2^31 and `v & mask` is a small non-negative integer;
  // a negative v written to an unsigned typed array wraps to its two's complement word.
  const mask = 2 ** stored - 1;
  const signBit = 2 ** (stored - 1);
  const fullRange = 2 * signBit;
  if (info.pixelRepresentation === 1) signExtend(values, words, count, mask, signBit, fullRange);
  else maskOnly(values, words, count, mask);
  return out;
}

// Separate small loops (not one with a branch per sample): each stays monomorphic
// enough for V8 to keep integers unboxed — a 512x512 frame takes well under a millisecond.
function maskOnly(values: ArrayLike<number>, words: Uint8Array | Uint16Array | Uint32Array, count: number, mask: number): void {
  for (let i = 0; i < count; i++) words[i] = values[i]! & mask;
}

function signExtend(values: ArrayLike<number>, words: Uint8Array | Uint16Array | Uint32Array, count: number, mask: number, signBit: number, fullRange: number): void {
  for (let i = 0; i < count; i++) {
    const v = values[i]! & mask;
    words[i] = v >= signBit ? v - fullRange : v;
  }
}

/** Words of BitsAllocated already laid out (RLE) → masked and sign-extended in place, as toWords does. */
export function normaliseWords(bytes: Buffer, info: FrameInfo): Buffer {
  const stored = info.bitsStored;
  if (stored >= info.bitsAllocated) return bytes;
  const n = bytes.length / (info.bitsAllocated / 8);
  if (info.bitsAllocated === 16 && bytes.byteOffset % 2 === 0) {
    // The common case (12-bit CT/MR in 16-bit words), in place: no second frame-sized buffer.
    const words = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    const mask = 2 ** stored - 1;
    if (info.pixelRepresentation === 1) signExtend(words, words, n, mask, 2 ** (stored - 1), 2 ** stored);
    else maskOnly(words, words, n, mask);
    return bytes;
  }
  const words =
    info.bitsAllocated === 8
      ? new Uint8Array(bytes.buffer, bytes.byteOffset, n)
      : info.bitsAllocated === 16
        ? new Uint16Array(bytes.slice().buffer, 0, n)
        : new Uint32Array(bytes.slice().buffer, 0, n);
  return toWords(words, info, 'RLE');
}

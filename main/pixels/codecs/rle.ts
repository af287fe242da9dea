/**
 * RLE Lossless (1.2.840.10008.1.2.5), PS3.5 Annex G. Written by hand: the
 * format is a 64-byte header (number of segments, then 15 uint32 offsets) and
 * one PackBits segment per byte plane — for each sample, its bytes most
 * significant first (G.2) — which is a few dozen lines, smaller than any
 * dependency. Output: little endian words, samples interleaved; the
 * photometric interpretation is left as stored (RLE has no colour transform).
 */
import type { FrameInfo } from '../types.js';
import { corrupt } from './frameErrors.js';

const HEADER_LENGTH = 64;
const MAX_SEGMENTS = 15;

export function decodeRle(stored: Buffer, info: FrameInfo): Buffer {
  const syntax = info.transferSyntaxUID;
  if (info.bitsAllocated % 8 !== 0) throw corrupt(syntax, `RLE of ${info.bitsAllocated}-bit words is not defined (PS3.5 G.2 needs whole bytes)`);
  const bytesPerSample = info.bitsAllocated / 8;
  const samples = info.samplesPerPixel;
  const pixels = info.rows * info.columns;
  const expected = samples * bytesPerSample;
  if (stored.length < HEADER_LENGTH) throw corrupt(syntax, `RLE frame of ${stored.length} bytes is shorter than its 64-byte header`);
  const count = stored.readUInt32LE(0);
  if (count !== expected) {
    throw corrupt(syntax, `RLE header lists ${count} segments, ${expected} expected for ${samples} sample(s) of ${info.bitsAllocated} bits`);
  }
  if (count > MAX_SEGMENTS) throw corrupt(syntax, `RLE header lists ${count} segments, at most ${MAX_SEGMENTS} are allowed`);
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(stored.readUInt32LE(4 + 4 * i));
  offsets.push(stored.length);
  if (offsets[0] !== HEADER_LENGTH) throw corrupt(syntax, `RLE first segment starts at byte ${offsets[0]}, not right after the 64-byte header`);
  const out = Buffer.alloc(pixels * expected);
  for (let segment = 0; segment < count; segment++) {
    const start = offsets[segment]!;
    const end = offsets[segment + 1]!;
    if (end < start || end > stored.length) {
      throw corrupt(syntax, `RLE segment ${segment + 1} offsets (${start}..${end}) lie outside the ${stored.length}-byte frame`);
    }
    const sample = Math.floor(segment / bytesPerSample);
    const byteInWord = bytesPerSample - 1 - (segment % bytesPerSample); // most significant plane first → little endian position
    const filled = unpackBits(stored, start, end, out, sample * bytesPerSample + byteInWord, expected, pixels);
    if (filled < pixels) {
      throw corrupt(syntax, `RLE segment ${segment + 1} decodes to ${filled} bytes, ${pixels} expected (${info.rows}x${info.columns})`);
    }
  }
  return out;
}

/**
 * PackBits (G.3.1): header byte n ≥ 0 copies the next n+1 bytes, n in -127..-1
 * repeats the next byte 1-n times, -128 does nothing. Writes byte i of the
 * plane at out[first + i*stride]; stops when `count` bytes are written (a
 * segment may carry a padding byte). Returns how many were written.
 */
function unpackBits(src: Buffer, start: number, end: number, out: Buffer, first: number, stride: number, count: number): number {
  let i = start;
  let n = 0;
  let at = first;
  while (i < end && n < count) {
    const header = src[i++]!;
    if (header < 128) {
      const run = Math.min(header + 1, end - i, count - n);
      for (let k = 0; k < run; k++, at += stride) out[at] = src[i + k]!;
      i += header + 1;
      n += run;
    } else if (header > 128) {
      if (i >= end) break;
      const value = src[i++]!;
      const run = Math.min(257 - header, count - n);
      for (let k = 0; k < run; k++, at += stride) out[at] = value;
      n += run;
    }
  }
  return n;
}

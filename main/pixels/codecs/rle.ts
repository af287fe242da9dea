/**
 * RLE Lossless (1.2.840.10008.1.2.5), PS3.5 Annex G. Written by hand: the
 * format is a 64-byte header (number of segments, then 15 uint32 offsets) and
 * one PackBits segment per byte plane — for each sample, its bytes most
 * significant first (G.2) — which is a few dozen lines, smaller than any
 * dependency. Output: little endian words, samples interleaved, masked to
 * BitsStored and sign-extended (samples.ts normaliseWords); the photometric
 * interpretation is left as stored (RLE has no colour transform).
 */
import type { FrameInfo } from '../types.js';
import { corrupt } from './frameErrors.js';
import { normaliseWords } from './samples.js';

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
  // Each segment is a byte plane (G.2). Planes are unpacked contiguously (runs
  // become Buffer fill/copy calls, not a byte loop with a stride), then
  // interleaved into words in one pass. A single plane (8-bit grey) is the frame.
  const planes = Buffer.allocUnsafe(pixels * count);
  for (let segment = 0; segment < count; segment++) {
    const start = offsets[segment]!;
    const end = offsets[segment + 1]!;
    if (end < start || end > stored.length) {
      throw corrupt(syntax, `RLE segment ${segment + 1} offsets (${start}..${end}) lie outside the ${stored.length}-byte frame`);
    }
    const filled = unpackBits(stored, start, end, planes, segment * pixels, pixels);
    if (filled < pixels) {
      throw corrupt(syntax, `RLE segment ${segment + 1} decodes to ${filled} bytes, ${pixels} expected (${info.rows}x${info.columns})`);
    }
  }
  if (count === 1) return normaliseWords(planes, info);
  const out = Buffer.allocUnsafe(pixels * expected);
  if (count === 2 && bytesPerSample === 2) return interleave16(planes, pixels, out, info);
  for (let segment = 0; segment < count; segment++) {
    const sample = Math.floor(segment / bytesPerSample);
    const byteInWord = bytesPerSample - 1 - (segment % bytesPerSample); // most significant plane first → little endian position
    scatter(planes, segment * pixels, pixels, out, sample * bytesPerSample + byteInWord, expected);
  }
  return normaliseWords(out, info);
}

/**
 * 16-bit grey: the high-byte plane then the low-byte plane → little endian
 * words, masked to BitsStored and sign-extended in the same pass (what
 * normaliseWords does, without a second pass over the frame). One loop per
 * case, so each stays a tight integer loop.
 */
function interleave16(planes: Buffer, pixels: number, out: Buffer, info: FrameInfo): Buffer {
  if (out.byteOffset % 2 !== 0) {
    for (let i = 0, o = 0; i < pixels; i++, o += 2) {
      out[o] = planes[pixels + i]!;
      out[o + 1] = planes[i]!;
    }
    return normaliseWords(out, info);
  }
  const words = new Uint16Array(out.buffer, out.byteOffset, pixels); // little endian host (samples.ts checks)
  const stored = info.bitsStored;
  if (stored >= 16) joinPlanes(planes, pixels, words);
  else if (info.pixelRepresentation === 1) joinPlanesSigned(planes, pixels, words, 2 ** stored - 1, 2 ** (stored - 1), 2 ** stored);
  else joinPlanesMasked(planes, pixels, words, 2 ** stored - 1);
  return out;
}

function joinPlanes(planes: Buffer, pixels: number, words: Uint16Array): void {
  for (let i = 0; i < pixels; i++) words[i] = (planes[i]! << 8) | planes[pixels + i]!;
}

function joinPlanesMasked(planes: Buffer, pixels: number, words: Uint16Array, mask: number): void {
  for (let i = 0; i < pixels; i++) words[i] = ((planes[i]! << 8) | planes[pixels + i]!) & mask;
}

function joinPlanesSigned(planes: Buffer, pixels: number, words: Uint16Array, mask: number, signBit: number, fullRange: number): void {
  for (let i = 0; i < pixels; i++) {
    const v = ((planes[i]! << 8) | planes[pixels + i]!) & mask;
    words[i] = v >= signBit ? v - fullRange : v;
  }
}

/** Byte i of one plane to out[first + i*stride]. */
function scatter(planes: Buffer, from: number, pixels: number, out: Buffer, first: number, stride: number): void {
  for (let i = 0, o = first; i < pixels; i++, o += stride) out[o] = planes[from + i]!;
}

/** Runs shorter than this are copied byte by byte: a native copy call costs more than a short loop. */
const SHORT_RUN = 24;

/**
 * PackBits (G.3.1): header byte n ≥ 0 copies the next n+1 bytes, n in -127..-1
 * repeats the next byte 1-n times, -128 does nothing. Writes the plane's bytes
 * to out[first…]; stops when `count` bytes are written (a segment may carry a
 * padding byte). Returns how many were written.
 */
function unpackBits(src: Buffer, start: number, end: number, out: Buffer, first: number, count: number): number {
  let i = start;
  let n = 0;
  while (i < end && n < count) {
    const header = src[i++]!;
    if (header < 128) {
      const run = Math.min(header + 1, end - i, count - n);
      const at = first + n;
      if (run < SHORT_RUN) for (let k = 0; k < run; k++) out[at + k] = src[i + k]!;
      else src.copy(out, at, i, i + run);
      i += header + 1;
      n += run;
    } else if (header > 128) {
      if (i >= end) break;
      const value = src[i++]!;
      const run = Math.min(257 - header, count - n);
      const at = first + n;
      if (run < SHORT_RUN) for (let k = 0; k < run; k++) out[at + k] = value;
      else out.fill(value, at, at + run);
      n += run;
    }
  }
  return n;
}

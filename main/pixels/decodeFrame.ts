/**
 * decodeFrame: one stored frame (as PixelSource.readStoredFrame gives it) to a
 * DecodedFrame (see types.ts for what that is). Native frames are rearranged
 * here (planar → interleaved, YBR_FULL_422 → YBR_FULL); compressed frames go to
 * the codec of their transfer syntax (main/pixels/codecs/, PS3.5 Annex A.4).
 *
 * Decoding compressed data is CPU-bound wasm / JavaScript: `decodeFrame` runs
 * it on the decode pool's worker threads (decodePool.ts) so the server's event
 * loop keeps answering; `decodeFrameInThread` is the same work in the calling
 * thread (the worker itself, tests).
 */
import { decodeCompressed, decodeCompressedReduced, decodesReduced } from './codecs/decodeCompressed.js';
import { corrupt, unsupported } from './codecs/frameErrors.js';
import { decodeInPool } from './decodePool.js';
import type { DecodedFrame, FrameAllocator, FrameInfo, ImageSize } from './types.js';

/** `allocate`: where a frame decoded in this thread goes (see FrameAllocator); frames from the pool keep their own buffer. */
export async function decodeFrame(stored: Buffer, info: FrameInfo, allocate?: FrameAllocator): Promise<DecodedFrame> {
  if (isNative(info.transferSyntaxUID)) return nativeFrame(stored, info);
  if (decodesInThread(info)) return decodeFrameInThread(stored, info, allocate);
  return decodeInPool(stored, info);
}

const RLE_LOSSLESS = '1.2.840.10008.1.2.5';

/**
 * Frames decoded in the calling thread rather than on the pool: RLE (PS3.5
 * Annex G) unpacks a 512x512 16-bit frame in under a millisecond, about what
 * windowing a native frame costs in-thread, and less than the pool's round
 * trip (the compressed frame copied in, the decoded one moved back, two thread
 * wake-ups) — measured with bench:pixels. Other codecs take several to tens of
 * milliseconds per frame and stay on the pool.
 */
export function decodesInThread(info: FrameInfo): boolean {
  return info.transferSyntaxUID === RLE_LOSSLESS;
}

/**
 * `allocate`: where the decoded frame is written, by codecs that can (RLE); see FrameAllocator.
 * `shown`: the frame is only to be shown this large or smaller (a thumbnail, a
 * rendered viewport). A codec that can decode a lower resolution (JPEG 2000)
 * then decodes the smallest one still at least twice this large, and the
 * frame comes back with fewer rows and columns; other frames come back whole.
 */
export async function decodeFrameInThread(stored: Buffer, info: FrameInfo, allocate?: FrameAllocator, shown?: ImageSize): Promise<DecodedFrame> {
  if (isNative(info.transferSyntaxUID)) return nativeFrame(stored, info);
  checkShape(info);
  if (stored.length === 0) throw corrupt(info.transferSyntaxUID, 'the frame has no compressed bytes');
  // Palette indices are labels, not intensities: a lower resolution (a low-pass band) would blend them.
  const reducible = shown && decodesReduced(info.transferSyntaxUID) && info.photometricInterpretation !== 'PALETTE COLOR';
  // At least twice the shown size: the final scaling (a box average or sharp's Lanczos) does the last
  // halving. Showing the resolution level itself costs more fidelity than it saves time: its low-pass
  // samples sit on the even pixels (ISO 15444-1 F.3.8), a shift of (2^levels - 1) / 2 pixels, and
  // windowing follows the averaging. Measured on a 512x512 CT slice shown at 128x128, window 40/400,
  // Lanczos for the last step: 1.7 grey levels from the native rendering on average this way, 6.1
  // showing level 2 itself.
  const reduce = reducible ? levelsAbove(info, { width: 2 * shown.width, height: 2 * shown.height }) : 0;
  if (reduce > 0) {
    const { bytes, rows, columns, photometricInterpretation } = await decodeCompressedReduced(stored, info, reduce);
    return { ...decodedShape(info), rows, columns, bytes, photometricInterpretation };
  }
  const { bytes, photometricInterpretation } = await decodeCompressed(stored, info, allocate);
  return { ...decodedShape(info), bytes, photometricInterpretation };
}

/** How many times the frame can be halved and still cover `shown` (rounding down: a resolution level is never smaller, whatever the image offset). */
export function levelsAbove(info: Pick<FrameInfo, 'rows' | 'columns'>, shown: ImageSize): number {
  let levels = 0;
  while (levels < 16 && Math.floor(info.columns / 2 ** (levels + 1)) >= shown.width && Math.floor(info.rows / 2 ** (levels + 1)) >= shown.height) levels++;
  return levels;
}

/** The attributes a decoded frame keeps from the stored one (samples always interleaved). */
function decodedShape(info: FrameInfo): Omit<DecodedFrame, 'bytes'> {
  return {
    rows: info.rows,
    columns: info.columns,
    samplesPerPixel: info.samplesPerPixel,
    bitsAllocated: info.bitsAllocated,
    bitsStored: info.bitsStored,
    highBit: info.highBit,
    pixelRepresentation: info.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: info.photometricInterpretation,
  };
}

/** What every codec relies on: a size, 8/16/32-bit words, 1..BitsAllocated bits stored, 1 or 3 samples. */
function checkShape(info: FrameInfo): void {
  const syntax = info.transferSyntaxUID;
  if (!(info.rows > 0 && info.columns > 0)) throw corrupt(syntax, `the image is ${info.columns}x${info.rows}`);
  if (info.samplesPerPixel !== 1 && info.samplesPerPixel !== 3) throw corrupt(syntax, `SamplesPerPixel ${info.samplesPerPixel} (1 or 3 expected)`);
  if (![8, 16, 32].includes(info.bitsAllocated)) {
    throw unsupported(syntax, `${info.bitsAllocated}-bit words (BitsAllocated 8, 16 or 32 only)`);
  }
  if (!(info.bitsStored >= 1 && info.bitsStored <= info.bitsAllocated)) {
    throw corrupt(syntax, `BitsStored ${info.bitsStored} does not fit BitsAllocated ${info.bitsAllocated}`);
  }
}

const NATIVE = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);

export function isNative(transferSyntaxUID: string): boolean {
  return NATIVE.has(transferSyntaxUID);
}

/** A native frame (already little endian) as a DecodedFrame: planar data interleaved, YBR_FULL_422 expanded. */
export function nativeFrame(stored: Buffer, info: FrameInfo): DecodedFrame {
  const base = decodedShape(info);
  if (info.samplesPerPixel === 1) return { ...base, bytes: stored };
  const bytesPerSample = info.bitsAllocated / 8;
  const pixels = info.rows * info.columns;
  if (info.photometricInterpretation === 'YBR_FULL_422' && info.bitsAllocated === 8) {
    // Y1 Y2 Cb Cr per pixel pair (PS3.3 C.7.6.3.1.2) → Y Cb Cr per pixel.
    const out = Buffer.allocUnsafe(pixels * 3);
    for (let p = 0, i = 0; p < pixels; p += 2, i += 4) {
      const cb = stored[i + 2]!;
      const cr = stored[i + 3]!;
      out[p * 3] = stored[i]!;
      out[p * 3 + 1] = cb;
      out[p * 3 + 2] = cr;
      if (p + 1 < pixels) {
        out[p * 3 + 3] = stored[i + 1]!;
        out[p * 3 + 4] = cb;
        out[p * 3 + 5] = cr;
      }
    }
    return { ...base, bytes: out, photometricInterpretation: 'YBR_FULL' };
  }
  if (info.planarConfiguration !== 1) return { ...base, bytes: stored };
  const samples = info.samplesPerPixel;
  const out = Buffer.allocUnsafe(pixels * samples * bytesPerSample);
  for (let s = 0; s < samples; s++) {
    for (let p = 0; p < pixels; p++) {
      const from = (s * pixels + p) * bytesPerSample;
      stored.copy(out, (p * samples + s) * bytesPerSample, from, from + bytesPerSample);
    }
  }
  return { ...base, bytes: out };
}

/**
 * Which codec takes which transfer syntax (PS3.5 Annex A.4 / 10; PS3.6
 * Annex A for the UIDs). Every decoder returns the frame's DecodedFrame bytes
 * and the photometric interpretation after decoding; syntaxes without a
 * decoder here (HTJ2K, MPEG/HEVC video, JPEG XL) answer 'not-acceptable'
 * naming the syntax.
 */
import type { FrameAllocator, FrameInfo } from '../types.js';
import { unsupported } from './frameErrors.js';
import { decodeJpeg, type CodecResult } from './jpeg.js';
import { decodeJpeg2000, decodeJpeg2000Reduced, type ReducedFrame } from './jpeg2000.js';
import { decodeJpegLs } from './jpegLs.js';
import { decodeRle } from './rle.js';

/** `allocate`: where the decoded frame goes, for codecs that can write it there (RLE); the others return their own buffer. */
type Codec = (data: Buffer, info: FrameInfo, allocate?: FrameAllocator) => Promise<CodecResult>;

const same = (decode: (data: Buffer, info: FrameInfo, allocate?: FrameAllocator) => Promise<Buffer> | Buffer): Codec => async (data, info, allocate) => ({
  bytes: await decode(data, info, allocate),
  photometricInterpretation: info.photometricInterpretation,
});

/** JPEG 2000's multiple-component transform (YBR_ICT / YBR_RCT) is undone by the decoder: RGB. */
const afterColourTransform = (info: FrameInfo): string =>
  info.samplesPerPixel === 3 && (info.photometricInterpretation === 'YBR_ICT' || info.photometricInterpretation === 'YBR_RCT') ? 'RGB' : info.photometricInterpretation;

const toRgb = (decode: (data: Buffer, info: FrameInfo) => Promise<Buffer>): Codec => async (data, info) => ({
  bytes: await decode(data, info),
  photometricInterpretation: afterColourTransform(info),
});

const CODECS: Record<string, Codec> = {
  '1.2.840.10008.1.2.5': same(decodeRle),
  '1.2.840.10008.1.2.4.50': decodeJpeg,
  '1.2.840.10008.1.2.4.51': decodeJpeg,
  '1.2.840.10008.1.2.4.57': decodeJpeg,
  '1.2.840.10008.1.2.4.70': decodeJpeg,
  '1.2.840.10008.1.2.4.80': same(decodeJpegLs),
  '1.2.840.10008.1.2.4.81': same(decodeJpegLs),
  '1.2.840.10008.1.2.4.90': toRgb(decodeJpeg2000),
  '1.2.840.10008.1.2.4.91': toRgb(decodeJpeg2000),
  '1.2.840.10008.1.2.4.92': toRgb(decodeJpeg2000),
  '1.2.840.10008.1.2.4.93': toRgb(decodeJpeg2000),
};

export function hasDecoder(transferSyntaxUID: string): boolean {
  return transferSyntaxUID in CODECS;
}

const JPEG_2000 = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93']);

/** Whether frames of this syntax can be decoded at a lower resolution (JPEG 2000: its wavelet levels). */
export function decodesReduced(transferSyntaxUID: string): boolean {
  return JPEG_2000.has(transferSyntaxUID);
}

/** A frame of a syntax `decodesReduced` accepts, without its `reduce` finest resolution levels (see jpeg2000.ts). */
export async function decodeCompressedReduced(data: Buffer, info: FrameInfo, reduce: number): Promise<ReducedFrame & Pick<CodecResult, 'photometricInterpretation'>> {
  if (!JPEG_2000.has(info.transferSyntaxUID)) throw unsupported(info.transferSyntaxUID, 'no reduced-resolution decoder for this transfer syntax');
  const frame = await decodeJpeg2000Reduced(data, info, reduce);
  return { ...frame, photometricInterpretation: afterColourTransform(info) };
}

export function decodeCompressed(data: Buffer, info: FrameInfo, allocate?: FrameAllocator): Promise<CodecResult> {
  const codec = CODECS[info.transferSyntaxUID];
  if (!codec) throw unsupported(info.transferSyntaxUID, 'no decoder for this transfer syntax here');
  return codec(data, info, allocate);
}

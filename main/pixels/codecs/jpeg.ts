/**
 * The JPEG family (T.81; DICOM PS3.5 A.4.1 and 8.2.1): the decoder is chosen
 * by the codestream's frame header, not only by the transfer syntax UID —
 * SOF3 (lossless) → jpeg-lossless-decoder-js; precision > 8 (12-bit process 4)
 * → the JavaScript decoder; 8-bit lossy → libjpeg-turbo, unless libjpeg's
 * colour guess contradicts the DICOM photometric interpretation.
 *
 * Colour (PS3.5 8.2.1, PS3.3 C.7.6.3.1.2): lossy YBR_FULL / YBR_FULL_422
 * frames are YCbCr in the codestream and come out RGB; RGB frames were
 * compressed without a colour transform and come out as they are, whatever
 * markers the encoder wrote (dcmtk and GDCM read the photometric
 * interpretation the same way). Lossless frames are never transformed.
 */
import type { FrameInfo } from '../types.js';
import { corrupt } from './frameErrors.js';
import { libjpegConvertsColour, readJpegHeader } from './jpegHeader.js';
import { decodeWithJpegJs } from './jpegJs.js';
import { decodeJpegLossless } from './jpegLossless.js';
import { decodeWithLibjpegTurbo } from './jpegTurbo.js';

export interface CodecResult {
  bytes: Buffer;
  photometricInterpretation: string;
}

const LOSSLESS_PROCESSES = new Set([3, 7, 11, 15]);

export async function decodeJpeg(data: Uint8Array, info: FrameInfo): Promise<CodecResult> {
  const syntax = info.transferSyntaxUID;
  const header = readJpegHeader(data, syntax);
  const stored = info.photometricInterpretation;
  if (LOSSLESS_PROCESSES.has(header.process)) return { bytes: decodeJpegLossless(data, info, header), photometricInterpretation: stored };
  if (header.precision !== 8 && header.precision !== 12) {
    throw corrupt(syntax, `lossy JPEG sample precision ${header.precision} (only 8 and 12 are defined)`);
  }
  if (header.precision === 12) return { bytes: await decodeWithJpegJs(data, info, 12, false), photometricInterpretation: stored };
  const toRgb = header.componentIds.length === 3 && stored.startsWith('YBR');
  const photometricInterpretation = toRgb ? 'RGB' : stored;
  if (header.componentIds.length !== 3 || libjpegConvertsColour(header) === toRgb) {
    return { bytes: await decodeWithLibjpegTurbo(data, info), photometricInterpretation };
  }
  return { bytes: await decodeWithJpegJs(data, info, 8, toRgb), photometricInterpretation };
}

/**
 * JPEG Lossless (T.81 process 14, any predictor 1–7; DICOM 1.2.840.10008.1.2.4.57
 * and .70) with jpeg-lossless-decoder-js. Lossless: no colour transform, the
 * stored photometric interpretation stays.
 *
 * Predictor 7 is corrected here: the package computes (Ra + Rb) / 2 as a
 * float, and when Ra + Rb is odd and the reconstructed value wraps below 0
 * (signed data, T.81 H.1.2.1 arithmetic is modulo 2^16) the .5 truncates
 * the wrong way; T.81 and IJG take the integer (Ra + Rb) >> 1.
 */
import { Decoder } from 'jpeg-lossless-decoder-js';
import type { FrameInfo } from '../types.js';
import { codecFailure, corrupt, unsupported } from './frameErrors.js';
import type { JpegHeader } from './jpegHeader.js';
import { checkSize, toWords } from './samples.js';

class Process14Decoder extends Decoder {
  override select7(compOffset?: number): number {
    return (this.getPreviousX(compOffset) + this.getPreviousY(compOffset)) >> 1;
  }
}

export function decodeJpegLossless(data: Uint8Array, info: FrameInfo, header: JpegHeader): Buffer {
  checkSize(info, 'JPEG Lossless', header.rows, header.columns, header.componentIds.length);
  if (header.precision > 8 && header.componentIds.length > 1) {
    // The decoder writes multi-component data interleaved only for 8-bit samples.
    throw unsupported(info.transferSyntaxUID, `JPEG Lossless with ${header.componentIds.length} components of ${header.precision} bits (the decoder interleaves only 8-bit samples)`);
  }
  let values: Uint8Array | Uint16Array;
  try {
    const bytesPerSample = header.precision > 8 ? 2 : 1;
    // decode() reads from an ArrayBuffer from offset 0: give it a copy (a Buffer may be a view into a shared pool).
    const copy = new Uint8Array(data).buffer;
    const decoder = new Process14Decoder();
    values = decoder.decode(copy, 0, copy.byteLength, bytesPerSample);
    // The decoder reads missing bytes as undefined instead of failing: a scan
    // that ran past the end of the data, or stopped before the last row, is truncated.
    if (decoder.stream.index > copy.byteLength) {
      throw corrupt(info.transferSyntaxUID, `JPEG Lossless scan data runs past the end of the ${copy.byteLength}-byte frame: truncated`);
    }
    if (decoder.yLoc < decoder.yDim) {
      throw corrupt(info.transferSyntaxUID, `JPEG Lossless scan data ends at row ${decoder.yLoc + 1} of ${decoder.yDim}`);
    }
  } catch (err) {
    throw codecFailure(info.transferSyntaxUID, 'the JPEG Lossless decoder', err);
  }
  return toWords(values, info, 'the JPEG Lossless decoder');
}

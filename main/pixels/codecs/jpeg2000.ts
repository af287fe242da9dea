/**
 * JPEG 2000 (ISO 15444-1; DICOM 1.2.840.10008.1.2.4.90 / .91) with OpenJPEG
 * compiled to wasm (@cornerstonejs/codec-openjpeg). Part 2 multi-component
 * frames (.92 / .93) go to OpenJPEG too, which reads Part 2's array-based
 * transform markers (MCT, MCC, MCO); no sample here exercises them. OpenJPEG undoes
 * the multiple-component transform (RCT / ICT) itself, so YBR_RCT and
 * YBR_ICT frames come out RGB (PS3.5 8.2.4: the photometric interpretation
 * names the transform applied before compression).
 *
 * OpenJPEG decodes a truncated codestream into a partial image without
 * complaint (JPEG 2000 is progressive): a frame must start with SOC (or the
 * JP2 signature box) and end with EOC (FFD9, then at most DICOM's padding
 * byte), otherwise it is reported as truncated instead of decoded.
 */
import type { FrameInfo } from '../types.js';
import { codecFailure, corrupt, unsupported } from './frameErrors.js';
import { checkSize, toWords } from './samples.js';
import { wasmCodec, type WasmDecoder } from './wasmModule.js';

const openjpeg = wasmCodec<WasmDecoder>(() => import('@cornerstonejs/codec-openjpeg/decodewasmjs'), 'J2KDecoder');

const JP2_SIGNATURE = [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a];

export function checkJpeg2000Bounds(data: Uint8Array, syntax: string): void {
  const soc = data.length >= 4 && data[0] === 0xff && data[1] === 0x4f && data[2] === 0xff && data[3] === 0x51;
  const jp2 = data.length >= 12 && JP2_SIGNATURE.every((b, i) => data[i] === b);
  if (!soc && !jp2) throw corrupt(syntax, 'the frame does not start with a JPEG 2000 codestream (SOC, SIZ markers) or JP2 signature');
  let end = data.length;
  if (end > 0 && data[end - 1] === 0) end--; // DICOM pads fragments to an even length
  if (end < 2 || data[end - 2] !== 0xff || data[end - 1] !== 0xd9) {
    throw corrupt(syntax, `the JPEG 2000 codestream of ${data.length} bytes does not end with an EOC marker (FFD9): truncated`);
  }
}

export async function decodeJpeg2000(data: Uint8Array, info: FrameInfo): Promise<Buffer> {
  checkJpeg2000Bounds(data, info.transferSyntaxUID);
  const values = await openjpeg
    .withDecoder((decoder, printed) => {
      decoder.getEncodedBuffer(data.length).set(data);
      decoder.decode();
      const failures = printed().filter((line) => /\[ERROR\]/.test(line));
      if (failures.length > 0) throw new Error(failures.join('; '));
      const frame = decoder.getFrameInfo();
      // This build hands out samples of 8 bits or less clamped to 0..255: negative values come out as 0.
      if (frame.isSigned && frame.bitsPerSample <= 8) {
        throw unsupported(info.transferSyntaxUID, `signed samples of ${frame.bitsPerSample} bits: the OpenJPEG (wasm) build used here clamps negative values to 0, so they cannot be decoded exactly`);
      }
      checkSize(info, 'OpenJPEG', frame.height, frame.width, frame.componentCount);
      const decoded = decoder.getDecodedBuffer();
      if (frame.bitsPerSample <= 8) return frame.isSigned ? new Int8Array(decoded.slice().buffer) : decoded.slice();
      const copy = decoded.slice().buffer;
      return frame.isSigned ? new Int16Array(copy) : new Uint16Array(copy);
    })
    .catch((err: unknown) => {
      throw codecFailure(info.transferSyntaxUID, 'OpenJPEG', err);
    });
  return toWords(values, info, 'OpenJPEG');
}

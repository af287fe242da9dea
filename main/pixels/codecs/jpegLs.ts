/**
 * JPEG-LS (ISO 14495-1; DICOM 1.2.840.10008.1.2.4.80 lossless, .81
 * near-lossless) with CharLS compiled to wasm (@cornerstonejs/codec-charls).
 * JPEG-LS has no colour transform in DICOM (PS3.5 8.2.3): the stored
 * photometric interpretation stays; CharLS delivers samples interleaved
 * whatever the interleave mode of the scan.
 */
import type { FrameInfo } from '../types.js';
import { codecFailure } from './frameErrors.js';
import { checkSize, toWords } from './samples.js';
import { wasmCodec, type WasmDecoder } from './wasmModule.js';

const charls = wasmCodec<WasmDecoder>(() => import('@cornerstonejs/codec-charls/decodewasmjs'), 'JpegLSDecoder');

export async function decodeJpegLs(data: Uint8Array, info: FrameInfo): Promise<Buffer> {
  const values = await charls
    .withDecoder((decoder, printed) => {
      decoder.getEncodedBuffer(data.length).set(data);
      decoder.decode();
      const failures = printed().filter((line) => /error/i.test(line));
      if (failures.length > 0) throw new Error(failures.join('; '));
      const frame = decoder.getFrameInfo();
      checkSize(info, 'CharLS', frame.height, frame.width, frame.componentCount);
      const decoded = decoder.getDecodedBuffer();
      return frame.bitsPerSample > 8 ? new Uint16Array(decoded.slice().buffer) : decoded.slice();
    })
    .catch((err: unknown) => {
      throw codecFailure(info.transferSyntaxUID, 'CharLS', err);
    });
  return toWords(values, info, 'CharLS');
}

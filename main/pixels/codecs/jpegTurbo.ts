/**
 * 8-bit lossy JPEG (T.81 processes 1 and 2, progressive too) with libjpeg-turbo
 * compiled to wasm (@cornerstonejs/codec-libjpeg-turbo-8bit). libjpeg converts
 * three components it believes are YCbCr to RGB (jpegHeader.ts says when);
 * the caller only sends frames where that matches what the DICOM photometric
 * interpretation asks for.
 */
import type { FrameInfo } from '../types.js';
import { codecFailure } from './frameErrors.js';
import { checkSize, toWords } from './samples.js';
import { wasmCodec, type WasmDecoder } from './wasmModule.js';

const turbo = wasmCodec<WasmDecoder>(() => import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs'), 'JPEGDecoder');

export async function decodeWithLibjpegTurbo(data: Uint8Array, info: FrameInfo): Promise<Buffer> {
  const values = await turbo
    .withDecoder((decoder, printed) => {
      decoder.getEncodedBuffer(data.length).set(data);
      decoder.decode();
      const failures = printed().filter((line) => /error|premature end/i.test(line));
      if (failures.length > 0) throw new Error(failures.join('; '));
      const frame = decoder.getFrameInfo();
      checkSize(info, 'libjpeg-turbo', frame.height, frame.width, frame.componentCount);
      return decoder.getDecodedBuffer().slice();
    })
    .catch((err: unknown) => {
      throw codecFailure(info.transferSyntaxUID, 'libjpeg-turbo', err);
    });
  return toWords(values, info, 'libjpeg-turbo');
}

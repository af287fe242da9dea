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
 *
 * Reduced resolution (ISO 15444-1 B.5, Annex F): an image shown smaller than
 * it is (a thumbnail, a rendered viewport) need not be decoded whole. Dropping
 * r wavelet levels gives the low-pass band of level r, the image 2^r smaller
 * on each side, and skips the code-blocks of the dropped levels: a 512x512
 * CT slice takes ~3 ms at 128x128 instead of ~50 ms whole. The samples equal
 * what native OpenJPEG gives with `opj_decompress -r` (tested).
 */
import type { FrameInfo } from '../types.js';
import { codecFailure, corrupt, unsupported } from './frameErrors.js';
import { checkSize, toWords } from './samples.js';
import { wasmCodec, type WasmDecoder } from './wasmModule.js';

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

/** OpenJPEG's decoder object as the wasm build exposes it (beyond what every codec has). */
interface J2KDecoder extends WasmDecoder {
  /** Decodes without the `level` finest wavelet levels (0: whole); `layer` 0: every quality layer. */
  decodeSubResolution(level: number, layer: number): void;
  getImageOffset(): { x: number; y: number };
}

const openjpeg = wasmCodec<J2KDecoder>(() => import('@cornerstonejs/codec-openjpeg/decodewasmjs'), 'J2KDecoder');

export async function decodeJpeg2000(data: Uint8Array, info: FrameInfo): Promise<Buffer> {
  return (await decodeJpeg2000Reduced(data, info, 0)).bytes;
}

/** A frame decoded without its `reduce` finest wavelet levels (fewer if the codestream has fewer): `rows` x `columns` samples. */
export interface ReducedFrame {
  bytes: Buffer;
  rows: number;
  columns: number;
  /** Levels actually dropped. */
  reduce: number;
}

export async function decodeJpeg2000Reduced(data: Uint8Array, info: FrameInfo, reduce: number): Promise<ReducedFrame> {
  checkJpeg2000Bounds(data, info.transferSyntaxUID);
  let levels = reduce > 0 ? Math.min(reduce, reducibleLevels(data)) : 0;
  let size = { rows: info.rows, columns: info.columns };
  const values = await openjpeg
    .withDecoder((decoder, printed) => {
      decoder.getEncodedBuffer(data.length).set(data);
      let from = 0;
      const failures = () => printed().slice(from).filter((line) => /\[ERROR\]/.test(line));
      if (levels > 0) {
        decoder.decodeSubResolution(levels, 0);
        const frame = decoder.getFrameInfo();
        size = reducedSize(frame.width, frame.height, decoder.getImageOffset(), levels);
        const expected = size.rows * size.columns * frame.componentCount * (frame.bitsPerSample <= 8 ? 1 : 2);
        // A tile-part header may give a component fewer levels than the main header, or the level may
        // not come out at its size: then the frame is decoded whole, as when it is shown at full size.
        if (failures().length > 0 || decoder.getDecodedBuffer().length !== expected) {
          levels = 0;
          size = { rows: info.rows, columns: info.columns };
          from = printed().length;
        }
      }
      if (levels === 0) decoder.decode();
      if (failures().length > 0) throw new Error(failures().join('; '));
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
  return { bytes: toWords(values, { ...info, ...size }, 'OpenJPEG'), ...size, reduce: levels };
}

/**
 * The size of resolution level `levels` down (ISO 15444-1 B.5, equation B-14:
 * the image area's corners divided by 2^levels, rounded up), for an image of
 * `width` x `height` whose area starts at `offset` on the reference grid.
 */
export function reducedSize(width: number, height: number, offset: { x: number; y: number }, levels: number): { rows: number; columns: number } {
  const scale = 2 ** levels;
  const side = (start: number, length: number) => Math.ceil((start + length) / scale) - Math.ceil(start / scale);
  return { rows: side(offset.y, height), columns: side(offset.x, width) };
}

/**
 * How many levels a decode of this codestream may drop: the fewest
 * decomposition levels the main header gives any component (COD, and COC
 * overriding it; ISO 15444-1 A.6.1-2). 0 if the header cannot be read, or if
 * the image area does not start at the reference grid's origin (SIZ XOsiz,
 * YOsiz): the wasm build then hands out a lower level in a buffer of another
 * size than the level's (found with opj_compress -d; tested).
 */
export function reducibleLevels(data: Uint8Array): number {
  let at = indexOfSoc(data);
  if (at < 0) return 0;
  at += 2;
  let components = 0;
  let levels = Infinity;
  while (at + 4 <= data.length && data[at] === 0xff) {
    const marker = data[at + 1]!;
    const length = (data[at + 2]! << 8) | data[at + 3]!;
    const body = at + 4;
    if (marker === 0x90 || length < 2 || at + 2 + length > data.length) break; // SOT: the main header ends
    if (marker === 0x51 && length >= 38) {
      // SIZ: Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz
      const view = new DataView(data.buffer, data.byteOffset + body);
      if (view.getUint32(10) !== 0 || view.getUint32(14) !== 0) return 0;
      components = view.getUint16(34);
    }
    if (marker === 0x52 && length >= 12) levels = Math.min(levels, data[body + 5]!); // COD: Scod, SGcod (4), SPcod levels
    if (marker === 0x53 && components > 0) {
      const levelAt = body + (components < 257 ? 1 : 2) + 1; // COC: Ccoc, Scoc, SPcoc levels
      if (levelAt < at + 2 + length) levels = Math.min(levels, data[levelAt]!);
    }
    at += 2 + length;
  }
  return Number.isFinite(levels) ? levels : 0;
}

/** Where the codestream starts (SOC then SIZ): at 0, or inside a JP2 file's contiguous codestream box. */
function indexOfSoc(data: Uint8Array): number {
  const limit = Math.min(data.length - 3, 4096);
  for (let i = 0; i < limit; i++) if (data[i] === 0xff && data[i + 1] === 0x4f && data[i + 2] === 0xff && data[i + 3] === 0x51) return i;
  return -1;
}

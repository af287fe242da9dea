/**
 * What a decoder choice needs from a JPEG codestream (ITU-T T.81 B.2): the
 * frame header's process (SOFn), sample precision, size and component ids,
 * and the JFIF (APP0) / Adobe (APP14) markers that tell decoders whether
 * three components are YCbCr. Read here because the DICOM transfer syntax
 * alone does not say which decoder fits: a 1.2.840.10008.1.2.4.51 frame may
 * be 8 or 12 bits (PS3.5 A.4.1), and some files carry a lossless SOF3
 * under a lossy UID.
 */
import { corrupt } from './frameErrors.js';

export interface JpegHeader {
  /** n of SOFn: 0 baseline, 1 extended, 2 progressive, 3 lossless, ... */
  process: number;
  precision: number;
  rows: number;
  columns: number;
  componentIds: number[];
  jfif: boolean;
  /** Adobe APP14 transform flag (0 none/RGB, 1 YCbCr, 2 YCCK), undefined without the marker. */
  adobeTransform: number | undefined;
}

export function readJpegHeader(data: Uint8Array, syntax: string): JpegHeader {
  if (data.length < 4 || data[0] !== 0xff || data[1] !== 0xd8) throw corrupt(syntax, 'the frame does not start with a JPEG SOI marker (FFD8)');
  let jfif = false;
  let adobeTransform: number | undefined;
  let i = 2;
  while (i + 4 <= data.length) {
    if (data[i] !== 0xff) throw corrupt(syntax, `no JPEG marker at byte ${i} of the frame header`);
    const marker = data[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    const length = (data[i + 2]! << 8) | data[i + 3]!;
    const body = i + 4;
    if (length < 2 || i + 2 + length > data.length) throw corrupt(syntax, `JPEG marker FF${hex(marker)} at byte ${i} runs past the end of the frame`);
    if (marker === 0xe0 && length >= 7 && String.fromCharCode(...data.subarray(body, body + 4)) === 'JFIF') jfif = true;
    if (marker === 0xee && length >= 14 && String.fromCharCode(...data.subarray(body, body + 5)) === 'Adobe') adobeTransform = data[body + 11];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (length < 8) throw corrupt(syntax, 'JPEG frame header (SOF) too short');
      const count = data[body + 5]!;
      if (length < 8 + 3 * count) throw corrupt(syntax, `JPEG frame header (SOF) too short for ${count} components`);
      const componentIds: number[] = [];
      for (let c = 0; c < count; c++) componentIds.push(data[body + 6 + 3 * c]!);
      return {
        process: marker - 0xc0,
        precision: data[body]!,
        rows: (data[body + 1]! << 8) | data[body + 2]!,
        columns: (data[body + 3]! << 8) | data[body + 4]!,
        componentIds,
        jfif,
        adobeTransform,
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    i += 2 + length;
  }
  throw corrupt(syntax, 'no JPEG frame header (SOF marker) before the scan data');
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/**
 * Whether libjpeg(-turbo) will treat three components as YCbCr and convert
 * them to RGB, by its own rule (jdapimin.c default_decompress_parms): JFIF →
 * YCbCr; Adobe transform 0 → RGB, other → YCbCr; component ids 'R','G','B' →
 * RGB; anything else → YCbCr.
 */
export function libjpegConvertsColour(header: JpegHeader): boolean {
  if (header.componentIds.length !== 3) return false;
  if (header.jfif) return true;
  if (header.adobeTransform !== undefined) return header.adobeTransform !== 0;
  const [a, b, c] = header.componentIds;
  return !(a === 0x52 && b === 0x47 && c === 0x42);
}

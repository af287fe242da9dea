/**
 * locateBulk: byte ranges of the bulk data values and frames of a stored file,
 * for WADO-RS Retrieve Bulkdata / Frames (PS3.18 10.4.1.1.4-5) when the index
 * has none, i.e. for deflated instances (PS3.5 A.5): `bytes` is then the
 * inflated dataset, and the ranges index it. For other files `bytes` is the
 * file itself and the ranges equal those parseInstance gave.
 */
import { readPart10 } from './readPart10.js';
import { pixelLayoutOf } from './pixelLayout.js';
import type { ByteRange, PixelLayout } from './types.js';

export function locateBulk(fileBytes: Buffer): { bytes: Buffer; bulk: Record<string, ByteRange>; pixel?: PixelLayout } {
  const file = readPart10(fileBytes);
  const { dataset, bulk, pixelData } = file.reading;
  const pixel = pixelData ? pixelLayoutOf(file.bytes, dataset, pixelData, file.transferSyntaxUID, bulk['7FE00001']) : undefined; // ExtendedOffsetTable
  return { bytes: file.bytes, bulk, pixel };
}

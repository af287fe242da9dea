/**
 * Pixel Data layout (PixelLayout): enough to cut frames out of the stored file
 * without parsing it again, for WADO-RS Retrieve Frames (PS3.18 10.4.1.1.4).
 *
 * Native data (PS3.5 8.1.1): the value range and the length of one frame,
 * rows × columns × samples × bits allocated / 8 (rounded up for 1-bit data).
 * Encapsulated data (PS3.5 A.4): the fragments making each frame, found by,
 * in order:
 *  1. the Basic Offset Table, when not empty;
 *  2. the Extended Offset Table (7FE0,0001), when present (PS3.3 C.7.6.3.1.8);
 *  3. one fragment per frame, when there are as many fragments as frames;
 *  4. all fragments in one frame, when there is one frame;
 *  5. otherwise a new frame at each fragment starting with a codestream start
 *     marker: JPEG / JPEG-LS SOI (FF D8), JPEG 2000 SOC (FF 4F), or a JP2
 *     signature box. For MPEG/HEVC video the whole stream is one "frame".
 * When 5 finds a number of frames that differs from NumberOfFrames the frames
 * found are kept as they are (frames.length tells how many can be served).
 */
import type { ByteRange, DicomJsonDataset, PixelLayout } from './types.js';
import type { PixelDataElement } from './readDataset.js';

const VIDEO_TRANSFER_SYNTAXES = new Set([
  '1.2.840.10008.1.2.4.100', // MPEG2 Main Profile / Main Level
  '1.2.840.10008.1.2.4.100.1',
  '1.2.840.10008.1.2.4.101', // MPEG2 Main Profile / High Level
  '1.2.840.10008.1.2.4.101.1',
  '1.2.840.10008.1.2.4.102', // MPEG-4 AVC/H.264
  '1.2.840.10008.1.2.4.102.1',
  '1.2.840.10008.1.2.4.103',
  '1.2.840.10008.1.2.4.103.1',
  '1.2.840.10008.1.2.4.104',
  '1.2.840.10008.1.2.4.104.1',
  '1.2.840.10008.1.2.4.105',
  '1.2.840.10008.1.2.4.105.1',
  '1.2.840.10008.1.2.4.106',
  '1.2.840.10008.1.2.4.106.1',
  '1.2.840.10008.1.2.4.107', // HEVC/H.265
  '1.2.840.10008.1.2.4.108',
]);

function firstNumber(dataset: DicomJsonDataset, key: string): number | undefined {
  const v = dataset[key]?.Value?.[0];
  return typeof v === 'number' ? v : undefined;
}

function firstString(dataset: DicomJsonDataset, key: string): string | undefined {
  const v = dataset[key]?.Value?.[0];
  return typeof v === 'string' ? v : undefined;
}

/** The shape part of the layout (no offsets), from the Image Pixel module (PS3.3 C.7.6.3). */
export function pixelShapeOf(dataset: DicomJsonDataset, encapsulated: boolean): PixelLayout {
  const bitsAllocated = firstNumber(dataset, '00280100') ?? 0; // BitsAllocated
  const bitsStored = firstNumber(dataset, '00280101') ?? bitsAllocated; // BitsStored
  const frames = firstNumber(dataset, '00280008'); // NumberOfFrames
  return {
    rows: firstNumber(dataset, '00280010') ?? 0, // Rows
    columns: firstNumber(dataset, '00280011') ?? 0, // Columns
    samplesPerPixel: firstNumber(dataset, '00280002') ?? 1, // SamplesPerPixel
    bitsAllocated,
    bitsStored,
    highBit: firstNumber(dataset, '00280102') ?? Math.max(bitsStored - 1, 0), // HighBit
    pixelRepresentation: firstNumber(dataset, '00280103') ?? 0, // PixelRepresentation
    planarConfiguration: firstNumber(dataset, '00280006') ?? 0, // PlanarConfiguration
    photometricInterpretation: firstString(dataset, '00280004') ?? '', // PhotometricInterpretation
    numberOfFrames: frames !== undefined && Number.isInteger(frames) && frames > 0 ? frames : 1,
    encapsulated,
  };
}

export function frameLengthOf(shape: PixelLayout): number {
  return Math.ceil((shape.rows * shape.columns * shape.samplesPerPixel * shape.bitsAllocated) / 8);
}

/** Frames of encapsulated data, fragments per frame (see the module comment for the rules). */
export function encapsulatedFrames(buf: Buffer, items: ByteRange[], numberOfFrames: number, transferSyntaxUID: string, extendedOffsets?: ByteRange): ByteRange[][] {
  const [bot, ...fragments] = items;
  if (fragments.length === 0) return [];

  // Item tag positions relative to the first fragment's item tag, as both offset tables count them.
  const base = fragments[0].offset - 8;
  const byRelativeOffset = new Map<number, number>();
  fragments.forEach((f, i) => byRelativeOffset.set(f.offset - 8 - base, i));
  const fromStarts = (starts: number[]): ByteRange[][] | undefined => {
    const indexes = starts.map((s) => byRelativeOffset.get(s));
    if (indexes.some((i) => i === undefined)) return undefined;
    const idx = indexes as number[];
    for (let i = 1; i < idx.length; i++) if (idx[i] <= idx[i - 1]) return undefined;
    return idx.map((start, i) => fragments.slice(start, i + 1 < idx.length ? idx[i + 1] : fragments.length));
  };

  if (bot && bot.length >= 4) {
    const starts: number[] = [];
    for (let p = bot.offset; p + 4 <= bot.offset + bot.length; p += 4) starts.push(buf.readUInt32LE(p));
    const frames = fromStarts(starts);
    if (frames) return frames;
  }
  if (extendedOffsets && extendedOffsets.length >= 8) {
    const starts: number[] = [];
    for (let p = extendedOffsets.offset; p + 8 <= extendedOffsets.offset + extendedOffsets.length; p += 8) {
      starts.push(Number(buf.readBigUInt64LE(p)));
    }
    const frames = fromStarts(starts);
    if (frames) return frames;
  }
  if (fragments.length === numberOfFrames) return fragments.map((f) => [f]);
  if (numberOfFrames === 1 || VIDEO_TRANSFER_SYNTAXES.has(transferSyntaxUID)) return [fragments];

  const frames: ByteRange[][] = [];
  for (const f of fragments) {
    if (frames.length === 0 || startsCodestream(buf, f)) frames.push([f]);
    else frames[frames.length - 1].push(f);
  }
  return frames;
}

const JP2_SIGNATURE = Buffer.from('0000000c6a5020200d0a870a', 'hex');

function startsCodestream(buf: Buffer, f: ByteRange): boolean {
  if (f.length < 2) return false;
  const b0 = buf[f.offset];
  const b1 = buf[f.offset + 1];
  if (b0 === 0xff && (b1 === 0xd8 || b1 === 0x4f)) return true;
  return f.length >= 12 && buf.compare(JP2_SIGNATURE, 0, 12, f.offset, f.offset + 12) === 0;
}

/** The full layout with file offsets, from the dataset and its top-level (7FE0,0010). */
export function pixelLayoutOf(buf: Buffer, dataset: DicomJsonDataset, pixelData: PixelDataElement, transferSyntaxUID: string, extendedOffsets?: ByteRange): PixelLayout {
  const layout = pixelShapeOf(dataset, pixelData.encapsulated);
  if (pixelData.encapsulated) {
    layout.frames = encapsulatedFrames(buf, pixelData.items ?? [], layout.numberOfFrames, transferSyntaxUID, extendedOffsets);
  } else {
    layout.value = pixelData.value;
    layout.frameLength = frameLengthOf(layout);
  }
  return layout;
}

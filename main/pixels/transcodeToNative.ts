/**
 * transcodeToNative: a stored instance as an Explicit VR Little Endian Part-10
 * file (PS3.10 7.1, PS3.5 A.2), for WADO-RS retrieve with
 * `transfer-syntax=1.2.840.10008.1.2.1` (PS3.18 8.7.3.5.2) and WADO-URI
 * `transferSyntax=1.2.840.10008.1.2.1` (PS3.18 9.1.2.2.1), produced as a
 * stream of chunks.
 *
 * Why by hand, byte for byte, rather than with dcmjs (a dependency): the
 * dataset of every encapsulated syntax is itself Explicit VR Little Endian
 * (PS3.5 A.4), so copying its elements as stored keeps every attribute exactly
 * (private tags, odd VRs, character sets, sequences) where a parse and re-write
 * would risk changing them; and dcmjs holds a whole dataset in memory. What
 * changes (PS3.5 8.2, A.4):
 *  - File Meta: (0002,0010) TransferSyntaxUID replaced, (0002,0000) group
 *    length recomputed, the other meta elements copied; a zero preamble.
 *  - (0028,0004) PhotometricInterpretation and (0028,0006) PlanarConfiguration
 *    from the decoded frame (JPEG YBR_FULL_422 → RGB, planar 0; PS3.5 8.2.1
 *    says the photometric interpretation is that of the decompressed data);
 *    PlanarConfiguration is added when SamplesPerPixel > 1 and it is absent.
 *  - (7FE0,0010) Pixel Data native: OB for 8-bit (and 1-bit) data, OW
 *    otherwise; the decoded frames concatenated; padded to even length.
 *  - (7FE0,0001)/(7FE0,0002) Extended Offset Table dropped (encapsulated only),
 *    as are the retired group lengths (0028,0000) and (7FE0,0000), which would
 *    no longer be right.
 * LossyImageCompression and its ratio/method are kept as stored (PS3.3
 * C.7.6.1.1.5: once lossy, always lossy). Elements after Pixel Data (e.g.
 * trailing padding) are copied as stored.
 *
 * Deflated instances (PS3.5 A.5) are inflated: their dataset is already
 * Explicit VR Little Endian with native pixels (the inflated dataset is held in
 * memory, as for their frames). Implicit VR and big endian datasets would need
 * every element re-encoded: not done here; canTranscodeToNative says no, and
 * the caller answers 406 naming the syntax.
 *
 * Memory: the header (everything before Pixel Data) plus one decoded frame at
 * a time; the first frame is decoded before the result is returned, so that a
 * decoding failure is thrown before anything is sent.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, readPart10 } from '../dicom/readPart10.js';
import { AppError } from '../errors.js';
import type { StoredInstance } from '../store/types.js';
import { frameCount } from '../dicomweb/frames.js';
import { hasDecoder } from './codecs/decodeCompressed.js';
import { openPixelSource, type PixelSource } from './pixelSource.js';
import { readDecodedFrame } from './readDecodedFrame.js';
import type { DecodedFrame } from './types.js';

/**
 * Whether an instance stored as `transferSyntaxUID` can be delivered as
 * Explicit VR Little Endian: as stored, inflated, or decoded by a codec of
 * main/pixels/codecs/ (decodeFrame has the last word on each frame).
 */
export function canTranscodeToNative(transferSyntaxUID: string): boolean {
  return transferSyntaxUID === EXPLICIT_VR_LITTLE_ENDIAN || transferSyntaxUID === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN || hasDecoder(transferSyntaxUID);
}

export interface TranscodedInstance {
  /** Total bytes of the Part-10 file. */
  length: number;
  /** The file's bytes, in order; consumed once. Closes the stored file when done (or when the consumer stops early). */
  chunks: AsyncGenerator<Buffer, void, undefined>;
  /** Closes the stored file if `chunks` was never run to its end (idempotent). */
  close(): Promise<void>;
}

const ITEM = 0xfffee000; // Item
const ITEM_DELIMITER = 0xfffee00d; // ItemDelimitationItem
const SEQUENCE_DELIMITER = 0xfffee0dd; // SequenceDelimitationItem
const UNDEFINED_LENGTH = 0xffffffff;
const TRANSFER_SYNTAX_UID = 0x00020010; // TransferSyntaxUID
const PHOTOMETRIC_INTERPRETATION = 0x00280004; // PhotometricInterpretation
const PLANAR_CONFIGURATION = 0x00280006; // PlanarConfiguration
const PIXEL_DATA = 0x7fe00010; // PixelData
/** Elements left out of the transcoded dataset. */
const DROPPED = new Set([
  0x00280000, // group length of 0028 (retired; the photometric value may change length)
  0x7fe00000, // group length of 7FE0 (retired)
  0x7fe00001, // ExtendedOffsetTable
  0x7fe00002, // ExtendedOffsetTableLengths
]);
/** Explicit VRs with a 2-byte reserved field and a 32-bit length (PS3.5 Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Chunk size for copying stored bytes after Pixel Data. */
const COPY_CHUNK = 256 * 1024;

function truncated(what: string, at: number): AppError {
  return new AppError('bad-dicom', `${what}: the stored file is truncated or malformed at offset ${at} while copying its dataset`);
}

function tagAt(buf: Buffer, pos: number): number {
  return ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
}

interface ElementHeader {
  tag: number;
  vr: string | undefined;
  length: number;
  /** Offset of the value. */
  value: number;
}

function elementAt(buf: Buffer, pos: number, explicit: boolean, what: string): ElementHeader {
  if (pos + 8 > buf.length) throw truncated(what, pos);
  const tag = tagAt(buf, pos);
  if (!explicit || tag >>> 16 === 0xfffe) return { tag, vr: undefined, length: buf.readUInt32LE(pos + 4), value: pos + 8 };
  const vr = buf.toString('latin1', pos + 4, pos + 6);
  if (LONG_VRS.has(vr)) {
    if (pos + 12 > buf.length) throw truncated(what, pos);
    return { tag, vr, length: buf.readUInt32LE(pos + 8), value: pos + 12 };
  }
  return { tag, vr, length: buf.readUInt16LE(pos + 6), value: pos + 8 };
}

/**
 * Where the element at `pos` ends. Undefined lengths are walked: items of a
 * sequence (or fragments of nested encapsulated data) up to the Sequence
 * Delimiter; an explicit VR UN of undefined length holds implicit VR little
 * endian items (PS3.5 6.2.2).
 */
function elementEnd(buf: Buffer, pos: number, explicit: boolean, what: string, depth = 0): number {
  const element = elementAt(buf, pos, explicit, what);
  if (element.length !== UNDEFINED_LENGTH) {
    const end = element.value + element.length;
    if (end > buf.length) throw truncated(what, pos);
    return end;
  }
  if (depth > 64) throw truncated(what, pos);
  const inner = explicit && element.vr !== 'UN';
  let at = element.value;
  for (;;) {
    if (at + 8 > buf.length) throw truncated(what, at);
    const tag = tagAt(buf, at);
    const length = buf.readUInt32LE(at + 4);
    if (tag === SEQUENCE_DELIMITER) return at + 8;
    if (tag !== ITEM) throw truncated(what, at);
    if (length !== UNDEFINED_LENGTH) {
      at += 8 + length;
      continue;
    }
    at += 8;
    for (;;) {
      if (at + 8 > buf.length) throw truncated(what, at);
      if (tagAt(buf, at) === ITEM_DELIMITER) break;
      at = elementEnd(buf, at, inner, what, depth + 1);
    }
    at += 8;
  }
}

/** An element of the Explicit VR Little Endian dataset: tag, VR, length, value (padded to even length with `pad`). */
function encodeElement(tag: number, vr: string, value: Buffer, pad = 0x20): Buffer {
  const body = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([pad])]);
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(body.length, 8);
  else head.writeUInt16LE(body.length, 6);
  return Buffer.concat([head, body]);
}

function uint16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value, 0);
  return b;
}

/** Where File Meta Information starts: after the preamble and 'DICM' (PS3.10 7.1), or at 0 when the file has neither. */
function metaStart(buf: Buffer): number {
  if (buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM') return 132;
  if (buf.toString('latin1', 0, 4) === 'DICM') return 4;
  return 0;
}

/**
 * The new File Meta Information (preamble, 'DICM', group 0002) and the offset
 * where the stored dataset starts. (0002,0000) is recomputed, (0002,0010) replaced.
 */
function rewriteFileMeta(buf: Buffer, what: string): { meta: Buffer; datasetOffset: number } {
  const elements: Buffer[] = [];
  let pos = metaStart(buf);
  let sawTransferSyntax = false;
  while (pos + 8 <= buf.length && buf.readUInt16LE(pos) === 0x0002) {
    const element = elementAt(buf, pos, true, what);
    const end = element.value + element.length;
    if (element.length === UNDEFINED_LENGTH || end > buf.length) throw truncated(what, pos);
    if (element.tag === TRANSFER_SYNTAX_UID) {
      elements.push(encodeElement(TRANSFER_SYNTAX_UID, 'UI', Buffer.from(EXPLICIT_VR_LITTLE_ENDIAN, 'latin1'), 0));
      sawTransferSyntax = true;
    } else if (element.tag !== 0x00020000) {
      elements.push(buf.subarray(pos, end));
    }
    pos = end;
  }
  if (!sawTransferSyntax) elements.push(encodeElement(TRANSFER_SYNTAX_UID, 'UI', Buffer.from(EXPLICIT_VR_LITTLE_ENDIAN, 'latin1'), 0));
  // Elements in ascending tag order: the transfer syntax may have been appended.
  elements.sort((a, b) => a.readUInt16LE(2) - b.readUInt16LE(2));
  const groupLength = elements.reduce((sum, e) => sum + e.length, 0);
  const groupLengthValue = Buffer.alloc(4);
  groupLengthValue.writeUInt32LE(groupLength, 0);
  const meta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), encodeElement(0x00020000, 'UL', groupLengthValue), ...elements]);
  return { meta, datasetOffset: pos };
}

/**
 * The dataset elements before Pixel Data, copied, with the photometric
 * interpretation and planar configuration of the decoded data. Returns the
 * bytes and the offset of the Pixel Data element in `buf`.
 */
function rewriteHeader(buf: Buffer, start: number, decoded: DecodedFrame, what: string): { header: Buffer; pixelDataOffset: number } {
  const replaced = new Map<number, Buffer>([[PHOTOMETRIC_INTERPRETATION, encodeElement(PHOTOMETRIC_INTERPRETATION, 'CS', Buffer.from(decoded.photometricInterpretation, 'latin1'))]]);
  if (decoded.samplesPerPixel > 1) replaced.set(PLANAR_CONFIGURATION, encodeElement(PLANAR_CONFIGURATION, 'US', uint16(0)));
  const out: Buffer[] = [];
  const insertBefore = (tag: number) => {
    for (const [t, bytes] of replaced) {
      if (t < tag) {
        out.push(bytes);
        replaced.delete(t);
      }
    }
  };
  let pos = start;
  for (;;) {
    if (pos + 8 > buf.length) throw truncated(what, pos);
    const tag = tagAt(buf, pos);
    insertBefore(tag);
    if (tag === PIXEL_DATA) break;
    const end = elementEnd(buf, pos, true, what);
    if (tag === PHOTOMETRIC_INTERPRETATION || tag === PLANAR_CONFIGURATION) {
      const bytes = replaced.get(tag);
      if (bytes) out.push(bytes);
      replaced.delete(tag);
    } else if (!DROPPED.has(tag)) {
      out.push(buf.subarray(pos, end));
    }
    pos = end;
  }
  return { header: Buffer.concat(out), pixelDataOffset: pos };
}

async function readAt(handle: FileHandle, offset: number, length: number, what: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) throw truncated(what, offset + done);
    done += bytesRead;
  }
  return buffer;
}

/** Where the encapsulated Pixel Data element starting at `offset` ends (after its Sequence Delimiter). */
async function encapsulatedEnd(handle: FileHandle, offset: number, lastFragmentEnd: number | undefined, what: string): Promise<number> {
  if (lastFragmentEnd !== undefined) {
    // Usually the delimiter follows the last fragment of the last frame: one read.
    const probe = await readAt(handle, lastFragmentEnd, 8, what).catch(() => undefined);
    if (probe && tagAt(probe, 0) === SEQUENCE_DELIMITER) return lastFragmentEnd + 8;
  }
  let at = offset + 12; // tag, VR OB, reserved, undefined length
  for (;;) {
    const head = await readAt(handle, at, 8, what);
    const tag = tagAt(head, 0);
    if (tag === SEQUENCE_DELIMITER) return at + 8;
    const length = head.readUInt32LE(4);
    if (tag !== ITEM || length === UNDEFINED_LENGTH) throw truncated(what, at);
    at += 8 + length;
  }
}

function checkDecoded(decoded: DecodedFrame, instance: StoredInstance, n: number, expectedLength: number): void {
  const layout = instance.pixel!;
  const same =
    decoded.rows === layout.rows &&
    decoded.columns === layout.columns &&
    decoded.samplesPerPixel === layout.samplesPerPixel &&
    decoded.bitsAllocated === layout.bitsAllocated;
  if (!same || decoded.bytes.length !== expectedLength) {
    throw new AppError(
      'bad-dicom',
      `instance ${instance.sopInstanceUID}: frame ${n} decodes to ${decoded.rows}x${decoded.columns}, ${decoded.samplesPerPixel} samples of ${decoded.bitsAllocated} bits (${decoded.bytes.length} bytes) but the dataset says ${layout.rows}x${layout.columns}, ${layout.samplesPerPixel} samples of ${layout.bitsAllocated} bits (${expectedLength} bytes)`,
    );
  }
}

/** A deflated instance: its inflated dataset after a new File Meta. */
async function transcodeDeflated(instance: StoredInstance): Promise<TranscodedInstance> {
  const file = await readFile(instance.path);
  const what = `instance ${instance.sopInstanceUID}`;
  const { meta } = rewriteFileMeta(file, what);
  const dataset = readPart10(file).bytes;
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    yield meta;
    yield dataset;
  }
  return { length: meta.length + dataset.length, chunks: chunks(), close: async () => {} };
}

/**
 * Opens `instance` for transcoding: reads its header and decodes its first
 * frame now (errors are thrown here), the other frames as `chunks` is read.
 */
export async function transcodeToNative(instance: StoredInstance): Promise<TranscodedInstance> {
  const what = `instance ${instance.sopInstanceUID} (stored as ${instance.transferSyntaxUID})`;
  if (!canTranscodeToNative(instance.transferSyntaxUID)) {
    throw new AppError('not-acceptable', `${what} cannot be transcoded to ${EXPLICIT_VR_LITTLE_ENDIAN}: only compressed syntaxes with a decoder and deflated data can`);
  }
  if (instance.deflated) return transcodeDeflated(instance);
  const layout = instance.pixel;
  if (!layout || !layout.encapsulated) {
    throw new AppError('internal', `${what} has no encapsulated pixel data: there is nothing to transcode, send it as stored`);
  }
  const frames = frameCount(layout);
  if (frames !== layout.numberOfFrames) {
    throw new AppError('bad-dicom', `${what}: the pixel data holds ${frames} frames but NumberOfFrames says ${layout.numberOfFrames}; it cannot be written uncompressed`);
  }
  const frameBits = layout.rows * layout.columns * layout.samplesPerPixel * layout.bitsAllocated;
  if (frameBits % 8 !== 0 && frames > 1) {
    throw new AppError('not-acceptable', `${what}: frames of ${frameBits} bits are not whole bytes; multi-frame 1-bit data is not transcoded`);
  }
  const frameLength = Math.ceil(frameBits / 8);
  const pixelLength = frameLength * frames;
  const padded = pixelLength + (pixelLength % 2);
  if (padded > 0xfffffffe) {
    throw new AppError('not-acceptable', `${what}: ${pixelLength} bytes of uncompressed pixel data do not fit in one DICOM element (at most 4 GiB)`);
  }

  const handle = await open(instance.path, 'r');
  let source: PixelSource | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.allSettled([handle.close(), source?.close()]);
  };
  try {
    source = await openPixelSource(instance);
    const firstFragment = layout.frames?.[0]?.[0];
    if (!firstFragment) throw new AppError('bad-dicom', `${what}: the pixel data has no fragments`);
    const prefix = await readAt(handle, 0, firstFragment.offset, what);
    const first = await readDecodedFrame(source, 1, `instance ${instance.sopInstanceUID}`);
    checkDecoded(first, instance, 1, frameLength);

    const { meta, datasetOffset } = rewriteFileMeta(prefix, what);
    const { header, pixelDataOffset } = rewriteHeader(prefix, datasetOffset, first, what);
    const lastFrame = layout.frames![layout.frames!.length - 1]!;
    const lastFragment = lastFrame[lastFrame.length - 1]!;
    const pixelEnd = await encapsulatedEnd(handle, pixelDataOffset, lastFragment.offset + lastFragment.length, what);
    const fileSize = (await handle.stat()).size;
    const pixelHead = Buffer.alloc(12);
    pixelHead.writeUInt32LE(0x00107fe0, 0); // (7FE0,0010) as two little endian 16-bit words
    pixelHead.write(layout.bitsAllocated <= 8 ? 'OB' : 'OW', 4, 'latin1');
    pixelHead.writeUInt32LE(padded, 8);
    const opened = source;

    async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
      try {
        yield Buffer.concat([meta, header, pixelHead]);
        yield first.bytes;
        for (let n = 2; n <= frames; n++) {
          const decoded = await readDecodedFrame(opened, n, `instance ${instance.sopInstanceUID}`);
          checkDecoded(decoded, instance, n, frameLength);
          yield decoded.bytes;
        }
        if (padded !== pixelLength) yield Buffer.alloc(1);
        for (let at = pixelEnd; at < fileSize; at += COPY_CHUNK) {
          yield await readAt(handle, at, Math.min(COPY_CHUNK, fileSize - at), what);
        }
      } finally {
        await close();
      }
    }
    return {
      length: meta.length + header.length + pixelHead.length + padded + (fileSize - pixelEnd),
      chunks: chunks(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

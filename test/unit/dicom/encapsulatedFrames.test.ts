/**
 * Frames of encapsulated Pixel Data (PS3.5 A.4) made of several fragments, in
 * files built here so that which fragments make which frame is known: found
 * through the Basic Offset Table, the Extended Offset Table, one fragment per
 * frame, one frame, or codestream start markers. The bytes cut at the ranges
 * given must be the frames that were written.
 */
import { describe, expect, it } from 'vitest';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import type { PixelLayout } from '../../../main/dicom/types.js';

function element(group: number, el: number, vr: string, value: Buffer, undefinedLength = false): Buffer {
  const long = ['OB', 'OW', 'OV', 'SQ', 'UN', 'UT'].includes(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(el, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(undefinedLength ? 0xffffffff : value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

const text = (s: string) => Buffer.from(s.length % 2 ? `${s}\0` : s, 'latin1');
const us = (n: number) => Buffer.from([n & 0xff, n >> 8]);

function itemOf(value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0xe000fffe, 0);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

interface Spec {
  transferSyntax: string;
  frames: Buffer[][]; // fragments of each frame
  numberOfFrames: number;
  basicOffsetTable?: boolean;
  extendedOffsetTable?: boolean;
}

/** A Part-10 file with encapsulated Pixel Data made of the given fragments. */
function encapsulatedFile(spec: Spec): Buffer {
  const fragments = spec.frames.flat();
  // Offsets of each frame's first fragment item, relative to the first fragment item.
  const starts: number[] = [];
  let at = 0;
  for (const frame of spec.frames) {
    starts.push(at);
    for (const f of frame) at += 8 + f.length;
  }
  const bot = spec.basicOffsetTable ? Buffer.concat(starts.map((s) => Buffer.from(new Uint32Array([s]).buffer))) : Buffer.alloc(0);
  const pixelItems = Buffer.concat([itemOf(bot), ...fragments.map(itemOf), Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
  const meta = element(0x0002, 0x0010, 'UI', text(spec.transferSyntax)); // TransferSyntaxUID
  const elements = [
    element(0x0008, 0x0016, 'UI', text('1.2.840.10008.5.1.4.1.1.7')), // SOPClassUID
    element(0x0008, 0x0018, 'UI', text('1.2.3.4.5')), // SOPInstanceUID
    element(0x0020, 0x000d, 'UI', text('1.2.3')), // StudyInstanceUID
    element(0x0020, 0x000e, 'UI', text('1.2.3.4')), // SeriesInstanceUID
    element(0x0028, 0x0002, 'US', us(1)), // SamplesPerPixel
    element(0x0028, 0x0004, 'CS', text('MONOCHROME2')), // PhotometricInterpretation
    element(0x0028, 0x0008, 'IS', text(String(spec.numberOfFrames))), // NumberOfFrames
    element(0x0028, 0x0010, 'US', us(8)), // Rows
    element(0x0028, 0x0011, 'US', us(8)), // Columns
    element(0x0028, 0x0100, 'US', us(8)), // BitsAllocated
  ];
  if (spec.extendedOffsetTable) {
    const offsets = Buffer.concat(starts.map((s) => Buffer.from(new BigUint64Array([BigInt(s)]).buffer)));
    const lengths = Buffer.concat(spec.frames.map((fr) => Buffer.from(new BigUint64Array([BigInt(fr.reduce((n, f) => n + f.length, 0))]).buffer)));
    elements.push(element(0x7fe0, 0x0001, 'OV', offsets)); // ExtendedOffsetTable
    elements.push(element(0x7fe0, 0x0002, 'OV', lengths)); // ExtendedOffsetTableLengths
  }
  elements.push(Buffer.concat([element(0x7fe0, 0x0010, 'OB', Buffer.alloc(0), true).subarray(0, 12), pixelItems])); // PixelData
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), meta, ...elements]);
}

function cut(bytes: Buffer, pixel: PixelLayout | undefined): Buffer[] {
  return pixel!.frames!.map((fragments) => Buffer.concat(fragments.map((f) => bytes.subarray(f.offset, f.offset + f.length))));
}

const JPEG = '1.2.840.10008.1.2.4.50';
const JPEG2000 = '1.2.840.10008.1.2.4.90';
const jpeg = (n: number, size: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(size - 2, n)]);
const j2k = (n: number, size: number) => Buffer.concat([Buffer.from([0xff, 0x4f, 0xff, 0x51]), Buffer.alloc(size - 4, n)]);
const rest = (n: number, size: number) => Buffer.alloc(size, 0x40 + n);

describe('frames of encapsulated pixel data', () => {
  const frames = [[jpeg(1, 10), rest(1, 6)], [jpeg(2, 8)], [jpeg(3, 4), rest(3, 2), rest(4, 12)]];
  const written = frames.map((f) => Buffer.concat(f));

  it('are found through the Basic Offset Table', () => {
    const bytes = encapsulatedFile({ transferSyntax: JPEG, frames: frames.map((f) => f.map((x) => Buffer.alloc(x.length, 7))), numberOfFrames: 3, basicOffsetTable: true });
    // No markers at all: only the table can tell where frames start.
    const { pixel } = parseInstance(bytes);
    expect(pixel?.frames?.map((f) => f.length)).toEqual([2, 1, 3]);
    expect(cut(bytes, pixel)).toEqual(frames.map((f) => Buffer.alloc(f.reduce((n, x) => n + x.length, 0), 7)));
  });

  it('are found through the Extended Offset Table when the Basic Offset Table is empty', () => {
    const plain = frames.map((f) => f.map((x) => Buffer.alloc(x.length, 9)));
    const bytes = encapsulatedFile({ transferSyntax: JPEG, frames: plain, numberOfFrames: 3, extendedOffsetTable: true });
    const parsed = parseInstance(bytes);
    expect(parsed.pixel?.frames?.map((f) => f.length)).toEqual([2, 1, 3]);
    expect(parsed.dataset['7FE00001']).toEqual({ vr: 'OV', BulkDataURI: '@INSTANCE@/bulk/7FE00001' });
  });

  it('are one per fragment when there are as many fragments as frames', () => {
    const single = [[rest(1, 6)], [rest(2, 8)]];
    const bytes = encapsulatedFile({ transferSyntax: JPEG, frames: single, numberOfFrames: 2 });
    expect(cut(bytes, parseInstance(bytes).pixel)).toEqual(single.map((f) => f[0]));
  });

  it('are all fragments together when there is one frame', () => {
    const one = [[jpeg(1, 10), rest(1, 6), rest(2, 4)]];
    const bytes = encapsulatedFile({ transferSyntax: JPEG, frames: one, numberOfFrames: 1 });
    expect(cut(bytes, parseInstance(bytes).pixel)).toEqual([Buffer.concat(one[0])]);
  });

  it('are split at JPEG start-of-image markers without offset tables', () => {
    const bytes = encapsulatedFile({ transferSyntax: JPEG, frames, numberOfFrames: 3 });
    expect(cut(bytes, parseInstance(bytes).pixel)).toEqual(written);
  });

  it('are split at JPEG 2000 start-of-codestream markers without offset tables', () => {
    const j2kFrames = [[j2k(1, 12), rest(1, 4)], [j2k(2, 6), rest(2, 2), rest(3, 2)]];
    const bytes = encapsulatedFile({ transferSyntax: JPEG2000, frames: j2kFrames, numberOfFrames: 2 });
    expect(cut(bytes, parseInstance(bytes).pixel)).toEqual(j2kFrames.map((f) => Buffer.concat(f)));
  });

  it('of a video stream are the whole stream', () => {
    const stream = [[rest(1, 10), rest(2, 10), rest(3, 10)]];
    const bytes = encapsulatedFile({ transferSyntax: '1.2.840.10008.1.2.4.102', frames: stream, numberOfFrames: 25 });
    const { pixel } = parseInstance(bytes);
    expect(pixel?.numberOfFrames).toBe(25);
    expect(cut(bytes, pixel)).toEqual([Buffer.concat(stream[0])]);
  });
});

/**
 * Frame cutting for Retrieve Frames (PS3.5 8.1.1/8.2, PS3.18 8.7.3.3.2):
 * native frames cut by offset and converted to little endian, 1-bit frames
 * re-aligned, encapsulated frames made of their fragments, frame lists parsed.
 * Expected values are computed independently (per pixel / per bit) from the
 * values written.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PixelLayout } from '../../../main/dicom/types.js';
import { AppError } from '../../../main/errors.js';
import {
  bufferByteSource,
  fileByteSource,
  frameCount,
  parseFrameList,
  readEncapsulatedFrame,
  readNativeFrame,
} from '../../../main/dicomweb/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'frames-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function layout(over: Partial<PixelLayout>): PixelLayout {
  return {
    rows: 2,
    columns: 3,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    numberOfFrames: 1,
    encapsulated: false,
    ...over,
  };
}

describe('parseFrameList', () => {
  it('reads comma-separated 1-based frame numbers, in the order given', () => {
    expect(parseFrameList('1')).toEqual([1]);
    expect(parseFrameList('3,1, 2,3')).toEqual([3, 1, 2, 3]);
  });

  it('refuses zero, negatives, words and empty items with a 400 naming the item', () => {
    for (const bad of ['0', '-1', '1,,2', 'a', '1.5', '', '2,x']) {
      expect(() => parseFrameList(bad), bad).toThrow(AppError);
      try {
        parseFrameList(bad);
      } catch (err) {
        expect((err as AppError).kind).toBe('bad-request');
        expect((err as AppError).message).toContain('frame numbers starting at 1');
      }
    }
  });
});

describe('native frames', () => {
  const prefix = Buffer.from('PREFIX--'); // the value does not start at offset 0

  it('cuts 16-bit big endian frames at their offsets and delivers them little endian', async () => {
    const frames = 3;
    const values = Array.from({ length: frames * 6 }, (_, i) => (i * 4099 + 17) & 0xffff);
    const value = Buffer.alloc(values.length * 2);
    values.forEach((v, i) => value.writeUInt16BE(v, i * 2));
    const l = layout({ numberOfFrames: frames, value: { offset: prefix.length, length: value.length }, frameLength: 12 });
    const source = bufferByteSource(Buffer.concat([prefix, value]), 'test');
    expect(frameCount(l)).toBe(3);
    for (let n = 1; n <= frames; n++) {
      const expected = Buffer.alloc(12);
      values.slice((n - 1) * 6, n * 6).forEach((v, i) => expected.writeUInt16LE(v, i * 2));
      expect((await readNativeFrame(source, l, n, { bigEndian: true })).equals(expected), `frame ${n}`).toBe(true);
    }
    // The shared bytes are not swapped in place.
    expect(Buffer.concat([prefix, value]).subarray(prefix.length).equals(value)).toBe(true);
  });

  it('swaps 32-bit big endian words and leaves little endian data as stored', async () => {
    const values = [0x01020304, 0xa0b0c0d0, 7, 0xffffffff];
    const be = Buffer.alloc(16);
    const le = Buffer.alloc(16);
    values.forEach((v, i) => {
      be.writeUInt32BE(v, i * 4);
      le.writeUInt32LE(v, i * 4);
    });
    const l = layout({ rows: 1, columns: 2, bitsAllocated: 32, numberOfFrames: 2, value: { offset: 0, length: 16 } });
    expect((await readNativeFrame(bufferByteSource(be, 't'), l, 2, { bigEndian: true })).equals(le.subarray(8))).toBe(true);
    expect((await readNativeFrame(bufferByteSource(le, 't'), l, 2, { bigEndian: false })).equals(le.subarray(8))).toBe(true);
  });

  it('un-swaps 8-bit big endian data stored as OW, whose bytes are swapped in 16-bit words', async () => {
    // 3 frames of 1x3 8-bit pixels: 9 bytes, padded to 10, swapped by word in the file.
    const pixels = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    const stored = Buffer.from(pixels).swap16();
    const l = layout({ rows: 1, columns: 3, bitsAllocated: 8, numberOfFrames: 3, value: { offset: 0, length: 10 } });
    for (let n = 1; n <= 3; n++) {
      const frame = await readNativeFrame(bufferByteSource(stored, 't'), l, n, { bigEndian: true, eightBitAsOW: true });
      expect([...frame], `frame ${n}`).toEqual([...pixels.subarray((n - 1) * 3, n * 3)]);
    }
  });

  it('re-aligns 1-bit frames that do not start on a byte boundary (first pixel in the lowest bit)', async () => {
    const frames = 3;
    const bitsPerFrame = 9; // 3x3
    const bits = Array.from({ length: frames * bitsPerFrame }, (_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
    const value = Buffer.alloc(Math.ceil(bits.length / 8) + 1);
    bits.forEach((b, i) => (value[i >> 3]! |= b << (i & 7)));
    const l = layout({ rows: 3, columns: 3, bitsAllocated: 1, bitsStored: 1, highBit: 0, numberOfFrames: frames, value: { offset: 0, length: value.length } });
    for (let n = 1; n <= frames; n++) {
      const expected = Buffer.alloc(2);
      bits.slice((n - 1) * bitsPerFrame, n * bitsPerFrame).forEach((b, i) => (expected[i >> 3]! |= b << (i & 7)));
      const frame = await readNativeFrame(bufferByteSource(value, 't'), l, n, { bigEndian: false });
      expect([...frame], `frame ${n}`).toEqual([...expected]);
    }
  });

  it('takes YBR_FULL_422 native frames as 2 samples per pixel', async () => {
    const value = Buffer.from(Array.from({ length: 24 }, (_, i) => i));
    const l = layout({ rows: 2, columns: 3, samplesPerPixel: 3, bitsAllocated: 8, photometricInterpretation: 'YBR_FULL_422', numberOfFrames: 2, value: { offset: 0, length: 24 } });
    expect([...(await readNativeFrame(bufferByteSource(value, 't'), l, 2, { bigEndian: false }))]).toEqual([...value.subarray(12, 24)]);
  });

  it('refuses a frame that lies beyond the stored value', async () => {
    const l = layout({ numberOfFrames: 2, value: { offset: 0, length: 12 } });
    await expect(readNativeFrame(bufferByteSource(Buffer.alloc(24), 't'), l, 2, { bigEndian: false })).rejects.toThrow('beyond the end of the pixel data');
  });

  it('reads only the frame from a file, at its offset', async () => {
    const file = join(dir, 'native.bin');
    const content = Buffer.from(Array.from({ length: 4096 }, (_, i) => i & 0xff));
    writeFileSync(file, content);
    const l = layout({ rows: 8, columns: 8, numberOfFrames: 10, value: { offset: 1000, length: 1280 } });
    const handle = await open(file, 'r');
    try {
      const frame = await readNativeFrame(fileByteSource(handle, 't'), l, 4, { bigEndian: false });
      expect(frame.equals(content.subarray(1000 + 3 * 128, 1000 + 4 * 128))).toBe(true);
      await expect(fileByteSource(handle, 'native.bin').read({ offset: 4000, length: 200 })).rejects.toThrow('file ends before byte 4200');
    } finally {
      await handle.close();
    }
  });
});

describe('encapsulated frames', () => {
  it('are the concatenation of their fragments, as stored', async () => {
    const file = Buffer.from('....AAAA....BB....CCCCCC..', 'latin1');
    const l = layout({
      encapsulated: true,
      numberOfFrames: 2,
      frames: [
        [{ offset: 4, length: 4 }, { offset: 12, length: 2 }],
        [{ offset: 18, length: 6 }],
      ],
    });
    expect(frameCount(l)).toBe(2);
    const source = bufferByteSource(file, 't');
    expect((await readEncapsulatedFrame(source, l, 1)).toString('latin1')).toBe('AAAABB');
    expect((await readEncapsulatedFrame(source, l, 2)).toString('latin1')).toBe('CCCCCC');
    await expect(readEncapsulatedFrame(source, l, 3)).rejects.toThrow('frame 3 is not in the pixel data (2 frames)');
  });

  it('are read into the buffer a caller gives, fragment after fragment, from a file or from memory', async () => {
    const content = Buffer.from('....AAAA....BB....CCCCCC..', 'latin1');
    const path = join(dir, 'fragments.bin');
    writeFileSync(path, content);
    const l = layout({ encapsulated: true, numberOfFrames: 1, frames: [[{ offset: 4, length: 4 }, { offset: 12, length: 2 }, { offset: 18, length: 6 }]] });
    const handle = await open(path, 'r');
    try {
      for (const source of [fileByteSource(handle, 't'), bufferByteSource(content, 't')]) {
        const given = Buffer.alloc(20, '#');
        const lengths: number[] = [];
        const frame = await readEncapsulatedFrame(source, l, 1, (length) => (lengths.push(length), given.subarray(3, 3 + length)));
        expect(lengths).toEqual([12]);
        expect(frame.buffer).toBe(given.buffer);
        expect(given.toString('latin1')).toBe('###AAAABBCCCCCC#####');
      }
    } finally {
      await handle.close();
    }
  });
});

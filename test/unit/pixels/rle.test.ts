/**
 * The RLE decoder's own paths (main/pixels/codecs/rle.ts, PS3.5 Annex G) on
 * frames built here byte by byte, so every word value is known: 16-bit grey
 * (two byte planes joined and masked in one pass), 8-bit grey (one plane) and
 * 8-bit RGB (three planes). Real encoder output (dcmcrle, pydicom's samples)
 * is checked against the reference decoders in decodeSamples/decodeSynthetic.
 */
import { describe, expect, test } from 'vitest';
import { decodeRle } from '../../../main/pixels/codecs/rle.js';
import type { FrameInfo } from '../../../main/pixels/types.js';

const RLE = '1.2.840.10008.1.2.5';

/** PackBits of one plane: long runs of equal bytes as replicate runs, the rest as literal runs (G.3.1). */
function packBits(plane: Uint8Array): Buffer {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 3) {
      out.push(257 - run, plane[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < plane.length && i - start < 128 && !(i + 2 < plane.length && plane[i] === plane[i + 1] && plane[i] === plane[i + 2])) i++;
    out.push(i - start - 1, ...plane.subarray(start, i));
  }
  if (out.length % 2) out.push(128); // a no-op header pads the segment to an even length
  return Buffer.from(out);
}

/** An RLE frame of the given byte planes (most significant byte of each sample first). */
function rleFrame(planes: Uint8Array[]): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32LE(planes.length, 0);
  const segments = planes.map(packBits);
  let offset = 64;
  segments.forEach((segment, k) => {
    header.writeUInt32LE(offset, 4 + 4 * k);
    offset += segment.length;
  });
  return Buffer.concat([header, ...segments]);
}

function info(rows: number, columns: number, bits: Partial<FrameInfo>): FrameInfo {
  return {
    transferSyntaxUID: RLE,
    rows,
    columns,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    ...bits,
  };
}

/** Words with runs (flat areas) and noise, high bits set in some so that masking shows. */
function testWords(count: number): Uint16Array {
  const words = new Uint16Array(count);
  let seed = 12345;
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    words[i] = i % 700 < 300 ? 0xf000 | (i % 700 < 150 ? 0x0800 : 0x0123) : seed >>> 16;
  }
  return words;
}

function planesOf(words: Uint16Array): Uint8Array[] {
  return [Uint8Array.from(words, (w) => w >> 8), Uint8Array.from(words, (w) => w & 0xff)];
}

describe('RLE decoding', () => {
  const rows = 37; // odd sizes: runs cross row ends, the frame is not a multiple of 4 bytes
  const columns = 53;
  const words = testWords(rows * columns);
  const frame = rleFrame(planesOf(words));

  test('16-bit words come back whole when all 16 bits are stored', () => {
    const out = decodeRle(frame, info(rows, columns, {}));
    expect(Array.from(new Uint16Array(out.buffer, out.byteOffset, rows * columns))).toEqual(Array.from(words));
  });

  test('12 bits stored, unsigned: the bits above are cleared in the same pass', () => {
    const out = decodeRle(frame, info(rows, columns, { bitsStored: 12, highBit: 11 }));
    expect(Array.from(new Uint16Array(out.buffer, out.byteOffset, rows * columns))).toEqual(Array.from(words, (w) => w & 0x0fff));
  });

  test('12 bits stored, signed: bit 11 is extended over the word, so reading Int16 gives the value', () => {
    const out = decodeRle(frame, info(rows, columns, { bitsStored: 12, highBit: 11, pixelRepresentation: 1 }));
    const expected = Array.from(words, (w) => ((w & 0x0fff) << 20) >> 20);
    expect(Array.from(new Int16Array(out.buffer, out.byteOffset, rows * columns))).toEqual(expected);
  });

  test('8-bit grey (one plane) and 8-bit RGB (three planes, interleaved on output)', () => {
    const grey = Uint8Array.from(words, (w) => w & 0xff);
    const one = decodeRle(rleFrame([grey]), info(rows, columns, { bitsAllocated: 8, bitsStored: 8, highBit: 7 }));
    expect(Array.from(one)).toEqual(Array.from(grey));

    const [r, g, b] = [grey, Uint8Array.from(grey, (v) => 255 - v), Uint8Array.from(words, (w) => w >> 8)];
    const rgb = decodeRle(rleFrame([r, g, b]), info(rows, columns, { bitsAllocated: 8, bitsStored: 8, highBit: 7, samplesPerPixel: 3, photometricInterpretation: 'RGB' }));
    const expected: number[] = [];
    for (let i = 0; i < rows * columns; i++) expected.push(r[i]!, g[i]!, b[i]!);
    expect(Array.from(rgb)).toEqual(expected);
  });

  test('a segment that ends early is reported with the bytes it gave', () => {
    const short = rleFrame(planesOf(words.subarray(0, 100)));
    expect(() => decodeRle(short, info(rows, columns, {}))).toThrow(/RLE segment 1 decodes to 100 bytes, 1961 expected/);
  });

  test('a low-byte segment that ends early is reported as segment 2', () => {
    const [high, low] = planesOf(words);
    const short = rleFrame([high!, low!.subarray(0, 777)]);
    expect(() => decodeRle(short, info(rows, columns, { bitsStored: 12, highBit: 11 }))).toThrow(/RLE segment 2 decodes to 777 bytes, 1961 expected/);
  });
});

/** Words whose two byte planes have independent runs: repeats and literals of odd and even lengths, starting at odd and even words. */
function mixedRunWords(count: number): Uint16Array {
  let seed = 777;
  const next = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const plane = () => {
    const bytes = new Uint8Array(count);
    for (let i = 0; i < count; ) {
      const length = 1 + next(next(2) ? 9 : 300);
      const value = next(256);
      const repeat = next(2) === 1;
      for (let k = 0; k < length && i < count; k++, i++) bytes[i] = repeat ? value : next(256);
    }
    return bytes;
  };
  const [high, low] = [plane(), plane()];
  return Uint16Array.from(high, (h, i) => (h << 8) | low[i]!);
}

describe('RLE decoding of 16-bit words, every Bits Stored and sign', () => {
  const rows = 61;
  const columns = 67; // an odd number of words
  const words = mixedRunWords(rows * columns);
  const frame = rleFrame(planesOf(words));

  for (const bitsStored of [16, 15, 12, 9, 8, 7, 4, 1]) {
    for (const pixelRepresentation of [0, 1]) {
      test(`${bitsStored} bits stored, ${pixelRepresentation ? 'signed' : 'unsigned'}: each word masked (and sign-extended) as the reference does`, () => {
        const out = decodeRle(frame, info(rows, columns, { bitsStored, highBit: bitsStored - 1, pixelRepresentation }));
        const mask = 2 ** bitsStored - 1;
        const signBit = 2 ** (bitsStored - 1);
        const expected = Array.from(words, (w) => {
          const v = w & mask;
          return pixelRepresentation === 1 && v >= signBit ? (v - 2 * signBit) & 0xffff : v;
        });
        expect(out.length).toBe(rows * columns * 2);
        expect(Array.from({ length: rows * columns }, (_, i) => out.readUInt16LE(i * 2))).toEqual(expected);
      });
    }
  }
});


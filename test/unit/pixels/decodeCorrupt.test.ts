/**
 * Corrupt compressed frames (issue 4 §1, §4): truncated fragments, random
 * bytes, lengths that disagree with the header — each answers
 * AppError('bad-dicom') naming the transfer syntax, never pixels and never a
 * crash; afterwards the decode pool still decodes good frames.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { decodeFrame, decodeFrameInThread } from '../../../main/pixels/decodeFrame.js';
import { closeDecodePool } from '../../../main/pixels/decodePool.js';
import type { FrameInfo } from '../../../main/pixels/types.js';
import { storedFrames } from '../../support/pixelFiles.js';
import { havePydicomSamples, sample } from '../../support/samples.js';

afterAll(() => closeDecodePool());

const SAMPLES = [
  { file: 'MR_small_RLE.dcm', name: 'RLE Lossless' },
  { file: 'SC_rgb_rle_16bit.dcm', name: 'RLE Lossless' },
  { file: 'SC_rgb_jpeg_dcmtk.dcm', name: 'JPEG Baseline' },
  { file: 'SC_jpeg_no_color_transform.dcm', name: 'JPEG Baseline' },
  { file: 'JPEG-lossy.dcm', name: 'JPEG Extended' },
  { file: 'SC_rgb_jpeg_gdcm.dcm', name: 'JPEG Lossless' },
  { file: 'MR_small_jpeg_ls_lossless.dcm', name: 'JPEG-LS Lossless' },
  { file: 'MR_small_jp2klossless.dcm', name: 'JPEG 2000' },
  { file: 'JPEG2000.dcm', name: 'JPEG 2000' },
];

/** Deterministic pseudo-random bytes (xorshift), so a failure can be replayed. */
function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function expectBadDicom(decode: Promise<unknown>, name: string, uid: string): Promise<AppError> {
  const error = await decode.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, 'decoding must fail').toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.kind, appError.message).toBe('bad-dicom');
  expect(appError.message).toContain(name);
  expect(appError.message).toContain(uid);
  return appError;
}

describe.skipIf(!havePydicomSamples)('corrupt frames answer bad-dicom naming the transfer syntax', () => {
  describe.each(SAMPLES)('$file', ({ file, name }) => {
    const load = () => storedFrames(sample(file));

    test('truncated to half its length, then a good frame still decodes in the pool', async () => {
      const { info, frames } = await load();
      const good = frames[0]!;
      await expectBadDicom(decodeFrame(good.subarray(0, Math.floor(good.length / 2)), info), name, info.transferSyntaxUID);
      await expectBadDicom(decodeFrameInThread(good.subarray(0, Math.floor(good.length / 2)), info), name, info.transferSyntaxUID);
      const decoded = await decodeFrame(good, info);
      expect(decoded.bytes.equals((await decodeFrameInThread(good, info)).bytes)).toBe(true);
    });

    test('truncated by its last 16 bytes', async () => {
      const { info, frames } = await load();
      await expectBadDicom(decodeFrame(frames[0]!.subarray(0, frames[0]!.length - 16), info), name, info.transferSyntaxUID);
    });

    test.each([1, 2, 3])('random bytes (seed %i), then a good frame still decodes', async (seed) => {
      const { info, frames } = await load();
      await expectBadDicom(decodeFrame(randomBytes(frames[0]!.length, seed), info), name, info.transferSyntaxUID);
      expect((await decodeFrame(frames[0]!, info)).bytes.length).toBe(info.rows * info.columns * info.samplesPerPixel * (info.bitsAllocated / 8));
    });

    test('a frame whose size disagrees with Rows and Columns', async () => {
      const { info, frames } = await load();
      const wrong: FrameInfo = { ...info, rows: info.rows * 2 };
      await expectBadDicom(decodeFrame(frames[0]!, wrong), name, info.transferSyntaxUID);
    });

    test('an empty frame', async () => {
      const { info } = await load();
      await expectBadDicom(decodeFrame(Buffer.alloc(0), info), name, info.transferSyntaxUID);
    });
  });
});

describe('RLE headers with wrong lengths', () => {
  const info: FrameInfo = {
    transferSyntaxUID: '1.2.840.10008.1.2.5',
    rows: 2,
    columns: 2,
    samplesPerPixel: 1,
    bitsAllocated: 8,
    bitsStored: 8,
    highBit: 7,
    pixelRepresentation: 0,
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
  };
  const header = (segments: number, offsets: number[]) => {
    const h = Buffer.alloc(64);
    h.writeUInt32LE(segments, 0);
    offsets.forEach((o, i) => h.writeUInt32LE(o, 4 + 4 * i));
    return h;
  };

  test('a well-formed frame decodes (literal run and replicate run)', async () => {
    const frame = Buffer.concat([header(1, [64]), Buffer.from([0x01, 10, 20, 0xff, 30])]);
    expect([...(await decodeFrameInThread(frame, info)).bytes]).toEqual([10, 20, 30, 30]);
  });

  test.each([
    { what: 'more segments than samples × bytes', frame: Buffer.concat([header(2, [64, 66]), Buffer.from([0xfd, 1, 0xfd, 2])]), message: /2 segments, 1 expected/ },
    { what: 'a segment offset beyond the frame', frame: Buffer.concat([header(1, [640]), Buffer.from([0xfd, 1])]), message: /first segment starts at byte 640/ },
    { what: 'a segment that decodes short', frame: Buffer.concat([header(1, [64]), Buffer.from([0xfe, 1])]), message: /decodes to 3 bytes, 4 expected/ },
    { what: 'a header cut short', frame: Buffer.alloc(20), message: /shorter than its 64-byte header/ },
  ])('$what', async ({ frame, message }) => {
    const error = await expectBadDicom(decodeFrameInThread(frame, info), 'RLE Lossless', '1.2.840.10008.1.2.5');
    expect(error.message).toMatch(message);
  });
});

describe('syntaxes without a decoder', () => {
  test.each([
    ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000'],
    ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264'],
    ['1.2.840.10008.1.2.4.100', 'MPEG2'],
    ['1.2.840.10008.1.2.4.107', 'HEVC/H.265'],
  ])('%s answers not-acceptable naming %s', async (uid, name) => {
    const info: FrameInfo = {
      transferSyntaxUID: uid,
      rows: 8,
      columns: 8,
      samplesPerPixel: 1,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometricInterpretation: 'MONOCHROME2',
    };
    const error = await decodeFrame(Buffer.alloc(16, 1), info).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('not-acceptable');
    expect((error as AppError).message).toContain(name);
    expect((error as AppError).message).toContain(uid);
  });
});

/**
 * Every pydicom sample with compressed (or deflated) pixel data, decoded by us
 * and by an independent decoder (test/support/referencePixels.py): dcmtk
 * (dcmdjpeg / dcmdjpls / dcmdrle, libijg and CharLS builds of its own) for
 * JPEG, JPEG-LS and RLE; GDCM (native OpenJPEG) for JPEG 2000; pydicom's own
 * RLE / deflate readers where dcmtk refuses a file. Lossless syntaxes must be
 * equal byte for byte; lossy ones within the tolerance given per file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { isNative, decodeFrameInThread } from '../../../main/pixels/decodeFrame.js';
import { haveDcmtk, havePythonGdcm, maxDifference, meanDifference, referenceFrames, storedFrames, type ReferenceDecoder } from '../../support/pixelFiles.js';
import { havePydicomSamples, PYDICOM_TEST_FILES, sample } from '../../support/samples.js';

interface Case {
  file: string;
  reference: ReferenceDecoder;
  /** Largest per-sample difference allowed (0: lossless, must be equal). */
  max: number;
  /** Mean absolute difference allowed (defaults to max). */
  mean?: number;
  /** Photometric interpretation after decoding. */
  photometric: string;
}

// JPEG lossy: libjpeg-turbo (ours) and dcmtk's IJG libjpeg share the integer
// IDCT, so 8-bit frames come out equal; frames our JavaScript decoder takes
// (12-bit, RGB without colour transform) use a different IDCT rounding: ±1.
// SC_rgb_jpeg_lossy_gdcm stores R at 2x2 and G, B at 1x1 sampling: libjpeg
// upsamples G and B with its smoothing ("fancy") filter, the JavaScript
// decoder replicates them (nearest neighbour), so edges differ by up to ~45
// while the mean stays near 1.
const CASES: Case[] = [
  { file: 'MR_small_RLE.dcm', reference: 'dcmtk', max: 0, photometric: 'MONOCHROME2' },
  { file: 'SC_rgb_rle.dcm', reference: 'dcmtk', max: 0, photometric: 'RGB' },
  { file: 'SC_rgb_rle_2frame.dcm', reference: 'dcmtk', max: 0, photometric: 'RGB' },
  { file: 'SC_rgb_rle_16bit.dcm', reference: 'dcmtk', max: 0, photometric: 'RGB' },
  { file: 'SC_rgb_rle_16bit_2frame.dcm', reference: 'dcmtk', max: 0, photometric: 'RGB' },
  // dcmdrle does not take 32-bit RLE: pydicom's own RLE decoder.
  { file: 'SC_rgb_rle_32bit.dcm', reference: 'pydicom', max: 0, photometric: 'RGB' },
  { file: 'SC_rgb_rle_32bit_2frame.dcm', reference: 'pydicom', max: 0, photometric: 'RGB' },
  { file: 'rtdose_rle.dcm', reference: 'pydicom', max: 0, photometric: 'MONOCHROME2' },
  { file: 'rtdose_rle_1frame.dcm', reference: 'pydicom', max: 0, photometric: 'MONOCHROME2' },
  { file: 'JPEG-lossy.dcm', reference: 'dcmtk', max: 1, mean: 0.2, photometric: 'MONOCHROME2' },
  { file: 'JPGExtended.dcm', reference: 'dcmtk', max: 1, mean: 0.2, photometric: 'MONOCHROME2' },
  { file: 'SC_rgb_jpeg_gdcm.dcm', reference: 'dcmtk', max: 0, photometric: 'RGB' },
  { file: 'SC_jpeg_no_color_transform.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_jpeg_no_color_transform_2.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_jpeg_app14_dcmd.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cr.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cy+n1.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cy+n2.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cy+np.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cy+s2.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_dcmtk_+eb+cy+s4.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_jpeg_dcmtk.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_small_odd_jpeg.dcm', reference: 'dcmtk', max: 1, mean: 0.05, photometric: 'RGB' },
  // dcmdjpeg refuses SC_rgb_jpeg.dcm: GDCM (IJG libjpeg) decodes it.
  { file: 'SC_rgb_jpeg.dcm', reference: 'gdcm', max: 1, mean: 0.05, photometric: 'RGB' },
  { file: 'SC_rgb_jpeg_lossy_gdcm.dcm', reference: 'dcmtk', max: 48, mean: 1.5, photometric: 'RGB' },
  { file: 'MR_small_jpeg_ls_lossless.dcm', reference: 'dcmtk', max: 0, photometric: 'MONOCHROME2' },
  { file: '693_J2KI.dcm', reference: 'gdcm', max: 0, photometric: 'MONOCHROME2' },
  { file: 'GDCMJ2K_TextGBR.dcm', reference: 'gdcm', max: 0, photometric: 'RGB' },
  { file: 'J2K_pixelrep_mismatch.dcm', reference: 'gdcm', max: 0, photometric: 'MONOCHROME2' },
  { file: 'JPEG2000.dcm', reference: 'gdcm', max: 0, photometric: 'MONOCHROME2' },
  { file: 'MR_small_jp2klossless.dcm', reference: 'gdcm', max: 0, photometric: 'MONOCHROME2' },
  { file: 'SC_rgb_gdcm_KY.dcm', reference: 'gdcm', max: 0, photometric: 'RGB' },
  { file: 'image_dfl.dcm', reference: 'pydicom', max: 0, photometric: 'MONOCHROME2' },
];

// Samples whose codestream is damaged on purpose. JPEG2000-embedded-sequence-delimiter.dcm
// has the bytes of a sequence delimiter (FFFE,E0DD) written over the SIZ marker's
// Rsiz and Xsiz (width 3722444032): gdcmconv refuses it too.
const CORRUPT_SAMPLES = [{ file: 'JPEG2000-embedded-sequence-delimiter.dcm', message: /JPEG 2000 \(1\.2\.840\.10008\.1\.2\.4\.91\)/ }];

const ready = havePydicomSamples && havePythonGdcm && haveDcmtk;

describe.skipIf(!ready)('decoding pydicom samples equals an independent decoder', () => {
  test('the table holds every pydicom sample with compressed or deflated pixel data', () => {
    const compressed: string[] = [];
    for (const file of readdirSync(PYDICOM_TEST_FILES).filter((f) => f.endsWith('.dcm'))) {
      let parsed;
      try {
        parsed = parseInstance(readFileSync(join(PYDICOM_TEST_FILES, file)));
      } catch {
        continue; // not a Part-10 file we store (no meta, broken on purpose)
      }
      if (parsed.pixel && (!isNative(parsed.transferSyntaxUID) || parsed.transferSyntaxUID === '1.2.840.10008.1.2.1.99')) compressed.push(file);
    }
    expect(compressed.sort()).toEqual([...CASES.map((c) => c.file), ...CORRUPT_SAMPLES.map((c) => c.file)].sort());
  });

  test.each(CORRUPT_SAMPLES)('$file is refused as bad-dicom naming the syntax', async ({ file, message }) => {
    const { info, frames } = await storedFrames(sample(file));
    const error = await decodeFrameInThread(frames[0]!, info).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('bad-dicom');
    expect((error as AppError).message).toMatch(message);
  });

  test.each(CASES)('$file ($reference, max difference $max)', async ({ file, reference, max, mean, photometric }) => {
    const path = sample(file);
    const { info, frames } = await storedFrames(path);
    const expected = referenceFrames(reference, path);
    expect(frames.length).toBe(expected.frames.length);
    const signed = info.pixelRepresentation === 1;
    for (const [i, stored] of frames.entries()) {
      const ours = await decodeFrameInThread(stored, info);
      expect(ours.photometricInterpretation).toBe(photometric);
      expect(expected.photometricInterpretation).toBe(photometric);
      expect(ours.bytes.length, `frame ${i + 1} length`).toBe(expected.frames[i]!.length);
      if (max === 0) {
        expect(ours.bytes.equals(expected.frames[i]!), `frame ${i + 1} equal`).toBe(true);
      } else {
        expect(maxDifference(ours.bytes, expected.frames[i]!, info.bitsAllocated, signed), `frame ${i + 1} max difference`).toBeLessThanOrEqual(max);
        expect(meanDifference(ours.bytes, expected.frames[i]!, info.bitsAllocated, signed), `frame ${i + 1} mean difference`).toBeLessThanOrEqual(mean ?? max);
      }
    }
  });
});

/**
 * Every pydicom sample file either parses into a ParsedInstance or is refused
 * with a 'bad-dicom' AppError whose message names the problem. The refused
 * ones are pinned here, each with why.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../main/errors.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { havePydicomSamples, pydicomSampleFiles, sample } from '../../support/samples.js';

/** Samples that must be refused, with the message that says why. */
const REFUSED: Record<string, RegExp> = {
  // Pixel Data declares 8192 bytes, the file ends 62 bytes short.
  'MR_truncated.dcm': /^truncated at offset 9630 while reading \(7FE0,0010\): its value of 8192 bytes starts at offset 1500, only 8130 bytes remain$/,
  // Cut inside the Beam Sequence: (300A,00B0) declares 976 bytes, 711 remain.
  'rtplan_truncated.dcm': /^truncated at offset 2129 while reading \(300A,00B0\)/,
  // CT_small's dataset behind one stray byte (0x20): neither a Part-10 file nor a dataset
  // (pydicom reads it as a single (0820,0500) element; dcmdump refuses it).
  'no_meta.dcm': /^not a DICOM file: no 'DICM' prefix and no recognizable dataset$/,
  // Test fragments without the identifying UIDs a stored instance needs.
  'UN_sequence.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'empty_charset_LEI.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'meta_missing_tsyntax.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'nested_priv_SQ.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'no_meta_group_length.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'priv_SQ.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'chrSQEncoding.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
  'chrSQEncoding1.dcm': /^missing SOPInstanceUID \(0008,0018\)$/,
};

function refusal(bytes: Buffer): AppError | undefined {
  try {
    parseInstance(bytes);
    return undefined;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
}

describe.skipIf(!havePydicomSamples)('pydicom sample files', () => {
  const files = pydicomSampleFiles();

  it('are all found (test_files and charset_files)', () => {
    expect(files.length).toBeGreaterThan(80);
  });

  for (const file of files) {
    const name = basename(file);
    const expected = REFUSED[name];
    if (expected) {
      it(`${name} is refused as bad-dicom with a message naming the problem`, () => {
        const err = refusal(readFileSync(file));
        expect(err?.kind).toBe('bad-dicom');
        expect(err?.message).toMatch(expected);
      });
    } else {
      it(`${name} parses with its UIDs, transfer syntax and dataset`, () => {
        const parsed = parseInstance(readFileSync(file));
        expect(parsed.sopInstanceUID).toBe(parsed.dataset['00080018'].Value?.[0]);
        expect(parsed.studyInstanceUID).toBe(parsed.dataset['0020000D'].Value?.[0]);
        expect(parsed.seriesInstanceUID).toBe(parsed.dataset['0020000E'].Value?.[0]);
        expect(parsed.sopClassUID).toMatch(/^[0-9.]+$/);
        expect(parsed.transferSyntaxUID).toMatch(/^1\.2\.840\.10008\.1\.2/);
        expect(Object.keys(parsed.dataset).every((k) => /^[0-9A-F]{8}$/.test(k) && !k.startsWith('0002'))).toBe(true);
      });
    }
  }

  it('files without File Meta get the transfer syntax their dataset is encoded in', () => {
    expect(parseInstance(readFileSync(sample('ExplVR_BigEndNoMeta.dcm'))).transferSyntaxUID).toBe('1.2.840.10008.1.2.2');
    expect(parseInstance(readFileSync(sample('ExplVR_LitEndNoMeta.dcm'))).transferSyntaxUID).toBe('1.2.840.10008.1.2.1');
  });

  it('a file declaring JPEG Baseline whose dataset is implicit VR is read as implicit VR', () => {
    // SC_rgb_jpeg.dcm: (0002,0010) says 1.2.840.10008.1.2.4.50, the elements carry no VR.
    const parsed = parseInstance(readFileSync(sample('SC_rgb_jpeg.dcm')));
    expect(parsed.transferSyntaxUID).toBe('1.2.840.10008.1.2.4.50');
    expect(parsed.dataset['00280004']).toEqual({ vr: 'CS', Value: ['RGB'] }); // PhotometricInterpretation
    expect(parsed.dataset['7FE00010'].vr).toBe('OB');
  });

  it('big endian files are flagged so bulk data can be byte-swapped when served', () => {
    expect(parseInstance(readFileSync(sample('MR_small_bigendian.dcm'))).bigEndian).toBe(true);
    expect(parseInstance(readFileSync(sample('MR_small.dcm'))).bigEndian).toBe(false);
  });

  it('an IS value that is not a number is kept as the string (badVR.dcm NumberOfFrames 1A)', () => {
    const parsed = parseInstance(readFileSync(sample('badVR.dcm')));
    expect(parsed.dataset['00280008']).toEqual({ vr: 'IS', Value: ['1A'] }); // NumberOfFrames
    expect(parsed.pixel?.numberOfFrames).toBe(1);
  });
});

/**
 * locateBulk for deflated instances (PS3.5 A.5): the ranges index the inflated
 * dataset it returns; parseInstance keeps no offsets for them, only the shape.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { locateBulk } from '../../../main/dicom/locateBulk.js';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { havePydicomSamples, sample } from '../../support/samples.js';
import { synthInstance } from '../../support/synth.js';

describe.skipIf(!havePydicomSamples)('a deflated instance (image_dfl.dcm)', () => {
  const file = readFileSync(sample('image_dfl.dcm'));

  it('parses with deflated set, no bulk ranges and a pixel shape without offsets', () => {
    const parsed = parseInstance(file);
    expect(parsed.transferSyntaxUID).toBe('1.2.840.10008.1.2.1.99');
    expect(parsed.deflated).toBe(true);
    expect(parsed.bulk).toEqual({});
    expect(parsed.dataset['7FE00010']).toEqual({ vr: 'OB', BulkDataURI: '@INSTANCE@/bulk/7FE00010' });
    expect(parsed.pixel).toMatchObject({ rows: 512, columns: 512, bitsAllocated: 8, encapsulated: false, frameLength: 512 * 512 });
    expect(parsed.pixel?.value).toBeUndefined();
    expect(parsed.pixel?.frames).toBeUndefined();
  });

  it('locateBulk returns the inflated dataset and pixel ranges inside it', () => {
    const located = locateBulk(file);
    expect(located.bytes.length).toBeGreaterThan(file.length);
    // The inflated dataset starts with its first element, (0008,0016) SOPClassUID UI, explicit VR.
    expect(located.bytes.subarray(0, 6)).toEqual(Buffer.from([0x08, 0x00, 0x16, 0x00, 0x55, 0x49]));
    // (pydicomOracle.test.ts checks the bytes at every range against pydicom's values.)
    const value = located.pixel!.value!;
    expect(located.bulk['7FE00010']).toEqual(value);
    expect(value.offset + value.length).toBeLessThanOrEqual(located.bytes.length);
    expect(value.length).toBe(512 * 512);
  });
});

describe('locateBulk on a file that is not deflated', () => {
  it('returns the file itself and the ranges parseInstance gave', () => {
    const file = synthInstance({ patientID: 'P', patientName: 'A^B', studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4', sopInstanceUID: '1.2.3.4.5' });
    const located = locateBulk(file);
    const parsed = parseInstance(file);
    expect(located.bytes).toBe(file);
    expect(located.bulk).toEqual(parsed.bulk);
    expect(located.pixel).toEqual(parsed.pixel);
  });
});

/**
 * Synthetic instances (test/support/synth.ts, written by dcmjs) parse with the
 * UIDs, values and pixel layout they were written with; nested bulk data gets
 * a path and a range holding its bytes.
 */
import { describe, expect, it } from 'vitest';
import { parseInstance } from '../../../main/dicom/parseInstance.js';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LE, synthInstance, synthStudy, synthUid } from '../../support/synth.js';

describe('synthetic instances', () => {
  it('a study of 2 series x 3 instances parses with the UIDs it was written with', () => {
    const study = synthStudy({ key: 'synth-test', patientID: 'PID-7', patientName: 'Doe^Jane', series: 2, instancesPerSeries: 3 });
    const parsed = study.map((bytes) => parseInstance(bytes));
    expect(new Set(parsed.map((p) => p.studyInstanceUID))).toEqual(new Set([synthUid('synth-test', 1)]));
    expect(parsed.map((p) => p.seriesInstanceUID)).toEqual([1, 1, 1, 2, 2, 2].map((s) => synthUid('synth-test', 2, s)));
    expect(parsed.map((p) => p.sopInstanceUID)).toEqual([1, 2, 3, 1, 2, 3].map((i, n) => synthUid('synth-test', 3, n < 3 ? 1 : 2, i)));
    for (const p of parsed) {
      expect(p.sopClassUID).toBe(CT_IMAGE_STORAGE);
      expect(p.transferSyntaxUID).toBe(EXPLICIT_VR_LE);
      expect(p.patientID).toBe('PID-7');
      expect(p.deflated).toBe(false);
      expect(p.bigEndian).toBe(false);
      expect(p.dataset['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] }); // PatientName
    }
  });

  it('the native pixel layout points at the pixel values that were written', () => {
    const bytes = synthInstance({ patientID: 'P', patientName: 'A^B', studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4', sopInstanceUID: '1.2.3.4.5', instanceNumber: 9, rows: 32, columns: 48 });
    const { pixel, bulk, dataset } = parseInstance(bytes);
    expect(pixel).toEqual({
      rows: 32,
      columns: 48,
      samplesPerPixel: 1,
      bitsAllocated: 16,
      bitsStored: 12,
      highBit: 11,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometricInterpretation: 'MONOCHROME2',
      numberOfFrames: 1,
      encapsulated: false,
      value: bulk['7FE00010'],
      frameLength: 32 * 48 * 2,
    });
    expect(dataset['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: '@INSTANCE@/bulk/7FE00010' });
    const value = bytes.subarray(pixel!.value!.offset, pixel!.value!.offset + pixel!.value!.length);
    const pixels = Array.from({ length: 32 * 48 }, (_, i) => value.readUInt16LE(i * 2));
    expect(pixels).toEqual(Array.from({ length: 32 * 48 }, (_, i) => (i * 7 + 9 * 13) & 0x0fff));
  });

  it('numbers, multi-valued numbers and UTF-8 names are JSON values', () => {
    const bytes = synthInstance({
      patientID: 'P',
      patientName: 'Müller^Jürgen=山田^太郎',
      studyInstanceUID: '1.2.3',
      seriesInstanceUID: '1.2.3.4',
      sopInstanceUID: '1.2.3.4.5',
      extra: {
        '00181030': { vr: 'LO', Value: ['Протокол'] }, // ProtocolName
        '00200032': { vr: 'DS', Value: [-12.5, 0, 3e-5] }, // ImagePositionPatient
        '00181310': { vr: 'US', Value: [0, 64, 64, 0] }, // AcquisitionMatrix
        '00189219': { vr: 'SS', Value: [-3] }, // TagAngleSecondAxis
        '00209241': { vr: 'FL', Value: [0.5] }, // NominalCardiacTriggerTimePriorToRPeak
        '00181088': { vr: 'IS', Value: [72] }, // HeartRate
      },
    });
    const { dataset } = parseInstance(bytes);
    expect(dataset['00100010'].Value).toEqual([{ Alphabetic: 'Müller^Jürgen', Ideographic: '山田^太郎' }]);
    expect(dataset['00181030'].Value).toEqual(['Протокол']);
    expect(dataset['00200032'].Value).toEqual([-12.5, 0, 3e-5]);
    expect(dataset['00181310'].Value).toEqual([0, 64, 64, 0]);
    expect(dataset['00189219'].Value).toEqual([-3]);
    expect(dataset['00209241'].Value).toEqual([0.5]);
    expect(dataset['00181088'].Value).toEqual([72]);
    expect(dataset['00280030'].Value).toEqual([0.5, 0.5]); // PixelSpacing
  });

  it('binary data inside a sequence item gets the path SEQ/index/TAG and a range holding its bytes', () => {
    const icon = new Uint8Array(Array.from({ length: 16 }, (_, i) => 200 + i));
    const bytes = synthInstance({
      patientID: 'P',
      patientName: 'A^B',
      studyInstanceUID: '1.2.3',
      seriesInstanceUID: '1.2.3.4',
      sopInstanceUID: '1.2.3.4.5',
      extra: {
        '00880200': {
          // IconImageSequence
          vr: 'SQ',
          Value: [
            { '00280010': { vr: 'US', Value: [4] } },
            { '00280010': { vr: 'US', Value: [4] }, '7FE00010': { vr: 'OB', Value: [icon.buffer] } },
          ],
        },
      },
    });
    const parsed = parseInstance(bytes);
    expect(parsed.dataset['00880200'].Value?.[1]).toEqual({
      '00280010': { vr: 'US', Value: [4] },
      '7FE00010': { vr: 'OB', BulkDataURI: '@INSTANCE@/bulk/00880200/1/7FE00010' },
    });
    const range = parsed.bulk['00880200/1/7FE00010'];
    expect([...bytes.subarray(range.offset, range.offset + range.length)]).toEqual([...icon]);
    // The nested Pixel Data is not the instance's pixel data.
    expect(parsed.pixel?.rows).toBe(64);
  });
});

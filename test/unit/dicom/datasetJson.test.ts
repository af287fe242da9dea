import { describe, expect, it } from 'vitest';
import { stringifyDataset } from '../../../main/dicom/datasetJson.js';
import type { DicomJsonDataset } from '../../../main/dicom/types.js';

describe('stringifyDataset', () => {
  it('writes attributes in ascending tag order even for integer-like tags', () => {
    const ds: DicomJsonDataset = {
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^JOHN' }] },
      '60003000': { vr: 'OW', BulkDataURI: '@INSTANCE@/bulk/60003000' },
      '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      '30060020': { vr: 'SQ', Value: [{ '30060026': { vr: 'LO', Value: ['b'] }, '30060022': { vr: 'IS', Value: [1] } }] },
    };
    const text = stringifyDataset(ds);
    const order = [...text.matchAll(/"([0-9A-F]{8})":/g)].map((m) => m[1]);
    expect(order).toEqual(['00100010', '0020000D', '30060020', '30060022', '30060026', '60003000']);
    expect(JSON.parse(text)).toEqual(ds);
  });

  it('keeps empty elements and empty sequence items', () => {
    const ds: DicomJsonDataset = { '00081140': { vr: 'SQ', Value: [{}] }, '00100020': { vr: 'LO' } };
    expect(stringifyDataset(ds)).toBe('{"00081140":{"vr":"SQ","Value":[{}]},"00100020":{"vr":"LO"}}');
  });
});

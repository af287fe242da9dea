/**
 * The data dictionary (PS3.6) lookups: keyword ↔ tag ↔ VR, repeating groups,
 * private tags, ambiguous VRs in the standard's spelling.
 */
import { describe, expect, it } from 'vitest';
import { keywordOfTag, tagOfKey, tagOfKeyword, vrOfTag } from '../../../main/dicom/dictionary.js';

describe('the data dictionary', () => {
  it('maps keywords to 8-hex tags and back', () => {
    expect(tagOfKeyword('PatientName')).toBe('00100010');
    expect(tagOfKeyword('StudyInstanceUID')).toBe('0020000D');
    expect(tagOfKeyword('PixelData')).toBe('7FE00010');
    expect(keywordOfTag('00100010')).toBe('PatientName');
    expect(keywordOfTag('0020000d')).toBe('StudyInstanceUID');
    expect(keywordOfTag(0x00080018)).toBe('SOPInstanceUID');
    expect(keywordOfTag('(0008,0020)')).toBe('StudyDate');
  });

  it('gives VRs, ambiguous ones spelled as PS3.6 does', () => {
    expect(vrOfTag('00100010')).toBe('PN');
    expect(vrOfTag('00080020')).toBe('DA');
    expect(vrOfTag('00081115')).toBe('SQ');
    expect(vrOfTag('7FE00010')).toBe('OB or OW');
    expect(vrOfTag('00280106')).toBe('US or SS'); // SmallestImagePixelValue
    expect(vrOfTag('00283006')).toBe('US or SS or OW'); // LUTData
  });

  it('knows repeating groups (60xx overlays, 50xx curves)', () => {
    expect(keywordOfTag('60003000')).toBe('OverlayData');
    expect(keywordOfTag('60023000')).toBe('OverlayData');
    expect(vrOfTag('601E0010')).toBe('US'); // OverlayRows
  });

  it('spells retired keywords without a prefix', () => {
    expect(keywordOfTag('00080001')).toBe('LengthToEnd');
    expect(tagOfKeyword('LengthToEnd')).toBe('00080001');
  });

  it('gives private creators VR LO and nothing for other private or unknown tags', () => {
    expect(vrOfTag('00190010')).toBe('LO');
    expect(vrOfTag('00191010')).toBeUndefined();
    expect(keywordOfTag('00191010')).toBeUndefined();
    expect(vrOfTag('00080003')).toBeUndefined();
    expect(tagOfKeyword('NoSuchKeyword')).toBeUndefined();
    expect(keywordOfTag('not a tag')).toBeUndefined();
  });

  it('reads QIDO query keys given as keywords or 8 hex digits', () => {
    expect(tagOfKey('PatientID')).toBe('00100020');
    expect(tagOfKey('0020000d')).toBe('0020000D');
    expect(tagOfKey('patientid')).toBeUndefined();
  });
});

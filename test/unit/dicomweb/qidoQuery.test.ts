import { describe, expect, test } from 'vitest';
import { parseQidoQuery } from '../../../main/dicomweb/qidoQuery.js';
import { AppError } from '../../../main/errors.js';

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).kind).toBe('bad-request');
    return (err as AppError).message;
  }
  throw new Error('expected a bad-request error');
}

describe('parseQidoQuery', () => {
  test('match keys may be keywords or 8-hex tags in any case, and name their VR', () => {
    const q = parseQidoQuery('study', { PatientName: 'DOE^*', '00100020': 'ID1', '0008103e': 'x' });
    expect(q.search.filters).toEqual([
      { path: ['00100010'], vr: 'PN', rule: { kind: 'wildcard', pattern: 'DOE^*' } },
      { path: ['00100020'], vr: 'LO', rule: { kind: 'single', value: 'ID1' } },
      { path: ['0008103E'], vr: 'LO', rule: { kind: 'single', value: 'x' } },
    ]);
    expect(q.matchKeys).toEqual(['00100010', '00100020', '0008103E']);
  });

  test('an empty value is universal matching: no constraint, but the attribute is returned', () => {
    const q = parseQidoQuery('study', { AccessionNumber: '' });
    expect(q.search.filters).toEqual([{ path: ['00080050'], vr: 'SH', rule: { kind: 'universal' } }]);
    expect(q.matchKeys).toEqual(['00080050']);
  });

  test('includefield takes repeated parameters, comma lists, keywords, tags and all', () => {
    const q = parseQidoQuery('series', { includefield: ['00081030,ProtocolName', 'BodyPartExamined', 'all'] });
    expect(q.includeFields).toEqual(['00081030', '00181030', '00180015']);
    expect(q.includeAll).toBe(true);
  });

  test('limit, offset and fuzzymatching are read; limit=0 means no limit, as in Orthanc', () => {
    expect(parseQidoQuery('study', { limit: '10', offset: '20', fuzzymatching: 'true' }).search).toMatchObject({ limit: 10, offset: 20, fuzzy: true });
    expect(parseQidoQuery('study', { limit: '0' }).search.limit).toBeUndefined();
    expect(parseQidoQuery('study', {}).search).toMatchObject({ limit: undefined, offset: 0, fuzzy: false });
  });

  test('date ranges become canonical bounds; times span their precision', () => {
    const rule = (params: Record<string, string>) => parseQidoQuery('study', params).search.filters[0]!.rule;
    expect(rule({ StudyDate: '20240101-20240131' })).toEqual({ kind: 'range', from: '20240101', to: '20240131' });
    expect(rule({ StudyDate: '-20240131' })).toEqual({ kind: 'range', from: '', to: '20240131' });
    expect(rule({ StudyDate: '20240101' })).toEqual({ kind: 'single', value: '20240101' });
    expect(rule({ StudyTime: '1015' })).toEqual({ kind: 'range', from: '101500', to: '101559.999999' });
    expect(rule({ StudyTime: '08-10' })).toEqual({ kind: 'range', from: '080000', to: '105959.999999' });
    expect(rule({ AcquisitionDateTime: '20240101-20240102+0100' })).toEqual({ kind: 'range', from: '20240101000000', to: '20240102235959.999999' });
  });

  test('UID lists split on commas and backslashes; modality lists too', () => {
    expect(parseQidoQuery('study', { StudyInstanceUID: '1.2.3,1.2.4\\1.2.5' }).search.filters[0]!.rule).toEqual({ kind: 'list', values: ['1.2.3', '1.2.4', '1.2.5'] });
    expect(parseQidoQuery('study', { ModalitiesInStudy: 'CT\\MR' }).search.filters[0]!.rule).toEqual({ kind: 'list', values: ['CT', 'MR'] });
  });

  test('a dotted path names an attribute inside a sequence', () => {
    const q = parseQidoQuery('series', { 'RequestAttributesSequence.RequestedProcedureID': 'RP1' });
    expect(q.search.filters[0]).toMatchObject({ path: ['00400275', '00401001'], vr: 'SH' });
    expect(q.matchKeys).toEqual(['00400275']);
  });

  test('bad parameters are refused with a sentence naming the parameter and the value', () => {
    expect(badRequest(() => parseQidoQuery('study', { fuzzymatching: 'yes' }))).toBe('Not a proper value for fuzzy matching (true or false): yes');
    expect(badRequest(() => parseQidoQuery('study', { limit: 'abc' }))).toBe("QIDO parameter 'limit' must be a non-negative integer, got 'abc'");
    expect(badRequest(() => parseQidoQuery('study', { offset: '-1' }))).toBe("QIDO parameter 'offset' must be a non-negative integer, got '-1'");
    expect(badRequest(() => parseQidoQuery('study', { PatientNme: 'x' }))).toMatch(/'PatientNme' is not a DICOM attribute/);
    expect(badRequest(() => parseQidoQuery('study', { includefield: 'NoSuchThing' }))).toMatch(/includefield 'NoSuchThing'/);
    expect(badRequest(() => parseQidoQuery('study', { StudyDate: '2024-01-01' }))).toMatch(/'StudyDate' must be a date YYYYMMDD or a range .*got '2024-01-01'/);
    expect(badRequest(() => parseQidoQuery('study', { StudyDate: '-' }))).toMatch(/'StudyDate'/);
    expect(badRequest(() => parseQidoQuery('study', { StudyTime: '25x' }))).toMatch(/'StudyTime' must be a time/);
    expect(badRequest(() => parseQidoQuery('study', { StudyInstanceUID: '1.2.*' }))).toMatch(/'StudyInstanceUID' must be a UID or a list of UIDs/);
    expect(badRequest(() => parseQidoQuery('study', { PatientID: ['a', 'b'] }))).toMatch(/'PatientID' is given 2 times/);
    expect(badRequest(() => parseQidoQuery('series', { RequestAttributesSequence: 'x' }))).toMatch(/names a sequence/);
  });
});

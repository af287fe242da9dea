import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INDEX_FILE_NAME } from '../../../main/store/openStore.js';
import { parseQidoQuery, type QueryParams } from '../../../main/dicomweb/qidoQuery.js';
import type { SearchLevel, SearchMatch } from '../../../main/store/searchTypes.js';
import { CATALOGUE, CHR_H31_STUDY, catalogueFiles, seriesUidOf, sopUidOf, studyUidOf } from './searchFixtures.js';
import { tempStore, type TempStore } from './tempStore.js';
import { synthInstance, synthUid } from '../../support/synth.js';

let t: TempStore;
beforeAll(async () => {
  t = tempStore('store-search-');
  const outcomes = await t.store.storeInstances(catalogueFiles());
  if (!outcomes.every((o) => o.ok)) throw new Error(JSON.stringify(outcomes.filter((o) => !o.ok)));
});
afterAll(() => t.cleanup());

function search(level: SearchLevel, params: QueryParams, scope: { studyInstanceUID?: string; seriesInstanceUID?: string } = {}): SearchMatch[] {
  return [...t.store.search(parseQidoQuery(level, params, scope).search)];
}
/** Keys of the studies found (catalogue key, or 'chrH31'). */
function studies(params: QueryParams): string[] {
  const byUid = new Map([...CATALOGUE.map((c) => [studyUidOf(c.key), c.key] as const), [CHR_H31_STUDY, 'chrH31'] as const]);
  return search('study', params).map((m) => byUid.get(m.studyInstanceUID) ?? m.studyInstanceUID);
}

describe('study search, indexed attributes', () => {
  test('no filter finds every study, newest StudyDate/StudyTime first, studies without date last', () => {
    expect(studies({})).toEqual(['doe', 'smithson', 'smith', 'vanderberg', 'obrien', 'chrH31']);
  });

  test('single value matching of text is exact but ignores ASCII case, as Orthanc', () => {
    expect(studies({ PatientID: 'S1' })).toEqual(['smith']);
    expect(studies({ PatientID: 's1' })).toEqual(['smith']);
    expect(studies({ PatientID: 'S' })).toEqual([]);
    expect(studies({ AccessionNumber: 'A[2]' })).toEqual(['smithson']);
    expect(studies({ StudyDescription: 'knee mr' })).toEqual(['smithson']);
  });

  test('UIDs match exactly', () => {
    expect(studies({ StudyInstanceUID: studyUidOf('smith') })).toEqual(['smith']);
    expect(studies({ StudyInstanceUID: studyUidOf('smith').slice(0, -2) })).toEqual([]);
  });

  test('wildcards * and ? match text ignoring ASCII case; %, _ and brackets are literal', () => {
    expect(studies({ StudyDescription: 'Head*' })).toEqual(['smith', 'obrien']);
    expect(studies({ StudyDescription: 'head ct*' })).toEqual(['smith', 'obrien']);
    expect(studies({ StudyDescription: '*MR' })).toEqual(['smithson']);
    expect(studies({ StudyDescription: '*lower?case' })).toEqual(['obrien']);
    expect(studies({ StudyDescription: 'Head_CT' })).toEqual([]);
    expect(studies({ StudyDescription: '%' })).toEqual([]);
    expect(studies({ AccessionNumber: 'A[*' })).toEqual(['smithson']);
    expect(studies({ AccessionNumber: 'A?' })).toEqual(['doe', 'smith', 'vanderberg', 'obrien']);
  });

  test('person names match case-insensitively, with wildcards, against the whole name or the family name', () => {
    expect(studies({ PatientName: 'smith^john' })).toEqual(['smith']);
    expect(studies({ PatientName: 'smith*' })).toEqual(['smithson', 'smith']);
    expect(studies({ PatientName: 'SMITH' })).toEqual(['smith']);
    expect(studies({ PatientName: 'anna' })).toEqual([]); // a given name alone: fuzzy matching's job
    expect(studies({ PatientName: '*anna' })).toEqual(['smithson', 'vanderberg']);
    expect(studies({ PatientName: 'SMITH^J*' })).toEqual(['smith']);
    expect(studies({ PatientName: 'D?E^JANE' })).toEqual(['doe']);
    expect(studies({ PatientName: "O'BRIEN*" })).toEqual(['obrien']);
    expect(studies({ PatientName: 'van der*' })).toEqual(['vanderberg']);
    expect(studies({ PatientName: 'jo' })).toEqual([]);
    // DOE^JANE^^ was written with empty trailing components: found with or without them.
    expect(studies({ PatientName: 'doe^jane' })).toEqual(['doe']);
    expect(studies({ PatientName: 'DOE^JANE^^' })).toEqual(['doe']);
    expect(studies({ PatientName: '*^^' })).toEqual(['doe']);
    // '%' and '_' are literal in names too (the SQL prefilter of a pattern's literal prefix escapes them).
    expect(studies({ PatientName: 'smit_*' })).toEqual([]);
    expect(studies({ PatientName: '%*' })).toEqual([]);
    expect(studies({ PatientName: 'd%' })).toEqual([]);
  });

  test('ideographic and phonetic name groups match too', () => {
    expect(studies({ PatientName: '山田^太郎' })).toEqual(['chrH31']);
    expect(studies({ PatientName: 'やまだ*' })).toEqual(['chrH31']);
    expect(studies({ PatientName: '山田' })).toEqual(['chrH31']); // family name of the ideographic group
    expect(studies({ PatientName: 'yamada^tarou' })).toEqual(['chrH31']);
  });

  test('fuzzy matching finds names whose components start with each query word, in any order', () => {
    expect(studies({ PatientName: 'joh smi', fuzzymatching: 'true' })).toEqual(['smith']);
    expect(studies({ PatientName: 'joh smi', fuzzymatching: 'false' })).toEqual([]);
    expect(studies({ PatientName: 'anna', fuzzymatching: 'true' })).toEqual(['smithson', 'vanderberg']);
    expect(studies({ PatientName: 'ber', fuzzymatching: 'true' })).toEqual(['vanderberg']);
    expect(studies({ PatientName: 'an', fuzzymatching: 'true' })).toEqual(['smithson', 'vanderberg']);
    expect(studies({ ReferringPhysicianName: 'doc', fuzzymatching: 'true' }).length).toBe(5);
  });

  test('dates match single values and inclusive ranges, open at either end; empty dates never match a range', () => {
    expect(studies({ StudyDate: '20240115' })).toEqual(['smithson']);
    expect(studies({ StudyDate: '20240101-20240131' })).toEqual(['smithson', 'smith']);
    expect(studies({ StudyDate: '-20231231' })).toEqual(['vanderberg', 'obrien']);
    expect(studies({ StudyDate: '20240201-' })).toEqual(['doe']);
    expect(studies({ PatientBirthDate: '19700101' })).toHaveLength(5);
  });

  test('times match ranges at the precision given: 1015 covers 10:15:00 to 10:15:59', () => {
    expect(studies({ StudyTime: '0800-1000' })).toEqual(['smithson']);
    expect(studies({ StudyTime: '1015' })).toEqual(['doe', 'smith']);
    expect(studies({ StudyTime: '2359-' })).toEqual(['vanderberg']);
    expect(studies({ StudyTime: '-09' })).toEqual(['smithson']);
  });

  test('UID lists match any of their UIDs, separated by commas or backslashes', () => {
    expect(studies({ StudyInstanceUID: `${studyUidOf('smith')},${studyUidOf('doe')}` })).toEqual(['doe', 'smith']);
    expect(studies({ StudyInstanceUID: `${studyUidOf('obrien')}\\${CHR_H31_STUDY}` })).toEqual(['obrien', 'chrH31']);
  });

  test('ModalitiesInStudy matches studies having a series of any given modality and lists all of them', () => {
    expect(studies({ ModalitiesInStudy: 'MR' })).toEqual(['smithson', 'vanderberg']);
    expect(studies({ ModalitiesInStudy: 'US\\OT' })).toEqual(['doe', 'chrH31']);
    const [v] = search('study', { ModalitiesInStudy: 'MR', PatientID: 'V1' });
    expect(v!.dataset['00080061']).toEqual({ vr: 'CS', Value: ['CT', 'MR'] }); // ModalitiesInStudy
  });

  test('several keys must all match', () => {
    expect(studies({ PatientName: '*ANNA', StudyDate: '20240101-' })).toEqual(['smithson']);
  });

  test('studies carry the numbers of their series and instances', () => {
    const [v] = search('study', { PatientID: 'V1' });
    expect(v!.dataset['00201206']).toEqual({ vr: 'IS', Value: [2] }); // NumberOfStudyRelatedSeries
    expect(v!.dataset['00201208']).toEqual({ vr: 'IS', Value: [4] }); // NumberOfStudyRelatedInstances
  });
});

describe('attributes without a column are matched against the stored JSON', () => {
  test('a study attribute (InstitutionName) with a wildcard, ignoring ASCII case like the indexed ones', () => {
    expect(studies({ InstitutionName: 'General*' })).toEqual(['smith', 'vanderberg']);
    expect(studies({ InstitutionName: 'general h?spital' })).toEqual(['smith', 'vanderberg']);
    expect(studies({ InstitutionName: 'City Clinic' })).toEqual(['smithson']);
    expect(studies({ InstitutionName: 'City' })).toEqual([]);
  });

  test('limit and offset count only the studies that match in JavaScript', () => {
    expect(studies({ InstitutionName: '*', limit: '2', offset: '1' })).toEqual(['smithson', 'smith']);
    expect(studies({ InstitutionName: 'General*', offset: '1' })).toEqual(['vanderberg']);
  });

  test('a series attribute (ProtocolName), and an attribute inside a sequence', () => {
    expect(search('series', { ProtocolName: 'ABDO' }).map((m) => m.seriesInstanceUID)).toEqual([seriesUidOf('vanderberg', 1), seriesUidOf('vanderberg', 2)]);
    expect(search('series', { '00400275.00401001': 'RP42' }).map((m) => m.studyInstanceUID)).toEqual([studyUidOf('smith')]);
    expect(search('series', { 'RequestAttributesSequence.RequestedProcedureID': 'RP4?' })).toHaveLength(1);
  });

  test('an instance attribute found only in the full dataset, numbers compared as numbers', () => {
    expect(search('instance', { WindowCenter: '2048.0' })).toHaveLength(11); // every synthetic instance, not chrH31
    expect(search('instance', { ImageComments: 'image 2 of smith' }).map((m) => m.sopInstanceUID)).toEqual([sopUidOf('smith', 1, 2)]);
  });
});

describe('series and instance search', () => {
  test('series of one study, in SeriesNumber order, with their instance counts', () => {
    const found = search('series', {}, { studyInstanceUID: studyUidOf('vanderberg') });
    expect(found.map((m) => m.seriesInstanceUID)).toEqual([seriesUidOf('vanderberg', 1), seriesUidOf('vanderberg', 2)]);
    expect(found.map((m) => m.dataset['00201209']!.Value)).toEqual([[2], [2]]); // NumberOfSeriesRelatedInstances
    expect(found[0]!.dataset['00100010']).toBeDefined(); // PatientName, from the study level
  });

  test('all series matching Modality, across studies, grouped by study', () => {
    expect(search('series', { Modality: 'MR' }).map((m) => m.seriesInstanceUID)).toEqual([seriesUidOf('smithson', 1), seriesUidOf('vanderberg', 2)]);
    expect(search('series', { Modality: 'MR', PatientName: 'smithson*' })).toHaveLength(1);
    expect(search('series', { Modality: 'mr' })).toHaveLength(2);
    expect(search('series', { SeriesNumber: '2' }).map((m) => m.seriesInstanceUID)).toEqual([seriesUidOf('vanderberg', 2)]);
  });

  test('instances of a series in InstanceNumber order, matching on integer columns', () => {
    const scope = { studyInstanceUID: studyUidOf('smith'), seriesInstanceUID: seriesUidOf('smith', 1) };
    expect(search('instance', {}, scope).map((m) => m.sopInstanceUID)).toEqual([1, 2, 3].map((i) => sopUidOf('smith', 1, i)));
    expect(search('instance', { InstanceNumber: '2' }, scope).map((m) => m.sopInstanceUID)).toEqual([sopUidOf('smith', 1, 2)]);
    expect(search('instance', { Rows: '35' })).toHaveLength(1);
    expect(search('instance', { Rows: '3*' })).toHaveLength(12); // 33 to 35, and chrH31's 32
    expect(search('instance', { SOPInstanceUID: sopUidOf('doe', 1, 1) }).map((m) => m.studyInstanceUID)).toEqual([studyUidOf('doe')]);
  });

  test('a scope that matches nothing gives no match', () => {
    expect(search('instance', {}, { studyInstanceUID: studyUidOf('smith'), seriesInstanceUID: seriesUidOf('doe', 1) })).toEqual([]);
    expect(search('series', {}, { studyInstanceUID: '1.2.3' })).toEqual([]);
  });

  test('instance matches carry the full dataset on demand', () => {
    const [m] = search('instance', { SOPInstanceUID: sopUidOf('doe', 1, 1) });
    expect(m!.instanceDataset()['7FE00010']!.BulkDataURI).toBe('@INSTANCE@/bulk/7FE00010');
  });
});

describe('search after a study is deleted and stored again', () => {
  test('the answer shows the new attributes, also when the new study row reuses the old row number', async () => {
    const own = tempStore('store-search-restored-');
    try {
      const spec = (description: string, series: string) => ({
        patientID: 'R1',
        patientName: 'RESTORED^PAT',
        studyInstanceUID: synthUid('restored-study', 1),
        studyDescription: description,
        seriesInstanceUID: synthUid('restored-series', series),
        seriesDescription: series,
        sopInstanceUID: synthUid('restored-instance', series),
        rows: 4,
        columns: 4,
      });
      const found = (level: SearchLevel) =>
        [...own.store.search(parseQidoQuery(level, { PatientName: 'restored*' }).search)].map((m) => [m.dataset['00081030'], m.dataset['0008103E']]);
      expect((await own.store.storeInstances([synthInstance(spec('First', 'one'))])).every((o) => o.ok)).toBe(true);
      expect(found('study')).toEqual([[{ vr: 'LO', Value: ['First'] }, undefined]]);
      expect(found('series')).toEqual([[{ vr: 'LO', Value: ['First'] }, { vr: 'LO', Value: ['one'] }]]);
      const [match] = own.store.search(parseQidoQuery('study', {}).search);
      expect(own.store.deleteResource('study', match!.ids.study).deleted).toBe(true);
      expect(found('study')).toEqual([]);
      expect((await own.store.storeInstances([synthInstance(spec('Second', 'two'))])).every((o) => o.ok)).toBe(true);
      expect(found('study')).toEqual([[{ vr: 'LO', Value: ['Second'] }, undefined]]);
      expect(found('series')).toEqual([[{ vr: 'LO', Value: ['Second'] }, { vr: 'LO', Value: ['two'] }]]);
    } finally {
      own.cleanup();
    }
  });
});

describe('study and series matches kept between searches', () => {
  test('a repeated search sees every write since: added instances, new modalities, and a change by another connection', async () => {
    const own = tempStore('store-search-kept-');
    try {
      const spec = (series: number, instance: number, modality: string) => ({
        patientID: 'K1',
        patientName: 'KEPT^PAT',
        studyInstanceUID: synthUid('kept-study', 1),
        studyDescription: 'Kept',
        seriesInstanceUID: synthUid('kept-series', series),
        modality,
        sopInstanceUID: synthUid('kept-instance', series, instance),
        rows: 4,
        columns: 4,
      });
      const study = () => [...own.store.search(parseQidoQuery('study', { PatientName: 'kept*' }).search)];
      const series = () => [...own.store.search(parseQidoQuery('series', { PatientName: 'kept*' }).search)];
      const summary = (m: SearchMatch) => [m.dataset['00080061']?.Value, m.dataset['00201206']?.Value, m.dataset['00201208']?.Value, m.dataset['00081030']?.Value];
      expect((await own.store.storeInstances([synthInstance(spec(1, 1, 'CT'))])).every((o) => o.ok)).toBe(true);
      const first = study();
      expect(first.map(summary)).toEqual([[['CT'], [1], [1], ['Kept']]]);
      // Nothing written: the same (shared, frozen) dataset comes back.
      const again = study();
      expect(again[0]!.dataset).toBe(first[0]!.dataset);
      expect(Object.isFrozen(again[0]!.dataset)).toBe(true);
      expect(series().map((m) => m.dataset['00201209']?.Value)).toEqual([[1]]);

      expect((await own.store.storeInstances([synthInstance(spec(1, 2, 'CT')), synthInstance(spec(2, 1, 'MR'))])).every((o) => o.ok)).toBe(true);
      expect(study().map(summary)).toEqual([[['CT', 'MR'], [2], [3], ['Kept']]]);
      expect(series().map((m) => m.dataset['00201209']?.Value)).toEqual([[2], [1]]);

      // Written through another connection to the same index file (sqlite3 by hand, say).
      const other = new Database(join(own.dir, 'storage', INDEX_FILE_NAME));
      try {
        const attrs = JSON.stringify({ ...JSON.parse(other.prepare('SELECT attrs FROM studies').pluck().get() as string), '00081030': { vr: 'LO', Value: ['Changed'] } });
        expect(other.prepare('UPDATE studies SET attrs = ?').run(attrs).changes).toBe(1);
      } finally {
        other.close();
      }
      expect(study().map(summary)).toEqual([[['CT', 'MR'], [2], [3], ['Changed']]]);
      expect(series().map((m) => m.dataset['00081030']?.Value)).toEqual([['Changed'], ['Changed']]);
    } finally {
      own.cleanup();
    }
  });
});

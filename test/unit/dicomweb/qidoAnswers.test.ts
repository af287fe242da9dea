/**
 * The QIDO-RS answer written as text from a per-request plan (answerPlan +
 * writeAnswer) must be the text of the dataset answerDataset builds, for every
 * match of every kind of query: levels, scopes fixed by the URL, match keys,
 * includefield lists (attributes of the level, of the first instance, absent
 * ones, bulk data, sequences). Run over the search catalogue plus pydicom's
 * real samples (SR, RT, multi-frame, character sets).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringifyDataset } from '../../../main/dicom/datasetJson.js';
import { answerDataset, answerPlan, requiredAttributes, writeAnswer, type AnswerPlan } from '../../../main/dicomweb/qidoAnswers.js';
import type { SearchMatch } from '../../../main/store/searchTypes.js';
import { parseQidoQuery, type QueryParams } from '../../../main/dicomweb/qidoQuery.js';
import type { SearchLevel } from '../../../main/store/searchTypes.js';
import { havePydicomSamples, pydicomSampleFiles } from '../../support/samples.js';
import { catalogueFiles, seriesUidOf, studyUidOf } from '../store/searchFixtures.js';
import { tempStore, type TempStore } from '../store/tempStore.js';

const BASE = 'http://127.0.0.1:8042/dicom-web';

/** writeAnswer's pieces joined into one string. */
function answerText(m: SearchMatch, plan: AnswerPlan): string {
  let text = '';
  writeAnswer(m, plan, { put: (piece) => (text += piece) });
  return text;
}

let t: TempStore;
beforeAll(async () => {
  t = tempStore('qido-answers-');
  await t.store.storeInstances(catalogueFiles());
  // Whatever pydicom's samples the store accepts (some are deliberately broken).
  for (const path of pydicomSampleFiles()) await t.store.storeInstances([readFileSync(path)]);
}, 60_000);
afterAll(() => t.cleanup());

const QUERIES: Array<[SearchLevel, QueryParams, { study?: string; series?: string }?]> = [
  ['study', {}],
  ['study', { PatientName: 'smith*' }],
  ['study', { StudyDescription: '*', includefield: ['00081030', '00080201', 'PatientAge', 'InstitutionName'] }],
  ['study', { includefield: ['ProtocolName', 'ImageComments', 'SeriesDescription', 'ContentSequence', '7FE00010'] }],
  ['study', { ModalitiesInStudy: 'CT', AccessionNumber: '*' }],
  ['series', {}],
  ['series', { Modality: 'MR', includefield: ['PatientName', 'Rows', 'ReferencedImageSequence'] }],
  ['series', { includefield: ['StudyDescription', 'NumberOfFrames'] }, { study: studyUidOf('smith') }],
  ['instance', { limit: '500' }],
  ['instance', { includefield: ['7FE00010', '00280030', 'WindowCenter', 'ContentSequence', '60003000', '30060020'] }],
  ['instance', { SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', includefield: 'PatientName' }],
  ['instance', { includefield: ['SeriesDescription', 'StudyDate'] }, { study: studyUidOf('smith') }],
  ['instance', { includefield: 'ImageComments' }, { study: studyUidOf('smith'), series: seriesUidOf('smith', 1) }],
];

describe('QIDO-RS answers written from a plan', () => {
  test.each(QUERIES.map((q, n) => [n, ...q] as const))('query %i (%s level) gives the text of the dataset answer', (_n, level, params, scope = {}) => {
    const query = parseQidoQuery(level, params, { studyInstanceUID: scope.study, seriesInstanceUID: scope.series });
    const required = requiredAttributes(level, scope);
    const plan = answerPlan(query, required, BASE);
    const matches = [...t.store.search(query.search)];
    expect(matches.length).toBeGreaterThan(0);
    for (const m of matches) {
      const text = answerText(m, plan);
      expect(text).toBe(stringifyDataset(answerDataset(m, query, required, BASE))); // stringifyDataset: tags in ascending order
    }
  });

  test.runIf(havePydicomSamples)('the samples put sequences, bulk data and absent attributes into the answers compared', () => {
    const query = parseQidoQuery('instance', { includefield: ['7FE00010', 'ContentSequence', 'PatientAge'] }, {});
    const plan = answerPlan(query, requiredAttributes('instance', {}), BASE);
    const texts = [...t.store.search(query.search)].map((m) => JSON.parse(answerText(m, plan)) as Record<string, { vr: string; BulkDataURI?: string; Value?: unknown[] }>);
    expect(texts.some((d) => d['7FE00010']?.BulkDataURI?.startsWith(`${BASE}/studies/`))).toBe(true); // PixelData, as an absolute bulk data URI
    expect(texts.some((d) => d['0040A730']?.vr === 'SQ' && (d['0040A730'].Value?.length ?? 0) > 0)).toBe(true); // ContentSequence of an SR
    expect(texts.some((d) => d['00101010'] !== undefined && d['00101010'].Value === undefined)).toBe(true); // PatientAge absent: empty
  });
});

/**
 * The datasets QIDO-RS answers with (PS3.18 10.6.3.3): per match, the
 * attributes PS3.18 Tables 6.7.1-2, -2a, -2b require at its level (with the
 * parent levels' attributes when the URL does not fix them), the match keys,
 * the includefield attributes, SpecificCharacterSet, InstanceAvailability and
 * RetrieveURL, tags in ascending order.
 *
 * Two ways to the same answer: answerDataset builds it as a dataset (for XML,
 * and includefield=all whose attributes vary from match to match), answerPlan
 * + writeAnswer write its DICOM JSON text directly, piece by piece into the
 * answer's bytes (utf8Chunks.ts), the plan decided once per request (most of a
 * study list's time went into building, sorting and copying a dataset object
 * per match, then joining strings). test/unit/dicomweb/qidoAnswers.test.ts
 * checks that both give the same text.
 */
import { vrOfTag } from '../dicom/dictionary.js';
import { stringifyElement } from '../dicom/datasetJson.js';
import { INSTANCE_URL_TOKEN, type DicomJsonDataset, type DicomJsonElement } from '../dicom/types.js';
import type { SearchLevel, SearchMatch } from '../store/searchTypes.js';
import { instanceUrl, seriesUrl, studyUrl } from './context.js';
import type { QidoQuery } from './qidoQuery.js';
import type { TextSink } from './utf8Chunks.js';

/** [tag, VR, present-even-when-empty] */
export type Required = readonly [string, string, boolean];

/** PS3.18 Table 6.7.1-2 (study), 6.7.1-2a (series), 6.7.1-2b (instance); computed ones are added apart. */
const STUDY_ATTRIBUTES: readonly Required[] = [
  ['00080020', 'DA', true], // StudyDate
  ['00080030', 'TM', true], // StudyTime
  ['00080050', 'SH', true], // AccessionNumber
  ['00080061', 'CS', true], // ModalitiesInStudy
  ['00080090', 'PN', true], // ReferringPhysicianName
  ['00080201', 'SH', false], // TimezoneOffsetFromUTC
  ['00081030', 'LO', false], // StudyDescription
  ['00100010', 'PN', true], // PatientName
  ['00100020', 'LO', true], // PatientID
  ['00100030', 'DA', true], // PatientBirthDate
  ['00100040', 'CS', true], // PatientSex
  ['0020000D', 'UI', true], // StudyInstanceUID
  ['00200010', 'SH', true], // StudyID
  ['00201206', 'IS', true], // NumberOfStudyRelatedSeries
  ['00201208', 'IS', true], // NumberOfStudyRelatedInstances
];
const SERIES_ATTRIBUTES: readonly Required[] = [
  ['00080060', 'CS', true], // Modality
  ['00080201', 'SH', false], // TimezoneOffsetFromUTC
  ['0008103E', 'LO', true], // SeriesDescription
  ['0020000D', 'UI', true], // StudyInstanceUID
  ['0020000E', 'UI', true], // SeriesInstanceUID
  ['00200011', 'IS', true], // SeriesNumber
  ['00201209', 'IS', true], // NumberOfSeriesRelatedInstances
  ['00400244', 'DA', false], // PerformedProcedureStepStartDate
  ['00400245', 'TM', false], // PerformedProcedureStepStartTime
  ['00400275', 'SQ', false], // RequestAttributesSequence
];
const INSTANCE_ATTRIBUTES: readonly Required[] = [
  ['00080016', 'UI', true], // SOPClassUID
  ['00080018', 'UI', true], // SOPInstanceUID
  ['00080201', 'SH', false], // TimezoneOffsetFromUTC
  ['0020000D', 'UI', true], // StudyInstanceUID
  ['0020000E', 'UI', true], // SeriesInstanceUID
  ['00200013', 'IS', true], // InstanceNumber
  ['00280008', 'IS', false], // NumberOfFrames
  ['00280010', 'US', false], // Rows
  ['00280011', 'US', false], // Columns
  ['00280100', 'US', false], // BitsAllocated
];

const COUNTS_OF_LOWER_LEVELS = new Set(['00201206', '00201208', '00201209']); // only at their own level

/** The attributes a match at `level` answers with, given what the URL fixes. */
export function requiredAttributes(level: SearchLevel, scope: { study?: string; series?: string }): Required[] {
  if (level === 'study') return [...STUDY_ATTRIBUTES];
  const studyPart = STUDY_ATTRIBUTES.filter(([tag]) => !COUNTS_OF_LOWER_LEVELS.has(tag));
  if (level === 'series') return scope.study ? [...SERIES_ATTRIBUTES] : [...studyPart, ...SERIES_ATTRIBUTES];
  const seriesPart = SERIES_ATTRIBUTES.filter(([tag]) => !COUNTS_OF_LOWER_LEVELS.has(tag));
  if (scope.series) return [...INSTANCE_ATTRIBUTES];
  if (scope.study) return [...seriesPart, ...INSTANCE_ATTRIBUTES];
  return [...studyPart, ...seriesPart, ...INSTANCE_ATTRIBUTES];
}

function vrOf(tag: string): string {
  const vr = vrOfTag(tag) ?? 'UN';
  return vr.includes(' or ') ? vr.slice(0, 2) : vr;
}

function retrieveUrl(base: string, level: SearchLevel, m: SearchMatch): string {
  if (level === 'study') return studyUrl(base, m.studyInstanceUID);
  if (level === 'series') return seriesUrl(base, m.studyInstanceUID, m.seriesInstanceUID!);
  return instanceUrl(base, m.studyInstanceUID, m.seriesInstanceUID!, m.sopInstanceUID!);
}

/** An element of the instance dataset fit for an answer: bulk data URIs made absolute (instance level) or the element dropped. */
function answerable(el: DicomJsonElement, instanceBase: string | undefined): DicomJsonElement | undefined {
  const text = JSON.stringify(el);
  if (!text.includes(INSTANCE_URL_TOKEN)) return el;
  if (instanceBase === undefined) return undefined;
  return JSON.parse(text.split(INSTANCE_URL_TOKEN).join(JSON.stringify(instanceBase).slice(1, -1))) as DicomJsonElement;
}

/** One match as the answer's dataset, tags in ascending order. */
export function answerDataset(m: SearchMatch, q: QidoQuery, required: Required[], base: string): DicomJsonDataset {
  const level = q.search.level;
  const url = retrieveUrl(base, level, m);
  const instanceBase = level === 'instance' ? url : undefined;
  const out: DicomJsonDataset = {};
  let full: DicomJsonDataset | undefined;
  const fromFull = (tag: string) => {
    full ??= m.instanceDataset();
    const el = full[tag];
    return el ? answerable(el, instanceBase) : undefined;
  };

  if (q.includeAll) {
    Object.assign(out, m.dataset);
    if (level === 'instance') {
      for (const tag of Object.keys((full ??= m.instanceDataset()))) {
        const el = out[tag] ?? fromFull(tag);
        if (el) out[tag] = el;
      }
    }
  }
  for (const [tag, vr, always] of required) {
    const el = m.dataset[tag];
    if (el) out[tag] = el;
    else if (always) out[tag] = { vr };
  }
  for (const tag of [...q.matchKeys, ...q.includeFields]) {
    if (out[tag]) continue;
    const el = m.dataset[tag] ?? fromFull(tag);
    out[tag] = el ?? { vr: vrOf(tag) };
  }
  out['00080005'] = { vr: 'CS', Value: ['ISO_IR 192'] }; // SpecificCharacterSet: answers are UTF-8
  out['00080056'] = { vr: 'CS', Value: ['ONLINE'] }; // InstanceAvailability
  out['00081190'] = { vr: 'UR', Value: [url] }; // RetrieveURL
  if (level !== 'study') {
    out['0020000D'] = { vr: 'UI', Value: [m.studyInstanceUID] }; // StudyInstanceUID
    out['0020000E'] = { vr: 'UI', Value: [m.seriesInstanceUID!] }; // SeriesInstanceUID
  }
  const sorted: DicomJsonDataset = {};
  for (const tag of Object.keys(out).sort()) sorted[tag] = out[tag]!;
  return sorted;
}

/**
 * What every match's answer holds, decided once per request rather than per
 * match: the answer's tags in ascending order, each with where its element comes
 * from. Gives the same text as stringifyDataset(answerDataset(…)) without
 * building, sorting and copying a dataset object per match (most of a search's
 * time when it answers tens of studies). Not for includefield=all, whose tags
 * differ from match to match.
 */
interface AnswerStep {
  tag: string;
  /** Text of `"tag":`, and of `,"tag":` for any but the first element written. */
  key: string;
  nextKey: string;
  /** fixed: the same element for every match; url: RetrieveURL; uid: the match's Study/Series UID; own: from the match's dataset. */
  source: 'fixed' | 'url' | 'study-uid' | 'series-uid' | 'own';
  fixedText: string | undefined;
  /** own, absent from the match's dataset: look in its instance dataset (a match key or includefield). */
  fromInstance: boolean;
  /** own, absent everywhere: this empty element's text, or none (the attribute is left out). */
  emptyText: string | undefined;
}

export interface AnswerPlan {
  level: SearchLevel;
  base: string;
  steps: AnswerStep[];
}

const CHARSET_TEXT = JSON.stringify({ vr: 'CS', Value: ['ISO_IR 192'] }); // SpecificCharacterSet: answers are UTF-8
const AVAILABILITY_TEXT = JSON.stringify({ vr: 'CS', Value: ['ONLINE'] }); // InstanceAvailability

/** An empty element's text (a VR is two capital letters: nothing to escape). */
const emptyElement = (vr: string) => `{"vr":"${vr}"}`;

function step(tag: string, source: AnswerStep['source'], fromInstance = false, emptyText?: string, fixedText?: string): AnswerStep {
  return { tag, key: `"${tag}":`, nextKey: `,"${tag}":`, source, fixedText, fromInstance, emptyText };
}

export function answerPlan(q: QidoQuery, required: Required[], base: string): AnswerPlan {
  const level = q.search.level;
  const steps = new Map<string, AnswerStep>();
  for (const [tag, vr, always] of required) steps.set(tag, step(tag, 'own', false, always ? emptyElement(vr) : undefined));
  for (const keys of [q.matchKeys, q.includeFields]) {
    for (const tag of keys) {
      if (steps.get(tag)?.emptyText !== undefined) continue; // required and always present: never looked up further
      steps.set(tag, step(tag, 'own', true, emptyElement(vrOf(tag))));
    }
  }
  steps.set('00080005', step('00080005', 'fixed', false, undefined, CHARSET_TEXT));
  steps.set('00080056', step('00080056', 'fixed', false, undefined, AVAILABILITY_TEXT));
  steps.set('00081190', step('00081190', 'url'));
  if (level !== 'study') {
    steps.set('0020000D', step('0020000D', 'study-uid'));
    steps.set('0020000E', step('0020000E', 'series-uid'));
  }
  return { level, base, steps: [...steps.values()].sort((x, y) => (x.tag < y.tag ? -1 : x.tag > y.tag ? 1 : 0)) };
}

/**
 * Text of elements that are shared between searches and never change (the
 * index hands out frozen elements for the study and series rows it keeps
 * parsed, main/store/searchIndex.ts): made once, not once per answer, which
 * was most of what a study list allocated.
 */
const sharedTexts = new WeakMap<DicomJsonElement, string>();

function elementText(el: DicomJsonElement): string {
  if (!Object.isFrozen(el)) return stringifyElement(el);
  let text = sharedTexts.get(el);
  if (text === undefined) sharedTexts.set(el, (text = stringifyElement(el)));
  return text;
}

/** One match's answer as DICOM JSON text, following the plan, written to `out`. */
export function writeAnswer(m: SearchMatch, plan: AnswerPlan, out: TextSink): void {
  const url = retrieveUrl(plan.base, plan.level, m);
  const instanceBase = plan.level === 'instance' ? url : undefined;
  let full: DicomJsonDataset | undefined;
  let first = true;
  out.put('{');
  for (const step of plan.steps) {
    let text: string | undefined;
    switch (step.source) {
      case 'fixed':
        text = step.fixedText!;
        break;
      case 'url':
        text = `{"vr":"UR","Value":[${JSON.stringify(url)}]}`;
        break;
      case 'study-uid':
        text = `{"vr":"UI","Value":[${JSON.stringify(m.studyInstanceUID)}]}`;
        break;
      case 'series-uid':
        text = `{"vr":"UI","Value":[${JSON.stringify(m.seriesInstanceUID!)}]}`;
        break;
      case 'own': {
        let el: DicomJsonElement | undefined = m.dataset[step.tag];
        if (!el && step.fromInstance) {
          const inFull = (full ??= m.instanceDataset())[step.tag];
          el = inFull ? answerable(inFull, instanceBase) : undefined;
        }
        text = el ? elementText(el) : step.emptyText;
        break;
      }
    }
    if (text === undefined) continue;
    out.put(first ? step.key : step.nextKey);
    out.put(text);
    first = false;
  }
  out.put('}');
}

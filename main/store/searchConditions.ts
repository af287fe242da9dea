/**
 * QIDO-RS match filters as SQL over the index (PS3.18 10.6, PS3.4 C.2.2.2):
 * the attributes that have a column, and the condition each matching kind
 * becomes. Person names go through the SQLite function qido_pn (registered by
 * searchIndex.ts, rules in matching.ts); text ignores ASCII case (NOCASE,
 * LIKE), UIDs and numbers are exact, dates and times compare as canonical text.
 */
import { normalisePersonName } from './dicomValues.js';
import { wildcardLike } from './matching.js';
import type { MatchFilter, SearchLevel } from './searchTypes.js';

/** text: ASCII case-insensitive (as Orthanc); uid: exact; pn: qido_pn; temporal: canonical text; int: numbers. */
type ColumnType = 'text' | 'uid' | 'pn' | 'temporal' | 'int';

export interface Column {
  expr: string;
  type: ColumnType;
  level: SearchLevel;
}

/** Attributes with a column, by tag. */
const COLUMNS: Record<string, Column> = {
  '0020000D': { expr: 's.study_uid', type: 'uid', level: 'study' }, // StudyInstanceUID
  '00100010': { expr: 's.patient_name', type: 'pn', level: 'study' }, // PatientName
  '00100020': { expr: 's.patient_id', type: 'text', level: 'study' }, // PatientID
  '00100030': { expr: 's.patient_birth_date', type: 'temporal', level: 'study' }, // PatientBirthDate
  '00100040': { expr: 's.patient_sex', type: 'text', level: 'study' }, // PatientSex
  '00080020': { expr: 's.study_date', type: 'temporal', level: 'study' }, // StudyDate
  '00080030': { expr: 's.study_time', type: 'temporal', level: 'study' }, // StudyTime
  '00080050': { expr: 's.accession_number', type: 'text', level: 'study' }, // AccessionNumber
  '00200010': { expr: 's.study_id', type: 'text', level: 'study' }, // StudyID
  '00081030': { expr: 's.study_description', type: 'text', level: 'study' }, // StudyDescription
  '00080090': { expr: 's.referring_physician_name', type: 'pn', level: 'study' }, // ReferringPhysicianName
  '00080061': { expr: 'm.modality', type: 'text', level: 'study' }, // ModalitiesInStudy (EXISTS over the study's series)
  '0020000E': { expr: 'se.series_uid', type: 'uid', level: 'series' }, // SeriesInstanceUID
  '00080060': { expr: 'se.modality', type: 'text', level: 'series' }, // Modality
  '00200011': { expr: 'se.series_number', type: 'int', level: 'series' }, // SeriesNumber
  '0008103E': { expr: 'se.series_description', type: 'text', level: 'series' }, // SeriesDescription
  '00080021': { expr: 'se.series_date', type: 'temporal', level: 'series' }, // SeriesDate
  '00080031': { expr: 'se.series_time', type: 'temporal', level: 'series' }, // SeriesTime
  '00400244': { expr: 'se.pps_start_date', type: 'temporal', level: 'series' }, // PerformedProcedureStepStartDate
  '00400245': { expr: 'se.pps_start_time', type: 'temporal', level: 'series' }, // PerformedProcedureStepStartTime
  '00080018': { expr: 'i.sop_uid', type: 'uid', level: 'instance' }, // SOPInstanceUID
  '00080016': { expr: 'i.sop_class_uid', type: 'uid', level: 'instance' }, // SOPClassUID
  '00200013': { expr: 'i.instance_number', type: 'int', level: 'instance' }, // InstanceNumber
  '00280010': { expr: 'i.rows', type: 'int', level: 'instance' }, // Rows
  '00280011': { expr: 'i.columns', type: 'int', level: 'instance' }, // Columns
  '00280100': { expr: 'i.bits_allocated', type: 'int', level: 'instance' }, // BitsAllocated
  '00280008': { expr: 'i.number_of_frames', type: 'int', level: 'instance' }, // NumberOfFrames
};

const DEPTH: Record<SearchLevel, number> = { study: 0, series: 1, instance: 2 };

/** The column a filter can use at this level, if any. */
export function columnOf(filter: MatchFilter, level: SearchLevel): Column | undefined {
  if (filter.path.length !== 1) return undefined;
  const column = COLUMNS[filter.path[0]!];
  return column && DEPTH[column.level] <= DEPTH[level] ? column : undefined;
}

/**
 * A person-name condition: qido_pn (matching.ts) preceded, when the pattern
 * starts with literal characters, by two LIKEs that every matching name passes
 * (a name matches through its whole text or one of its '='-separated groups, so
 * it starts with that prefix or has it right after a '='; LIKE ignores ASCII
 * case, a superset of the exact comparison of normalised names). SQLite then
 * calls back into JavaScript only for the few rows that can match.
 */
function personName(e: string, pattern: string, fuzzy: boolean): [string, unknown[]] {
  const pn: [string, unknown[]] = [`qido_pn(${e}, ?, ?)`, [pattern, fuzzy ? 1 : 0]];
  if (fuzzy) return pn;
  const prefix = /^[^*?]*/.exec(normalisePersonName(pattern))![0];
  if (prefix === '') return pn;
  const like = wildcardLike(prefix);
  return [`(${e} LIKE ? ESCAPE '\\' OR ${e} LIKE ? ESCAPE '\\') AND ${pn[0]}`, [`${like}%`, `%=${like}%`, ...pn[1]]];
}

/** SQL condition for a filter on a column, with its parameters. */
export function condition(column: Column, filter: MatchFilter, fuzzy: boolean): { sql: string; params: unknown[] } | undefined {
  const { rule } = filter;
  const e = column.expr;
  let sql: string;
  let params: unknown[];
  switch (rule.kind) {
    case 'universal':
      return undefined;
    case 'single':
      if (column.type === 'pn') [sql, params] = personName(e, rule.value, fuzzy);
      else if (column.type === 'int') {
        const n = Number(rule.value);
        [sql, params] = Number.isInteger(n) ? [`${e} = ?`, [n]] : ['0', []];
      } else if (column.type === 'text') [sql, params] = [`${e} = ? COLLATE NOCASE`, [rule.value]];
      else [sql, params] = [`${e} = ?`, [rule.value]];
      break;
    case 'wildcard':
      if (column.type === 'pn') [sql, params] = personName(e, rule.pattern, fuzzy);
      else if (column.type === 'int') [sql, params] = [`COALESCE(CAST(${e} AS TEXT), '') LIKE ? ESCAPE '\\'`, [wildcardLike(rule.pattern)]];
      else [sql, params] = [`${e} LIKE ? ESCAPE '\\'`, [wildcardLike(rule.pattern)]];
      break;
    case 'range': {
      const parts = [`${e} <> ''`];
      params = [];
      if (rule.from !== '') {
        parts.push(`${e} >= ?`);
        params.push(rule.from);
      }
      if (rule.to !== '') {
        parts.push(`${e} <= ?`);
        params.push(rule.to);
      }
      sql = parts.join(' AND ');
      break;
    }
    case 'list':
      if (column.type === 'int') [sql, params] = [`${e} IN (SELECT value FROM json_each(?))`, [JSON.stringify(rule.values.map(Number))]];
      else if (column.type === 'text') [sql, params] = [`UPPER(${e}) IN (SELECT UPPER(value) FROM json_each(?))`, [JSON.stringify(rule.values)]];
      else [sql, params] = [`${e} IN (SELECT value FROM json_each(?))`, [JSON.stringify(rule.values)]];
      break;
  }
  if (filter.path[0] === '00080061') sql = `EXISTS (SELECT 1 FROM series m WHERE m.study_pk = s.pk AND ${sql})`; // ModalitiesInStudy
  return { sql, params };
}

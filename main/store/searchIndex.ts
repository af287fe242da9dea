/**
 * QIDO-RS search over the index (PS3.18 10.6): filters on columns become SQL
 * (searchConditions.ts; person names through the SQLite function qido_pn registered here), the
 * others are matched in JavaScript against the stored level JSON (and, for an
 * attribute not kept at that level, the first instance's dataset). No DICOM
 * file is read.
 *
 * Order of matches: studies by StudyDate, StudyTime, newest first (then the
 * order they were stored); series by SeriesNumber (series of several studies
 * grouped in study order); instances by InstanceNumber. Missing numbers last.
 *
 * The matching rows' keys are selected first, then read in pages: the
 * connection is never left busy between two pages and a big answer is never
 * held whole. Study and series matches, and the parsed attributes of study
 * and series rows, are kept and reused while nothing is written to the index
 * (a study list is asked again and again; rereading and copying its rows made
 * most of what a search allocated).
 */
import type { Statement } from 'better-sqlite3';
import type { DicomJsonDataset, DicomJsonElement } from '../dicom/types.js';
import { datasetMatches } from './datasetMatching.js';
import { personNameMatches } from './matching.js';
import { columnOf, condition } from './searchConditions.js';
import type { Db } from './schema.js';
import type { MatchFilter, SearchLevel, SearchMatch, SearchQuery } from './searchTypes.js';

const PAGE = 100;
/** Distinct search statements kept prepared (a statement is keyed by its SQL text, which depends on the filters given, not their values). */
const STATEMENTS = 64;
/** Parsed level rows kept (see ParsedRows): a few KB each, ~15 MB at most; more than a study list shows. */
const PARSED_ROWS = 4_000;

const FROM: Record<SearchLevel, string> = {
  study: 'studies s',
  series: 'series se JOIN studies s ON s.pk = se.study_pk',
  instance: 'instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk',
};

const KEY: Record<SearchLevel, string> = { study: 's.pk', series: 'se.pk', instance: 'i.pk' };

const STUDY_ORDER = 's.study_date DESC, s.study_time DESC, s.pk';
const ORDER: Record<SearchLevel, string> = {
  study: STUDY_ORDER,
  series: `${STUDY_ORDER}, se.series_number IS NULL, se.series_number, se.pk`,
  instance: `${STUDY_ORDER}, se.series_number IS NULL, se.series_number, se.pk, i.instance_number IS NULL, i.instance_number, i.pk`,
};

/** A study or series match but for its instance dataset loader. */
type LevelMatch = Omit<SearchMatch, 'instanceDataset'>;

const is = (value: number): DicomJsonElement => ({ vr: 'IS', Value: [value] });

/**
 * The parsed JSON of study and series rows, reused while a row's text is
 * unchanged: a study list asks for the same rows again and again, and parsing
 * them was the largest part of a search. Keyed by level and row. An entry
 * read or checked at the index's current generation (SearchIndex.generation:
 * nothing written since) is used without reading the row's text again;
 * otherwise the text is read and compared (so a changed row is parsed again).
 * The datasets handed out and their elements are frozen (shared: callers copy
 * before adding to them, and may keep what they derive from a frozen
 * element). Oldest entries go first when full.
 */
class ParsedRows {
  private readonly rows = new Map<string, { text: string; dataset: DicomJsonDataset; generation: string }>();

  constructor(private readonly max: number) {}

  /** The parsed row, if it was read or checked at `generation`. */
  fresh(key: string, generation: string): DicomJsonDataset | undefined {
    const hit = this.rows.get(key);
    return hit?.generation === generation ? hit.dataset : undefined;
  }

  get(key: string, text: string, generation: string): DicomJsonDataset {
    const hit = this.rows.get(key);
    if (hit?.text === text) {
      hit.generation = generation;
      return hit.dataset;
    }
    const dataset = JSON.parse(text) as DicomJsonDataset;
    for (const element of Object.values(dataset)) Object.freeze(element);
    Object.freeze(dataset);
    if (hit) this.rows.delete(key);
    else if (this.rows.size >= this.max) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(key, { text, dataset, generation });
    return dataset;
  }
}

interface StudyRow {
  pk: number;
  orthanc_id: string;
  patient_oid: string;
  study_uid: string;
  n_series: number;
  n_instances: number;
  modalities: string | null;
}
interface SeriesRow {
  pk: number;
  orthanc_id: string;
  series_uid: string;
  study_pk: number;
  study_oid: string;
  patient_oid: string;
  study_uid: string;
  n_instances: number;
}
interface InstanceRow {
  pk: number;
  orthanc_id: string;
  sop_uid: string;
  attrs: string;
  series_pk: number;
  series_oid: string;
  series_uid: string;
  study_pk: number;
  study_oid: string;
  patient_oid: string;
  study_uid: string;
}

export class SearchIndex {
  private readonly studyPage;
  private readonly seriesPage;
  private readonly instancePage;
  private readonly datasetOf;
  private readonly firstOfStudy;
  private readonly firstOfSeries;
  private readonly statements = new Map<string, Statement<unknown[], number>>();
  private readonly parsed = new ParsedRows(PARSED_ROWS);
  private readonly kept = new Map<string, { generation: string; match: LevelMatch }>();
  private readonly studyAttrs;
  private readonly seriesAttrs;
  /**
   * Changes whenever the index may have changed: rows written through this
   * connection (total_changes(), which counts the triggers' writes too) or
   * through another one (data_version).
   */
  private readonly generationOf;

  constructor(private readonly db: Db) {
    db.function('qido_pn', { deterministic: true }, (name: unknown, pattern: unknown, fuzzy: unknown) =>
      personNameMatches(String(name ?? ''), String(pattern ?? ''), fuzzy === 1) ? 1 : 0,
    );
    const inPage = 'IN (SELECT value FROM json_each(?))';
    this.studyPage = db.prepare<[string], StudyRow>(
      `SELECT s.pk, s.orthanc_id, p.orthanc_id AS patient_oid, s.study_uid,
         s.series_count AS n_series, s.instance_count AS n_instances,
         (SELECT group_concat(modality, '\\') FROM (SELECT DISTINCT modality FROM series x WHERE x.study_pk = s.pk AND modality <> '' ORDER BY modality)) AS modalities
       FROM studies s JOIN patients p ON p.pk = s.patient_pk WHERE s.pk ${inPage}`,
    );
    this.seriesPage = db.prepare<[string], SeriesRow>(
      `SELECT se.pk, se.orthanc_id, se.series_uid, s.pk AS study_pk, s.orthanc_id AS study_oid, p.orthanc_id AS patient_oid,
         s.study_uid, se.instance_count AS n_instances
       FROM series se JOIN studies s ON s.pk = se.study_pk JOIN patients p ON p.pk = s.patient_pk WHERE se.pk ${inPage}`,
    );
    this.instancePage = db.prepare<[string], InstanceRow>(
      `SELECT i.pk, i.orthanc_id, i.sop_uid, i.attrs, se.pk AS series_pk, se.orthanc_id AS series_oid, se.series_uid,
         s.pk AS study_pk, s.orthanc_id AS study_oid, p.orthanc_id AS patient_oid, s.study_uid
       FROM instances i JOIN series se ON se.pk = i.series_pk JOIN studies s ON s.pk = se.study_pk JOIN patients p ON p.pk = s.patient_pk
       WHERE i.pk ${inPage}`,
    );
    this.studyAttrs = db.prepare<[number], string>('SELECT attrs FROM studies WHERE pk = ?').pluck();
    this.seriesAttrs = db.prepare<[number], string>('SELECT attrs FROM series WHERE pk = ?').pluck();
    this.generationOf = db.prepare<[], string>("SELECT total_changes() || ':' || data_version FROM pragma_data_version").pluck();
    this.datasetOf = db.prepare<[number], string>('SELECT json FROM datasets WHERE instance_pk = ?').pluck();
    this.firstOfStudy = db
      .prepare<[number], number>('SELECT MIN(i.pk) FROM instances i JOIN series se ON se.pk = i.series_pk WHERE se.study_pk = ?')
      .pluck();
    this.firstOfSeries = db.prepare<[number], number>('SELECT MIN(pk) FROM instances WHERE series_pk = ?').pluck();
  }

  *search(query: SearchQuery): Generator<SearchMatch> {
    const { level } = query;
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.studyInstanceUID !== undefined) {
      where.push('s.study_uid = ?');
      params.push(query.studyInstanceUID);
    }
    if (query.seriesInstanceUID !== undefined && level !== 'study') {
      where.push('se.series_uid = ?');
      params.push(query.seriesInstanceUID);
    }
    const jsFilters: MatchFilter[] = [];
    for (const filter of query.filters) {
      const column = columnOf(filter, level);
      if (!column) {
        if (filter.rule.kind !== 'universal') jsFilters.push(filter);
        continue;
      }
      const c = condition(column, filter, query.fuzzy);
      if (c) {
        where.push(c.sql);
        params.push(...c.params);
      }
    }

    let sql = `SELECT ${KEY[level]} FROM ${FROM[level]}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${ORDER[level]}`;
    const pageInSql = jsFilters.length === 0;
    if (pageInSql) {
      sql += ' LIMIT ? OFFSET ?';
      params.push(query.limit ?? -1, query.offset);
    }
    const keys = this.statement(sql).all(...params);

    let toSkip = pageInSql ? 0 : query.offset;
    let toTake = pageInSql ? Number.POSITIVE_INFINITY : (query.limit ?? Number.POSITIVE_INFINITY);
    if (toTake <= 0) return;
    for (let start = 0; start < keys.length; start += PAGE) {
      for (const match of this.page(level, keys.slice(start, start + PAGE))) {
        if (jsFilters.length > 0 && !this.matchesInJs(match, jsFilters, query.fuzzy)) continue;
        if (toSkip > 0) {
          toSkip--;
          continue;
        }
        yield match;
        if (--toTake <= 0) return;
      }
    }
  }

  private statement(sql: string): Statement<unknown[], number> {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      statement = this.db.prepare<unknown[], number>(sql).pluck();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private matchesInJs(match: SearchMatch, filters: MatchFilter[], fuzzy: boolean): boolean {
    let full: DicomJsonDataset | undefined;
    for (const filter of filters) {
      const own = match.dataset[filter.path[0]!] !== undefined;
      const ds = own ? match.dataset : (full ??= match.instanceDataset());
      if (!datasetMatches(ds, filter, fuzzy)) return false;
    }
    return true;
  }

  private instanceDatasetLoader(instancePk: () => number | null): () => DicomJsonDataset {
    let cached: DicomJsonDataset | undefined;
    return () => {
      if (!cached) {
        const pk = instancePk();
        const json = pk === null ? undefined : this.datasetOf.get(pk);
        cached = json === undefined ? {} : (JSON.parse(json) as DicomJsonDataset);
      }
      return cached;
    };
  }

  /**
   * A study's or series' parsed attributes: kept ones when nothing was written
   * since they were read or checked, else its stored text read (and parsed if
   * it changed). A study list asked again reads no attribute text.
   */
  private levelAttrs(kind: 's' | 'se', pk: number, generation: string): DicomJsonDataset {
    const key = `${kind}${pk}`;
    const fresh = this.parsed.fresh(key, generation);
    if (fresh) return fresh;
    const text = (kind === 's' ? this.studyAttrs : this.seriesAttrs).get(pk) ?? '{}';
    return this.parsed.get(key, text, generation);
  }

  /**
   * Kept study or series matches (everything but the instance dataset loader),
   * reused while nothing is written to the index: a study list asked again
   * reads no row. Frozen: shared between searches.
   */
  private keep(level: 'study' | 'series', pk: number, generation: string, match: LevelMatch): LevelMatch {
    const key = `${level}${pk}`;
    if (!this.kept.has(key) && this.kept.size >= PARSED_ROWS) this.kept.delete(this.kept.keys().next().value!);
    Object.freeze(match.ids);
    for (const element of Object.values(match.dataset)) Object.freeze(element); // the computed ones (the rest already are)
    Object.freeze(match.dataset);
    this.kept.set(key, { generation, match: Object.freeze(match) });
    return match;
  }

  /** The page's matches if every one was kept at `generation`, else undefined. */
  private keptPage(level: 'study' | 'series', keys: number[], generation: string): SearchMatch[] | undefined {
    const out: SearchMatch[] = new Array(keys.length);
    for (let n = 0; n < keys.length; n++) {
      const hit = this.kept.get(`${level}${keys[n]}`);
      if (hit?.generation !== generation) return undefined;
      out[n] = this.withLoader(level, keys[n]!, hit.match);
    }
    return out;
  }

  private withLoader(level: 'study' | 'series', pk: number, match: LevelMatch): SearchMatch {
    const first = level === 'study' ? this.firstOfStudy : this.firstOfSeries;
    return { ...match, instanceDataset: this.instanceDatasetLoader(() => first.get(pk) ?? null) };
  }

  /** Reads one page of matches, in the order of `keys`. */
  private page(level: SearchLevel, keys: number[]): SearchMatch[] {
    const generation = this.generationOf.get()!;
    const study = (pk: number) => this.levelAttrs('s', pk, generation);
    const series = (pk: number) => this.levelAttrs('se', pk, generation);
    if (level !== 'instance') {
      const kept = this.keptPage(level, keys, generation);
      if (kept) return kept;
    }
    const json = JSON.stringify(keys);
    const order = new Map(keys.map((k, n) => [k, n]));
    const out: SearchMatch[] = new Array(keys.length);
    if (level === 'study') {
      for (const row of this.studyPage.all(json)) {
        const dataset = { ...study(row.pk) };
        if (row.modalities) dataset['00080061'] = { vr: 'CS', Value: row.modalities.split('\\') }; // ModalitiesInStudy
        dataset['00201206'] = is(row.n_series); // NumberOfStudyRelatedSeries
        dataset['00201208'] = is(row.n_instances); // NumberOfStudyRelatedInstances
        const match = { ids: { patient: row.patient_oid, study: row.orthanc_id }, studyInstanceUID: row.study_uid, dataset };
        out[order.get(row.pk)!] = this.withLoader('study', row.pk, this.keep('study', row.pk, generation, match));
      }
    } else if (level === 'series') {
      for (const row of this.seriesPage.all(json)) {
        const dataset = { ...study(row.study_pk), ...series(row.pk) };
        dataset['00201209'] = is(row.n_instances); // NumberOfSeriesRelatedInstances
        const match = {
          ids: { patient: row.patient_oid, study: row.study_oid, series: row.orthanc_id },
          studyInstanceUID: row.study_uid,
          seriesInstanceUID: row.series_uid,
          dataset,
        };
        out[order.get(row.pk)!] = this.withLoader('series', row.pk, this.keep('series', row.pk, generation, match));
      }
    } else {
      for (const row of this.instancePage.all(json)) {
        const dataset = {
          ...study(row.study_pk),
          ...series(row.series_pk),
          ...(JSON.parse(row.attrs) as DicomJsonDataset),
        };
        out[order.get(row.pk)!] = {
          ids: { patient: row.patient_oid, study: row.study_oid, series: row.series_oid, instance: row.orthanc_id },
          studyInstanceUID: row.study_uid,
          seriesInstanceUID: row.series_uid,
          sopInstanceUID: row.sop_uid,
          dataset,
          instanceDataset: this.instanceDatasetLoader(() => row.pk),
        };
      }
    }
    return out.filter((m) => m !== undefined); // rows deleted between the two reads are gone
  }
}

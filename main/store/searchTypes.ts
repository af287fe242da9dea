/**
 * The store's search contract, used by QIDO-RS (PS3.18 10.6) and free of HTTP:
 * a level, an optional study/series scope, match filters already parsed and
 * validated (PS3.4 C.2.2.2 matching kinds), paging. Matches come back as DICOM
 * JSON datasets read from the index.

 */
import type { DicomJsonDataset } from '../dicom/types.js';

/** How one attribute is matched (PS3.4 C.2.2.2). Bounds and values are in canonical form (see matching.ts). */
export type MatchRule =
  /** Empty value: no constraint, the attribute is returned. */
  | { kind: 'universal' }
  /** Exact value (PN: case-insensitive, per name component too). */
  | { kind: 'single'; value: string }
  /** `*` and `?` wildcards. */
  | { kind: 'wildcard'; pattern: string }
  /** Inclusive range of canonical dates/times; '' means open. */
  | { kind: 'range'; from: string; to: string }
  /** Any of these values (UID list matching, lists of codes). */
  | { kind: 'list'; values: string[] };

export interface MatchFilter {
  /** One tag, or sequence tags down to the matched tag (`00400275.00321060`). */
  path: string[];
  /** VR of the matched (last) tag. */
  vr: string;
  rule: MatchRule;
}

export type SearchLevel = 'study' | 'series' | 'instance';

export interface SearchQuery {
  level: SearchLevel;
  /** Scope from the URL: /studies/{study}/series, /studies/{study}/series/{series}/instances… */
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  filters: MatchFilter[];
  /** Fuzzy person-name matching: each query word matches the start of a name component. */
  fuzzy: boolean;
  /** Maximum matches; undefined for all. */
  limit?: number;
  offset: number;
}

export interface SearchMatch {
  /** Orthanc IDs of the matched resource and its parents. */
  ids: { patient: string; study: string; series?: string; instance?: string };
  studyInstanceUID: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  /**
   * The attributes the index keeps at this level and above (study: patient +
   * study; series: + series; instance: + instance summary), lower levels
   * winning, plus the computed ones: ModalitiesInStudy, NumberOfStudyRelatedSeries,
   * NumberOfStudyRelatedInstances (study), NumberOfSeriesRelatedInstances (series).
   */
  dataset: DicomJsonDataset;
  /**
   * The full stored dataset of the instance (instance level) or of the first
   * instance stored of the study/series, read from the index when called;
   * bulk data URIs start with INSTANCE_URL_TOKEN.
   */
  instanceDataset(): DicomJsonDataset;
}
